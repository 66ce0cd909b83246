package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// scorer micro-batches /v1/score requests: each worker owns a native
// session, takes a request from the queue and the others waiting behind
// it (up to maxBatch rows), scores them in one call and hands each request
// its rows back.
type scorer struct {
	m        *score.Model
	queue    chan *job
	maxBatch int
	met      *metrics
	wg       sync.WaitGroup
	once     sync.Once
}

// job is one request's rows, column by column (in m.Inputs order).
type job struct {
	n    int
	str  [][]string
	num  [][]float32
	done chan jobResult
}

type jobResult struct {
	ltv, ev [][]float32 // [row][horizon]
	err     error
}

func newScorer(m *score.Model, workers, maxBatch int, met *metrics) (*scorer, error) {
	s := &scorer{m: m, queue: make(chan *job, 4*workers), maxBatch: maxBatch, met: met}
	var sessions []runtime.Session
	for i := 0; i < workers; i++ {
		sess, err := m.Session(score.Native, score.SessionOptions{})
		if err != nil {
			for _, x := range sessions {
				x.Close()
			}
			return nil, err
		}
		sessions = append(sessions, sess)
	}
	for _, sess := range sessions {
		s.wg.Add(1)
		go s.work(sess)
	}
	return s, nil
}

func (s *scorer) close() {
	s.once.Do(func() {
		close(s.queue)
		s.wg.Wait()
	})
}

func (s *scorer) work(sess runtime.Session) {
	defer s.wg.Done()
	defer sess.Close()
	for j := range s.queue {
		batch := []*job{j}
		rows := j.n
	drain:
		for rows < s.maxBatch {
			select {
			case k, ok := <-s.queue:
				if !ok {
					break drain
				}
				batch = append(batch, k)
				rows += k.n
			default:
				break drain
			}
		}
		s.run(sess, batch, rows)
	}
}

func (s *scorer) run(sess runtime.Session, batch []*job, rows int) {
	s.met.batchRows.Observe(float64(rows))
	feed := make(map[string]*graph.Tensor, len(s.m.Inputs))
	for i, in := range s.m.Inputs {
		if in.Type == "string" {
			col := make([]string, 0, rows)
			for _, j := range batch {
				col = append(col, j.str[i]...)
			}
			feed[in.Name] = graph.Strings([]int{rows}, col)
		} else {
			col := make([]float32, 0, rows)
			for _, j := range batch {
				col = append(col, j.num[i]...)
			}
			feed[in.Name] = graph.F32([]int{rows}, col)
		}
	}
	out, err := sess.Run(feed, train.OutLTV, train.OutLTVEV)
	var ltv, ev *graph.Tensor
	if err == nil {
		ltv, ev = out[train.OutLTV], out[train.OutLTVEV]
		if ltv == nil || ev == nil || len(ltv.Shape) != 2 || ltv.Shape[0] != rows || !graph.SameShape(ltv.Shape, ev.Shape) || ltv.DType != graph.Float32 || ev.DType != graph.Float32 {
			err = fmt.Errorf("model outputs ltv %v, ltv_ev %v; want float32 [%d, T]", ltv, ev, rows)
		}
	}
	off := 0
	for _, j := range batch {
		var r jobResult
		if err != nil {
			r.err = err
		} else {
			t := ltv.Shape[1]
			for k := 0; k < j.n; k++ {
				i := off + k
				r.ltv = append(r.ltv, ltv.F[i*t:(i+1)*t:(i+1)*t])
				r.ev = append(r.ev, ev.F[i*t:(i+1)*t:(i+1)*t])
			}
		}
		off += j.n
		j.done <- r
	}
}

