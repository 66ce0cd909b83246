package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/odmn/odmn/train"
)

// The classes of bad input and interruption odmn handles, one test each.
// Every class here failed before it was handled: the list is the contract.
var badInputClasses = []struct {
	name string
	test func(t *testing.T, fx *badInputFixture)
}{
	{"SIGTERM during train keeps and names the checkpoint", testSIGTERMTrain},
	{"SIGTERM during gen and score removes the temporary file", testSIGTERMWriters},
	{"leftovers of a kill -9 run are removed by the next run", testKilledLeftovers},
	{"the checkpoint is named only when this run wrote it", testCheckpointMessage},
	{"an output that is an input is refused", testOutputIsInput},
	{"directories 0755 and files 0644 under the umask", testModes},
	{"every missing part of a model directory is named", testModelDirParts},
	{"errors name the user's path, not the temporary one", testUserPathInErrors},
	{"compare validates before creating anything", testCompareValidatesFirst},
}

func TestBadInput(t *testing.T) {
	fx := newBadInputFixture(t)
	for _, c := range badInputClasses {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) { c.test(t, fx) })
	}
}

// childEnv makes this test binary run odmn's main with the arguments it
// holds (separated by \x1f): TestMain below.
const childEnv = "ODMN_BADINPUT_MAIN"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Args = append([]string{"odmn"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// badInputFixture is shared by the classes: a small user table and a model
// trained on it.
type badInputFixture struct {
	dir         string
	users, spec string
	model       string
}

func newBadInputFixture(t *testing.T) *badInputFixture {
	t.Helper()
	fx := &badInputFixture{dir: t.TempDir()}
	fx.users, fx.spec = smallTable(t, 2000)
	fx.model = filepath.Join(fx.dir, "model")
	if _, err := runOdmn(t, "train", "--data", fx.users, "--out", fx.model, "--epochs", "1",
		"--bottom", "16", "--tower", "8", "--batch", "256", "-q"); err != nil {
		t.Fatal(err)
	}
	return fx
}

// runOdmn runs the CLI in this process and returns its standard output.
func runOdmn(t *testing.T, args ...string) (string, error) {
	return odmnCtx(context.Background(), t, args...)
}

func odmnCtx(ctx context.Context, t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// child is odmn run as its own process (this test binary through TestMain),
// so that it can be signalled.
type child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

func startOdmn(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// waitUntil polls cond until it holds; it fails the test if the child ends
// first or a minute passes.
func (c *child) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case <-c.done:
			t.Fatalf("odmn ended (%v) before %s:\n%s", c.err, what, c.stderr.String())
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after a minute", what)
		}
	}
}

// exit waits for the child and returns its exit status.
func (c *child) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		t.Fatal("odmn did not stop within a minute of the signal")
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	return 0
}

