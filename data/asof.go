package data

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// CopyStats describe a CopyTransactions run.
type CopyStats struct {
	Files   int   // logs read
	Rows    int64 // transactions read
	Kept    int64 // transactions dated on or before the cut-off
	Later   int64 // transactions dated after it (left out)
	LastDay time.Time
}

// CopyTransactions writes the transactions of the logs ins that are dated
// on or before through to w, as one comma-separated log that
// BuildFromTransactions reads with the column names of o (customer, time,
// value and, if o.Count is set, count) and the dates written as
// YYYY-MM-DD. Every log is read with the rules of BuildFromTransactions
// (separator from the header, o.DateFormat or the detected format, values
// checked), so a bad row is reported with its file and line. Values and
// counts are copied as written, which keeps the decimals
// BuildFromTransactions rounds to.
//
// It lets a daily job see the log as it stood on a given day: the rows of
// later days are left out even when the files already hold them.
func CopyTransactions(w io.Writer, o BuildOptions, ins []string, through time.Time) (CopyStats, error) {
	var st CopyStats
	if o.In == "" && len(ins) > 0 {
		o.In = ins[0]
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Horizons == nil {
		o.Horizons = DefaultHorizons
	}
	if err := o.check(); err != nil {
		return st, err
	}
	cols := []string{o.Customer, o.Time, o.Value}
	if o.Count != "" {
		cols = append(cols, o.Count)
	}
	y, m, d := through.Date()
	cut := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return st, err
	}
	out := make([]string, len(cols))
	last := int64(-1 << 62)
	for _, in := range ins {
		lr, err := openLog(in, cols)
		if err != nil {
			return st, err
		}
		st.Files++
		dp := dateParser{layout: o.DateFormat}
		if dp.layout != "" {
			dp.kind = dateCustom
		}
		var d1, d2 int
		for {
			rec, line, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				lr.close()
				return st, err
			}
			tx, err := lr.parse(rec, line, &dp, &d1, &d2)
			if err != nil {
				lr.close()
				return st, err
			}
			st.Rows++
			if tx.day > cut {
				st.Later++
				continue
			}
			st.Kept++
			last = max(last, tx.day)
			out[0] = tx.id
			out[1] = dayTime(tx.day).Format("2006-01-02")
			for k := 2; k < len(cols); k++ {
				out[k] = rec[lr.idx[k]]
			}
			if err := cw.Write(out); err != nil {
				lr.close()
				return st, err
			}
		}
		lr.close()
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, err
	}
	if st.Kept == 0 {
		return st, fmt.Errorf("%d logs (%d transactions): none dated on or before %s", st.Files, st.Rows, through.Format("2006-01-02"))
	}
	st.LastDay = dayTime(last)
	return st, nil
}