// badRequest is a client error whose message names the field.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func bad(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// parseRows reads {"rows": [{...}, ...]} as a stream, so that a body of
// many rows fails at maxRows+1 without being held whole.
func (s *scorer) parseRows(r io.Reader, maxRows int) (*job, error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	expect := func(want json.Delim, what string) error {
		t, err := d.Token()
		if err != nil {
			return bad("body: %v", err)
		}
		if t != want {
			return bad("body: want %s, got %v", what, t)
		}
		return nil
	}
	if err := expect('{', `an object {"rows": [...]}`); err != nil {
		return nil, err
	}
	j := &job{str: make([][]string, len(s.m.Inputs)), num: make([][]float32, len(s.m.Inputs))}
	index := make(map[string]int, len(s.m.Inputs))
	for i, in := range s.m.Inputs {
		index[in.Name] = i
	}
	sawRows := false
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, bad("body: %v", err)
		}
		if key, _ := t.(string); key != "rows" {
			return nil, bad("body: unknown field %q (want rows)", t)
		}
		if sawRows {
			return nil, bad("body: rows given twice")
		}
		sawRows = true
		if err := expect('[', "rows to be an array"); err != nil {
			return nil, err
		}
		for d.More() {
			if j.n == maxRows {
				return nil, bad("rows: more than %d rows; send them in several requests", maxRows)
			}
			var row map[string]json.RawMessage
			if err := d.Decode(&row); err != nil {
				return nil, bad("rows[%d]: %v", j.n, err)
			}
			if row == nil {
				return nil, bad("rows[%d]: want an object of features", j.n)
			}
			for k := range row {
				if _, ok := index[k]; !ok {
					return nil, bad("rows[%d].%s: unknown field (inputs: %s)", j.n, k, inputList(s.m.Inputs))
				}
			}
			for i, in := range s.m.Inputs {
				raw, ok := row[in.Name]
				if !ok {
					return nil, bad("rows[%d]: missing field %q", j.n, in.Name)
				}
				if in.Type == "string" {
					var v string
					if err := json.Unmarshal(raw, &v); err != nil {
						return nil, bad("rows[%d].%s: want a string, got %s", j.n, in.Name, abbrev(raw))
					}
					j.str[i] = append(j.str[i], v)
					continue
				}
				v, err := parseNumber(raw)
				if err != nil {
					return nil, bad("rows[%d].%s: %v", j.n, in.Name, err)
				}
				j.num[i] = append(j.num[i], v)
			}
			j.n++
		}
		if err := expect(']', "the end of rows"); err != nil {
			return nil, err
		}
	}
	if err := expect('}', "the end of the body"); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, bad("body: data after the object")
	}
	if j.n == 0 {
		return nil, bad("rows: no rows")
	}
	return j, nil
}

// parseNumber reads a numeric feature: a JSON number within float32's
// range, or null for a missing value (NaN, as the file readers give).
func parseNumber(raw json.RawMessage) (float32, error) {
	s := strings.TrimSpace(string(raw))
	if s == "null" {
		return float32(math.NaN()), nil
	}
	if len(s) == 0 || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, fmt.Errorf("want a number or null, got %s", abbrev(raw))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("number %s out of float32 range", abbrev(raw))
	}
	return float32(f), nil
}

func abbrev(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}

func inputList(ins []train.InputSpec) string {
	names := make([]string, len(ins))
	for i, in := range ins {
		names[i] = in.Name
	}
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + fmt.Sprintf(", ... (%d)", len(names))
	}
	return strings.Join(names, ", ")
}

func (s *Server) postScore(w http.ResponseWriter, r *http.Request) {
	if s.scorer == nil {
		writeError(w, http.StatusNotFound, "no model loaded: start serve with --model to score rows")
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	j, err := s.scorer.parseRows(body, s.cfg.MaxRows)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || strings.Contains(err.Error(), "request body too large") {
			writeError(w, http.StatusRequestEntityTooLarge, "body: larger than %d bytes", s.cfg.MaxBodyBytes)
			return
		}
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	j.done = make(chan jobResult, 1)
	select {
	case s.scorer.queue <- j:
	case <-r.Context().Done():
		return
	}
	res := <-j.done
	if res.err != nil {
		writeError(w, http.StatusInternalServerError, "scoring: %v", res.err)
		return
	}
	names := s.cfg.Model.HorizonNames(len(res.ltv[0]))
	out := struct {
		Results []Result `json:"results"`
	}{Results: make([]Result, j.n)}
	for i := range out.Results {
		out.Results[i].Horizons = horizons(names, cacheScores(res.ltv[i], res.ev[i]))
	}
	writeJSON(w, http.StatusOK, out)
}
