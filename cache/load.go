package cache

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/odmn/odmn/data"
)

// LoadOptions tune LoadFiles.
type LoadOptions struct {
	Name, Version string
	// IDColumn is the user column; "" means the files' first column (where
	// odmn score writes the id).
	IDColumn string
	// Source is recorded with the version.
	Source string
	// BucketUsers: see BeginOptions.
	BucketUsers int
	// Progress, when set, receives a progress bar.
	Progress io.Writer
	// MeasureMemory records the servers' used_memory (INFO memory) before
	// and after, for BytesPerUser.
	MeasureMemory bool
}

// LoadStats summarize a load.
type LoadStats struct {
	Files    int           `json:"files"`
	Rows     int64         `json:"rows"`
	Horizons []string      `json:"horizons"`
	Version  *Version      `json:"version"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	// MemoryBefore and MemoryAfter are used_memory summed over the
	// servers (with MeasureMemory).
	MemoryBefore int64 `json:"memory_before,omitempty"`
	MemoryAfter  int64 `json:"memory_after,omitempty"`
}

// BytesPerUser is the memory the load added per user (0 without
// MeasureMemory). Other clients writing meanwhile would count too.
func (s *LoadStats) BytesPerUser() float64 {
	if s.MemoryAfter == 0 || s.Rows == 0 {
		return 0
	}
	return float64(s.MemoryAfter-s.MemoryBefore) / float64(s.Rows)
}

// ScoreHorizons finds the horizons of a score file's columns: every h with
// both ltv_<h> and ltv_ev_<h>, in column order.
func ScoreHorizons(cols []string) []string {
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	var hs []string
	for _, c := range cols {
		if h, ok := strings.CutPrefix(c, "ltv_"); ok && !strings.HasPrefix(h, "ev_") && have["ltv_ev_"+h] {
			hs = append(hs, h)
		}
	}
	return hs
}

// LoadFiles loads score files (CSV or Parquet, the columns odmn score
// writes) into a new version and finishes it. It does not switch. A
// version left loading by a killed run is reloaded from scratch; a
// complete one is refused with ErrComplete.
func LoadFiles(ctx context.Context, c *Cache, files []string, opts LoadOptions) (*LoadStats, error) {
	t0 := time.Now()
	if len(files) == 0 {
		return nil, fmt.Errorf("no score files")
	}
	cols0, err := data.FileColumns(files[0])
	if err != nil {
		return nil, err
	}
	id := opts.IDColumn
	if id == "" {
		id = cols0[0]
	}
	hs := ScoreHorizons(cols0)
	if len(hs) == 0 {
		return nil, fmt.Errorf("%s: no ltv_<h> and ltv_ev_<h> columns (columns: %s)", files[0], strings.Join(cols0, ", "))
	}
	req := []data.ColumnRequest{{Name: id, Kind: data.String}}
	for _, h := range hs {
		req = append(req, data.ColumnRequest{Name: "ltv_" + h, Kind: data.Float})
	}
	for _, h := range hs {
		req = append(req, data.ColumnRequest{Name: "ltv_ev_" + h, Kind: data.Float})
	}
	var expected int64
	for _, f := range files {
		cols, err := data.FileColumns(f)
		if err != nil {
			return nil, err
		}
		if got := ScoreHorizons(cols); strings.Join(got, ",") != strings.Join(hs, ",") {
			return nil, fmt.Errorf("%s: horizons %v, but %s has %v", f, got, files[0], hs)
		}
		n, err := data.CountRows(f)
		if err != nil {
			return nil, err
		}
		expected += int64(n)
	}
	st := &LoadStats{Files: len(files), Horizons: hs}
	if opts.MeasureMemory {
		if st.MemoryBefore, err = c.MemoryUsed(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := c.Begin(ctx, opts.Name, opts.Version, BeginOptions{
		Horizons: hs, Expected: expected, Source: opts.Source, BucketUsers: opts.BucketUsers,
	}); err != nil {
		return nil, err
	}
	w, err := c.Writer(ctx, opts.Name, opts.Version)
	if err != nil {
		return nil, err
	}
	var bar *progressbar.ProgressBar
	if opts.Progress != nil {
		bar = progressbar.NewOptions64(expected,
			progressbar.OptionSetWriter(opts.Progress),
			progressbar.OptionSetDescription("loading"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("users"),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		defer bar.Finish()
	}
	H := len(hs)
	ltv, ev := make([]float32, H), make([]float32, H)
	for _, f := range files {
		r, err := data.OpenReader(f, req, data.ChunkRows(DefaultFlushRows))
		if err != nil {
			return nil, err
		}
		for {
			t, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return nil, err
			}
			ids := t.Str[0]
			for i := range ids {
				if ids[i] == "" {
					r.Close()
					return nil, &data.Error{File: f, Pos: r.Pos(i), Column: id, Msg: "empty user id"}
				}
				for j := 0; j < H; j++ {
					ltv[j] = float32(t.Num[1+j][i])
					ev[j] = float32(t.Num[1+H+j][i])
				}
				if err := w.Put(ctx, ids[i], ltv, ev); err != nil {
					r.Close()
					return nil, err
				}
			}
			st.Rows += int64(len(ids))
			if bar != nil {
				_ = bar.Set64(st.Rows)
			}
		}
		r.Close()
	}
	if err := w.Flush(ctx); err != nil {
		return nil, err
	}
	v, err := c.Finish(ctx, opts.Name, opts.Version, expected)
	if err != nil {
		return nil, err
	}
	st.Version = v
	st.Elapsed = time.Since(t0)
	if opts.MeasureMemory {
		if st.MemoryAfter, err = c.MemoryUsed(ctx); err != nil {
			return nil, err
		}
	}
	return st, nil
}
