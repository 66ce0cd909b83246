package score

import (
	"fmt"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/train"
)

// Feeder turns table rows into a raw-feature model's input tensors,
// reusing its buffers from call to call: strings are passed as they are
// (no copy when every row is fed), numbers are rounded to float32 (NaN,
// the readers' missing value, stays NaN).
type Feeder struct {
	ins      []train.InputSpec
	ts       []*graph.Tensor
	borrowed []bool // ts[i].S is a table's column, not the feeder's buffer
	feed     map[string]*graph.Tensor
}

// NewFeeder prepares a feeder for the inputs.
func NewFeeder(ins []train.InputSpec) *Feeder {
	f := &Feeder{ins: ins, feed: make(map[string]*graph.Tensor, len(ins)), borrowed: make([]bool, len(ins))}
	for _, in := range ins {
		t := &graph.Tensor{}
		f.ts = append(f.ts, t)
		f.feed[in.Name] = t
	}
	return f
}

// Columns lists the columns to read, in input order, with the kind each is
// read as.
func (f *Feeder) Columns() []data.ColumnRequest {
	out := make([]data.ColumnRequest, len(f.ins))
	for i, in := range f.ins {
		k := data.Float
		if in.Type == "string" {
			k = data.String
		}
		out[i] = data.ColumnRequest{Name: in.Name, Kind: k}
	}
	return out
}

// Feed fills the inputs from rows of t (every row when rows is nil). The
// returned map and its tensors are reused by the next call.
func (f *Feeder) Feed(t *data.Table, rows []int) (map[string]*graph.Tensor, error) {
	n := t.Rows()
	if rows != nil {
		n = len(rows)
	}
	for i, in := range f.ins {
		j := t.Col(in.Name)
		if j < 0 {
			return nil, fmt.Errorf("the data has no column %q", in.Name)
		}
		x := f.ts[i]
		switch {
		case in.Type == "string" && t.Kinds[j] == data.String:
			col := t.Str[j]
			if rows == nil {
				x.DType, x.Shape, x.S = graph.String, append(x.Shape[:0], n), col
				f.borrowed[i] = true
				continue
			}
			if f.borrowed[i] {
				x.S, f.borrowed[i] = nil, false // never write into a table's column
			}
			x.Reset(graph.String, []int{n})
			for k, r := range rows {
				x.S[k] = col[r]
			}
		case in.Type == "float32" && t.Kinds[j] == data.Float:
			col := t.Num[j]
			x.Reset(graph.Float32, []int{n})
			if rows == nil {
				for k, v := range col {
					x.F[k] = float32(v)
				}
				continue
			}
			for k, r := range rows {
				x.F[k] = float32(col[r])
			}
		default:
			return nil, fmt.Errorf("column %q is read as %s, the model wants %s", in.Name, t.Kinds[j], in.Type)
		}
	}
	return f.feed, nil
}
