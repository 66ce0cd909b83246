package cache_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odmn/odmn/cache"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/redistest"
)

func TestLoadFiles(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := open(t, s.URL())
	dir := t.TempDir()
	a := filepath.Join(dir, "s-0.csv")
	b := filepath.Join(dir, "s-1.csv")
	os.WriteFile(a, []byte("user_id,ltv_7,ltv_30,ltv_ev_7,ltv_ev_30\nu1,1,2,1.5,2.5\nu2,0,0,0.25,0.5\n"), 0o644)
	os.WriteFile(b, []byte("user_id,ltv_7,ltv_30,ltv_ev_7,ltv_ev_30\nu3,3,4,3.5,4.5\n"), 0o644)
	files, err := data.ExpandGlobs([]string{filepath.Join(dir, "s-*.csv")})
	if err != nil || len(files) != 2 {
		t.Fatal(files, err)
	}
	ctx := context.Background()
	st, err := cache.LoadFiles(ctx, c, files, cache.LoadOptions{Name: "m", Version: "v1", MeasureMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 3 || strings.Join(st.Horizons, ",") != "7,30" || !st.Version.Complete() || st.BytesPerUser() <= 0 {
		t.Fatalf("stats %+v", st)
	}
	sc, found, err := c.Get(ctx, st.Version, []string{"u2", "u3"})
	if err != nil || !found[0] || !found[1] || sc[0].LTVEV[1] != 0.5 || sc[0].LTV[0] != 0 || sc[1].LTV[1] != 4 {
		t.Fatalf("%v %v %v", sc, found, err)
	}
	if _, err := cache.LoadFiles(ctx, c, files, cache.LoadOptions{Name: "m", Version: "v1"}); !errors.Is(err, cache.ErrComplete) {
		t.Fatalf("second load: %v", err)
	}
	// A duplicate user leaves the version incomplete: 2 distinct of 3 rows.
	d := filepath.Join(dir, "dup.csv")
	os.WriteFile(d, []byte("user_id,ltv_7,ltv_ev_7\nu1,1,1\nu1,2,2\nu2,0,0\n"), 0o644)
	if _, err := cache.LoadFiles(ctx, c, []string{d}, cache.LoadOptions{Name: "m", Version: "v2"}); err == nil || !strings.Contains(err.Error(), "2 users written, 3 expected") {
		t.Fatalf("duplicate users: %v", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("user_id,score\nu1,1\n"), 0o644)
	if _, err := cache.LoadFiles(ctx, c, []string{bad}, cache.LoadOptions{Name: "m", Version: "v3"}); err == nil || !strings.Contains(err.Error(), "bad.csv") {
		t.Fatalf("no score columns: %v", err)
	}
	if _, err := data.ExpandGlobs([]string{filepath.Join(dir, "none-*.csv")}); err == nil {
		t.Fatal("empty glob accepted")
	}
}
