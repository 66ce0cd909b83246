package score_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"

	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// Score a table with an exported model: here the golden ODMN file of
// fixtures/golden and its 300 input rows (raw feature columns, as odmn
// export's input contract names them). The output has the id column, then
// the point decode ltv_<h> and the expected value ltv_ev_<h> per horizon.
func ExampleFile() {
	dir, err := os.MkdirTemp("", "score-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	golden := filepath.Join("..", "fixtures", "golden")

	m, err := score.Load(filepath.Join(golden, "golden.onnx"), train.InferOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	out := filepath.Join(dir, "scores.csv")
	st, err := score.File(context.Background(), m, filepath.Join(golden, "inputs.csv"), out, score.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("horizons", m.Horizons)
	fmt.Println("scored", st.Scored, "rows")

	f, err := os.Open(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	header, err := csv.NewReader(f).Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(header)
	// Output:
	// horizons [30 90 180 365]
	// scored 300 rows
	// [user_id ltv_30 ltv_90 ltv_180 ltv_365 ltv_ev_30 ltv_ev_90 ltv_ev_180 ltv_ev_365]
}
