package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deadPID is the id of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.csv")
	dead := deadPID(t)
	gone := []string{
		fmt.Sprintf(".out.csv.tmp-%d-a", dead),
		fmt.Sprintf(".out.csv.old-%d-b", dead),
	}
	kept := []string{
		fmt.Sprintf(".out.csv.tmp-%d-c", os.Getpid()),  // this process
		fmt.Sprintf(".out.csv.tmp-%d-d", os.Getppid()), // a running one
		fmt.Sprintf(".other.csv.tmp-%d-e", dead),       // another target
		".out.csv.tmp-notapid",
	}
	for _, n := range append(append([]string{}, gone...), kept...) {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	CleanStale(target)
	for _, n := range gone {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s kept", n)
		}
	}
	for _, n := range kept {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed", n)
		}
	}
}

func TestWriteLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("broke")
	})
	if err == nil || !strings.Contains(err.Error(), "broke") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("target changed to %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) > 0 {
		t.Errorf("left %v", m)
	}
}

func TestDirCommitReplaces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "model")
	for _, content := range []string{"one", "two"} {
		d, err := MkdirTemp(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d.Path, "x"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "x")); string(b) != content {
			t.Errorf("x = %q, want %q", b, content)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*")); len(m) > 0 {
		t.Errorf("left %v", m)
	}
	d, err := MkdirTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, werr := os.ReadFile(filepath.Join(d.Path, "missing"))
	if err := d.Wrap(werr); !strings.Contains(err.Error(), filepath.Join(dir, "missing")) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("wrapped error %q", err)
	}
	d.Abort()
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sym, hard := filepath.Join(dir, "sym.csv"), filepath.Join(dir, "hard.csv")
	if err := os.Symlink("in.csv", sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	symDir := filepath.Join(dir, "linkdir")
	if err := os.Symlink(".", symDir); err != nil {
		t.Fatal(err)
	}
	arg := func(p string) Arg { return Arg{Flag: "--x", Path: p} }
	for _, c := range []struct {
		out   string
		isDir bool
		bad   bool
	}{
		{in, false, true},
		{sym, false, true},
		{hard, false, true},
		{filepath.Join(dir, "new.csv"), false, false},
		{dir, true, true},    // in.csv is inside
		{symDir, true, true}, // the same, through a link
		{filepath.Join(dir, "model"), true, false},
		{filepath.Join(dir, "in"), true, false}, // a name prefix is not a parent
	} {
		err := CheckOutput(arg(c.out), c.isDir, arg(in))
		if (err != nil) != c.bad {
			t.Errorf("CheckOutput(%s, dir %v) = %v, want refused %v", c.out, c.isDir, err, c.bad)
		}
	}
}