// leftovers lists the temporary files and directories in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{".*.tmp-*", ".*.old-*"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	return out
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func testSIGTERMTrain(t *testing.T, fx *badInputFixture) {
	dir := t.TempDir()
	out := filepath.Join(dir, "model")
	ckpt := out + ".checkpoint"
	c := startOdmn(t, "train", "--data", fx.users, "--out", out, "--epochs", "100000", "--patience", "0",
		"--bottom", "16", "--tower", "8", "--batch", "256", "-q")
	c.waitUntil(t, "a checkpoint", func() bool { return exists(filepath.Join(ckpt, train.ModelFile)) })
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.exit(t); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit status %d, want %d", code, 128+int(syscall.SIGTERM))
	}
	msg := c.stderr.String()
	if !strings.Contains(msg, "interrupted (SIGTERM)") || !strings.Contains(msg, ckpt) {
		t.Errorf("message %q does not say SIGTERM and name %s", msg, ckpt)
	}
	if _, err := train.LoadBundle(ckpt); err != nil {
		t.Errorf("checkpoint: %v", err)
	}
	if exists(out) {
		t.Error("a model directory was written after SIGTERM")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func testSIGTERMWriters(t *testing.T, fx *badInputFixture) {
	dir := t.TempDir()
	big, _ := smallTable(t, 5000) // about 2 s to score one row at a time
	for _, tc := range []struct {
		name string
		out  string
		args []string
	}{
		{"gen", filepath.Join(dir, "gen.csv"), []string{"gen", "--users", "100000000", "--out", filepath.Join(dir, "gen.csv"), "-q"}},
		{"score", filepath.Join(dir, "scores.csv"), []string{"score", "--model", fx.model, "--data", big, "--out", filepath.Join(dir, "scores.csv"), "--batch", "1", "-q"}},
	} {
		c := startOdmn(t, tc.args...)
		c.waitUntil(t, tc.name+"'s temporary file", func() bool { return len(leftovers(t, dir)) > 0 })
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := c.exit(t); code != 128+int(syscall.SIGTERM) {
			t.Errorf("%s: exit status %d, want %d; %s", tc.name, code, 128+int(syscall.SIGTERM), c.stderr.String())
		}
		if msg := c.stderr.String(); !strings.Contains(msg, "interrupted (SIGTERM)") {
			t.Errorf("%s: message %q does not say SIGTERM", tc.name, msg)
		}
		if exists(tc.out) {
			t.Errorf("%s: %s written after SIGTERM", tc.name, tc.out)
		}
		if l := leftovers(t, dir); len(l) > 0 {
			t.Errorf("%s: temporary files left: %v", tc.name, l)
		}
	}
}

func testKilledLeftovers(t *testing.T, fx *badInputFixture) {
	dir := t.TempDir()
	out := filepath.Join(dir, "users.csv")
	c := startOdmn(t, "gen", "--users", "100000000", "--out", out, "-q")
	c.waitUntil(t, "gen's temporary file", func() bool { return len(leftovers(t, dir)) > 0 })
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.exit(t)
	stale := leftovers(t, dir)
	if len(stale) != 1 {
		t.Fatalf("after kill -9: %v, want one temporary file", stale)
	}
	// The killed run's id on a model directory's temporary too, and a
	// temporary file of a process still running (the test runner).
	dead := c.cmd.Process.Pid
	staleDir := filepath.Join(dir, fmt.Sprintf(".model.tmp-%d-x", dead))
	if err := os.MkdirAll(filepath.Join(staleDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, fmt.Sprintf(".users.csv.tmp-%d-x", os.Getppid()))
	if err := os.WriteFile(live, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runOdmn(t, "gen", "--users", "50", "--out", out, "-q"); err != nil {
		t.Fatal(err)
	}
	b, err := train.LoadBundle(fx.model)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(filepath.Join(dir, "model")); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(stale, staleDir) {
		if exists(p) {
			t.Errorf("%s of the killed run is still there", filepath.Base(p))
		}
	}
	if !exists(live) {
		t.Error("the temporary file of a running process was removed")
	}
}

func testCheckpointMessage(t *testing.T, fx *badInputFixture) {
	dir := t.TempDir()
	out := filepath.Join(dir, "model")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted before the first epoch ends
	_, err := odmnCtx(ctx, t, "train", "--data", fx.users, "--out", out, "--bottom", "16", "--tower", "8", "-q")
	if err == nil || !strings.Contains(err.Error(), "no checkpoint was written") || strings.Contains(err.Error(), "is in") {
		t.Errorf("no checkpoint: got %v", err)
	}
	// A checkpoint of an earlier run is not presented as this run's.
	b, err := train.LoadBundle(fx.model)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(out + ".checkpoint"); err != nil {
		t.Fatal(err)
	}
	_, err = odmnCtx(ctx, t, "train", "--data", fx.users, "--out", out, "--bottom", "16", "--tower", "8", "-q")
	if err == nil || !strings.Contains(err.Error(), "no checkpoint was written") || !strings.Contains(err.Error(), "earlier run") {
		t.Errorf("stale checkpoint: got %v", err)
	}
}

func testOutputIsInput(t *testing.T, fx *badInputFixture) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	copyFile(t, fx.users, users)
	copyFile(t, fx.spec, filepath.Join(dir, "users.spec.json"))
	link := filepath.Join(dir, "alias.csv")
	if err := os.Symlink("users.csv", link); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "log.csv")
	if err := os.WriteFile(log, []byte("customer,date,value\na,2020-01-01,5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inModel := filepath.Join(dir, "m", "users.csv")
	copyFile(t, fx.users, inModel)
	copyFile(t, fx.spec, filepath.Join(dir, "m", "users.spec.json"))
	before := snapshot(t, dir)
	for _, args := range [][]string{
		{"score", "--model", fx.model, "--data", users, "--out", users},
		{"score", "--model", fx.model, "--data", users, "--out", link},
		{"dataset", "from-transactions", "--in", log, "--customer", "customer", "--time", "date", "--value", "value", "--out", log},
		{"dataset", "split", "--in", users, "--train-out", link, "--test-out", filepath.Join(dir, "t.csv")},
		{"train", "--data", inModel, "--out", filepath.Join(dir, "m"), "--epochs", "1", "-q"},
		{"export", "--model", fx.model, "--out", fx.model},
		{"compare", "--data", users, "--out", link, "--seeds", "1", "-q"},
	} {
		_, err := runOdmn(t, args...)
		if err == nil || !strings.Contains(err.Error(), "write the output elsewhere") {
			t.Errorf("odmn %s: got %v", strings.Join(args, " "), err)
		}
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("inputs changed:\nbefore %s\nafter  %s", before, after)
	}
}

func testModes(t *testing.T, fx *badInputFixture) {
	for _, umask := range []int{0o022, 0o027} {
		t.Run(fmt.Sprintf("umask_%03o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			wantDir, wantFile := fs.FileMode(0o755&^umask), fs.FileMode(0o644&^umask)
			dir := t.TempDir()
			model := filepath.Join(dir, "new", "model")
			steps := [][]string{
				{"train", "--data", fx.users, "--out", model, "--epochs", "1", "--bottom", "16", "--tower", "8", "-q"},
				{"export", "--model", model, "--out", filepath.Join(dir, "model.onnx")},
				{"score", "--model", model, "--data", fx.users, "--out", filepath.Join(dir, "scores.csv"), "-q"},
				{"gen", "--users", "50", "--out", filepath.Join(dir, "users.parquet"), "-q"},
			}
			for _, args := range steps {
				if _, err := runOdmn(t, args...); err != nil {
					t.Fatalf("odmn %s: %v", strings.Join(args, " "), err)
				}
			}
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || p == dir {
					return err
				}
				st, err := os.Stat(p)
				if err != nil {
					return err
				}
				want := wantFile
				if d.IsDir() {
					want = wantDir
				}
				if st.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", strings.TrimPrefix(p, dir), st.Mode().Perm(), want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func testModelDirParts(t *testing.T, fx *badInputFixture) {
	for _, missing := range [][]string{
		{train.EncoderFile},
		{train.SpecFile, train.EncoderFile},
		{train.WeightsFile},
		{train.ModelFile, train.WeightsFile, train.SpecFile, train.EncoderFile},
	} {
		dir := filepath.Join(t.TempDir(), "model")
		copyDir(t, fx.model, dir)
		for _, f := range missing {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range [][]string{
			{"score", "--model", dir, "--data", fx.users, "--out", filepath.Join(t.TempDir(), "s.csv"), "-q"},
			{"export", "--model", dir, "--out", filepath.Join(t.TempDir(), "m.onnx")},
			{"eval", "--model", dir, "--data", fx.users},
		} {
			_, err := runOdmn(t, args...)
			if err == nil {
				t.Fatalf("odmn %s: no error without %v", args[0], missing)
			}
			for _, f := range missing {
				if !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), dir) {
					t.Errorf("odmn %s without %v: %q does not name %s in %s", args[0], missing, err, f, dir)
				}
			}
		}
	}
}

func testUserPathInErrors(t *testing.T, fx *badInputFixture) {
	dir := t.TempDir()
	// An existing directory where a file is to go: the final rename fails.
	taken := filepath.Join(dir, "taken.csv")
	if err := os.MkdirAll(filepath.Join(taken, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"score", "--model", fx.model, "--data", fx.users, "--out", taken, "-q"},
		{"export", "--model", fx.model, "--out", taken},
		{"gen", "--users", "50", "--out", taken, "-q"},
	} {
		_, err := runOdmn(t, args...)
		if err == nil {
			t.Fatalf("odmn %s: no error", args[0])
		}
		if !strings.Contains(err.Error(), taken) || strings.Contains(err.Error(), ".tmp-") {
			t.Errorf("odmn %s: %q should name %s and no temporary file", args[0], err, taken)
		}
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func testCompareValidatesFirst(t *testing.T, fx *badInputFixture) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", filepath.Join(t.TempDir(), "missing.csv")}, "missing.csv"},
		{[]string{"--data", fx.users, "--spec", filepath.Join(t.TempDir(), "missing.spec.json")}, "missing.spec.json"},
		{[]string{"--data", fx.users, "--models", "odmn,nope"}, "nope"},
		{[]string{"--data", fx.users, "--test", "1.5"}, "test"},
		{[]string{"--data", fx.users, "--epochs", "0"}, "epoch"},
		{[]string{"--users", "100", "--labels", "nope"}, "nope"},
		{[]string{"--users", "100", "--data", fx.users}, "not both"},
		{nil, "--users"},
	} {
		out := filepath.Join(t.TempDir(), "new", "out")
		args := append([]string{"compare", "--out", out, "--seeds", "1", "-q"}, tc.args...)
		_, err := runOdmn(t, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("odmn %s: got %v, want an error about %s", strings.Join(args, " "), err, tc.want)
		}
		if exists(filepath.Dir(out)) {
			t.Errorf("odmn %s created %s", strings.Join(args, " "), filepath.Dir(out))
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}

// snapshot describes every file under dir (path, size, modification time).
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %d; ", strings.TrimPrefix(p, dir), st.Size(), st.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
