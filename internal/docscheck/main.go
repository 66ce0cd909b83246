// Command docscheck checks the commands that odmn's documentation shows
// (make docs-check runs it on README.md and docs/). In every fenced code
// block of type sh or bash:
//
//   - `make T ...`: each target T must be a rule of the Makefile;
//   - `odmn ...` (or bin/odmn): the subcommands must exist and every flag
//     used must be one of the command's flags (from its --help);
//   - a block whose info string holds {run} (```sh {run}) is also run,
//     line by line, from the repository root with bin/ first on PATH: it
//     must be quick (the tour's commands on small data).
//
// Other lines (git, cd, go get) are shown, not checked. Every problem is
// reported with its file and line; the exit status is 1 if there was any.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// command is one documented command line.
type command struct {
	file string
	line int
	text string
	run  bool
}

func (c command) String() string { return fmt.Sprintf("%s:%d: %s", c.file, c.line, c.text) }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: docscheck FILE.md|DIR ...")
		os.Exit(2)
	}
	var files []string
	for _, a := range os.Args[1:] {
		st, err := os.Stat(a)
		if err != nil {
			fail(err)
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			fail(err)
		}
	}
	targets, err := makeTargets("Makefile")
	if err != nil {
		fail(err)
	}
	var cmds []command
	for _, f := range files {
		c, err := extract(f)
		if err != nil {
			fail(err)
		}
		cmds = append(cmds, c...)
	}
	h := &helper{cache: map[string]string{}}
	var problems []string
	checked, ran := 0, 0
	for _, c := range cmds {
		words := strings.Fields(c.text)
		switch {
		case words[0] == "make":
			checked++
			for _, w := range words[1:] {
				if strings.HasPrefix(w, "-") || strings.Contains(w, "=") {
					continue
				}
				if !targets[w] {
					problems = append(problems, fmt.Sprintf("%v: no make target %q", c, w))
				}
			}
		case isOdmn(words[0]):
			checked++
			if p := h.check(words[1:]); p != "" {
				problems = append(problems, fmt.Sprintf("%v: %s", c, p))
			}
		}
		if c.run && len(problems) == 0 {
			ran++
			if p := runCommand(c); p != "" {
				problems = append(problems, p)
			}
		}
	}
	fmt.Printf("docscheck: %d files, %d commands checked, %d run\n", len(files), checked, ran)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Println(p)
		}
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "docscheck:", err)
	os.Exit(2)
}

func isOdmn(w string) bool { return w == "odmn" || w == "bin/odmn" || w == "./bin/odmn" }

var fence = regexp.MustCompile("^\\s*(```+)\\s*([A-Za-z]*)(.*)$")

// extract returns the command lines of the sh and bash blocks of a
// markdown file (continuation lines joined, comments and prompts removed).
func extract(path string) ([]command, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out     []command
		in      bool // inside a fenced block
		shell   bool // ... of type sh or bash
		run     bool
		pending *command
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := fence.FindStringSubmatch(line); m != nil {
			if !in {
				in, shell, run = true, m[2] == "sh" || m[2] == "bash", strings.Contains(m[3], "{run}")
			} else {
				in = false
			}
			continue
		}
		if !in || !shell {
			continue
		}
		text := strings.TrimSpace(stripComment(line))
		text = strings.TrimPrefix(text, "$ ")
		if pending != nil {
			pending.text += " " + strings.TrimSuffix(text, "\\")
			if !strings.HasSuffix(text, "\\") {
				out = append(out, *pending)
				pending = nil
			}
			continue
		}
		if text == "" {
			continue
		}
		c := command{file: path, line: n, text: strings.TrimSuffix(text, "\\"), run: run}
		if strings.HasSuffix(text, "\\") {
			pending = &c
			continue
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// stripComment drops a # comment that is outside quotes.
func stripComment(s string) string {
	var q rune
	for i, r := range s {
		switch {
		case q != 0:
			if r == q {
				q = 0
			}
		case r == '\'' || r == '"':
			q = r
		case r == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

var ruleRE = regexp.MustCompile(`^([A-Za-z0-9_./-]+(?:\s+[A-Za-z0-9_./-]+)*)\s*:([^=]|$)`)

// makeTargets lists the explicit rules of a Makefile.
func makeTargets(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := ruleRE.FindStringSubmatch(line); m != nil {
			for _, name := range strings.Fields(m[1]) {
				t[name] = true
			}
		}
	}
	return t, nil
}

// helper answers questions from odmn's --help, run once per command path.
type helper struct {
	cache map[string]string
}

func (h *helper) help(path []string) (string, error) {
	key := strings.Join(path, " ")
	if s, ok := h.cache[key]; ok {
		return s, nil
	}
	out, err := exec.Command(filepath.Join("bin", "odmn"), append(slices.Clone(path), "--help")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("bin/odmn %s --help: %v: %s", key, err, out)
	}
	h.cache[key] = string(out)
	return string(out), nil
}

// subcommands lists the "Available Commands" of a help text.
func subcommands(help string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(line, "Available Commands:"):
			in = true
		case in && strings.TrimSpace(line) == "":
			in = false
		case in:
			out = append(out, strings.Fields(line)[0])
		}
	}
	return out
}

// check resolves the subcommand path of args and checks its flags.
func (h *helper) check(args []string) string {
	var path []string
	help, err := h.help(nil)
	if err != nil {
		return err.Error()
	}
	i := 0
	for ; i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		if !slices.Contains(subcommands(help), args[i]) {
			break
		}
		path = append(path, args[i])
		if help, err = h.help(path); err != nil {
			return err.Error()
		}
	}
	if len(path) == 0 {
		if len(args) == 0 || args[0] == "--help" || args[0] == "help" {
			return ""
		}
		return fmt.Sprintf("no odmn command %q", args[0])
	}
	if subs := subcommands(help); len(subs) > 0 && (i == len(args) || !strings.HasPrefix(args[i], "-")) && !slices.Contains(args, "--help") {
		if i < len(args) {
			return fmt.Sprintf("odmn %s has no subcommand %q", strings.Join(path, " "), args[i])
		}
	}
	for _, a := range args[i:] {
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, _ := strings.Cut(a, "=")
		if name == "--help" || name == "-h" {
			continue
		}
		if !hasFlag(help, name) {
			return fmt.Sprintf("odmn %s has no flag %s", strings.Join(path, " "), name)
		}
	}
	return ""
}

// hasFlag reports whether a help text lists the flag (--name or -x).
func hasFlag(help, name string) bool {
	for _, line := range strings.Split(help, "\n") {
		for _, f := range strings.Fields(strings.ReplaceAll(line, ",", " ")) {
			if f == name {
				return true
			}
		}
	}
	return false
}

// runCommand runs a {run} command from the repository root.
func runCommand(c command) string {
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", c.text)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(mustGetwd(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	fmt.Printf("ran %s (%s)\n", c.text, time.Since(t0).Round(time.Millisecond))
	if err != nil {
		return fmt.Sprintf("%v: %v\n%s", c, err, out)
	}
	return ""
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	return wd
}
