package fsutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Arg is a path with the flag it came from, for messages ("--data").
type Arg struct {
	Flag string
	Path string
}

func (a Arg) String() string {
	if a.Flag == "" {
		return a.Path
	}
	return a.Flag + " " + a.Path
}

// CheckOutput refuses an output that would destroy an input: out is the
// same file as one of inputs (after links are resolved, hard links
// included), or, when isDir (out is a directory replaced as a whole), an
// input lies inside out. Inputs with an empty path are skipped. It touches
// nothing on disk.
func CheckOutput(out Arg, isDir bool, inputs ...Arg) error {
	if out.Path == "" {
		return nil
	}
	ost, oerr := os.Stat(out.Path)
	outReal := realPath(out.Path)
	for _, in := range inputs {
		if in.Path == "" {
			continue
		}
		if oerr == nil {
			if ist, err := os.Stat(in.Path); err == nil && os.SameFile(ost, ist) {
				return fmt.Errorf("%s is the same file as %s: write the output elsewhere", out, in)
			}
		}
		if isDir && within(realPath(in.Path), outReal) {
			return fmt.Errorf("%s is inside %s, which is replaced as a whole: write the output elsewhere", in, out)
		}
	}
	return nil
}

// realPath is path made absolute with every symbolic link of its longest
// existing prefix resolved.
func realPath(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	var rest []string
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(append([]string{p}, rest...)...)
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

// within reports whether p is dir or lies under it.
func within(p, dir string) bool {
	if p == dir {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}
