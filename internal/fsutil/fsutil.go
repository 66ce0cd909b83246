package fsutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Modes of created files and directories, before the umask.
const (
	FileMode fs.FileMode = 0o644
	DirMode  fs.FileMode = 0o755
)

// tempPrefix is the start of every temporary name of target's base name.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// oldPrefix starts the name a replaced directory has while its successor is
// renamed into place.
func oldPrefix(base string) string { return "." + base + ".old-" }

func tempName(dir, prefix string) string {
	return filepath.Join(dir, prefix+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(uint64(rand.Uint32()), 36))
}

// split is filepath.Split with "." for an empty directory.
func split(path string) (dir, base string) {
	path = filepath.Clean(path)
	dir, base = filepath.Dir(path), filepath.Base(path)
	return dir, base
}

// CleanStale removes the temporary files and directories that a process no
// longer running left beside path (see the package doc). Those of running
// processes, this one included, are kept. Errors are ignored: a leftover
// that cannot be removed is harmless, since every run picks a new name.
func CleanStale(path string) {
	dir, base := split(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		var rest string
		switch {
		case strings.HasPrefix(name, tempPrefix(base)):
			rest = name[len(tempPrefix(base)):]
		case strings.HasPrefix(name, oldPrefix(base)):
			rest = name[len(oldPrefix(base)):]
		default:
			continue
		}
		p, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 || pid == os.Getpid() || alive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, name))
	}
}

// File is a temporary file beside its target that becomes the target on
// Commit or disappears on Abort.
type File struct {
	*os.File
	target string
	done   bool
}

// Create starts writing path: it removes stale temporary files of path and
// opens a new one beside it. path's directory must exist.
func Create(path string) (*File, error) {
	CleanStale(path)
	dir, base := split(path)
	for range 100 {
		f, err := os.OpenFile(tempName(dir, tempPrefix(base)), os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, rename(err, f0(err), path)
		}
		return &File{File: f, target: path}, nil
	}
	return nil, fmt.Errorf("%s: could not pick a temporary name", path)
}

// f0 is the path of a *fs.PathError, or "".
func f0(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	return ""
}

// Target is the path the file becomes on Commit.
func (f *File) Target() string { return f.target }

// Write writes to the temporary file; errors name the target.
func (f *File) Write(b []byte) (int, error) {
	n, err := f.File.Write(b)
	return n, f.wrap(err)
}

// Commit syncs and closes the file and renames it over the target.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.target)
	}
	f.done = true
	err := f.File.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.File.Name(), f.target)
	}
	if err != nil {
		os.Remove(f.File.Name())
		return f.wrap(err)
	}
	return nil
}

// Abort closes and removes the temporary file; the target is left as it
// was. Abort after Commit does nothing.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

func (f *File) wrap(err error) error { return rename(err, f.File.Name(), f.target) }

// rename rewrites err so that it names target instead of tmp (or, when tmp
// is a directory, the matching path under target).
func rename(err error, tmp, target string) error {
	if err == nil || tmp == "" {
		return err
	}
	fix := func(p string) string {
		if p == tmp {
			return target
		}
		if rest, ok := strings.CutPrefix(p, tmp+string(filepath.Separator)); ok {
			return filepath.Join(target, rest)
		}
		return p
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: fix(pe.Path), Err: pe.Err}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", target, le.Err)
	}
	if s := err.Error(); strings.Contains(s, tmp) {
		return &replacedError{msg: strings.ReplaceAll(s, tmp, target), err: err}
	}
	return err
}

// replacedError is err with the temporary path in its text replaced.
type replacedError struct {
	msg string
	err error
}

func (e *replacedError) Error() string { return e.msg }
func (e *replacedError) Unwrap() error { return e.err }

// WriteFile writes b to path atomically.
func WriteFile(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// Write writes path atomically through write (buffered). If write or any
// step fails, path is left as it was.
func Write(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Abort()
		return f.wrap(err)
	}
	if err := bw.Flush(); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Dir is a temporary directory being filled that replaces its target on
// Commit.
type Dir struct {
	// Path is the temporary directory to write into.
	Path   string
	target string
	done   bool
}

// MkdirTemp starts writing the directory dir: it creates dir's parents,
// removes stale temporary directories of dir and makes a new one beside it.
func MkdirTemp(dir string) (*Dir, error) {
	dir = filepath.Clean(dir)
	parent, base := split(dir)
	if err := os.MkdirAll(parent, DirMode); err != nil {
		return nil, err
	}
	CleanStale(dir)
	for range 100 {
		p := tempName(parent, tempPrefix(base))
		err := os.Mkdir(p, DirMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, rename(err, p, dir)
		}
		return &Dir{Path: p, target: dir}, nil
	}
	return nil, fmt.Errorf("%s: could not pick a temporary name", dir)
}

// Wrap rewrites an error of writing into d.Path so that it names the
// target directory instead.
func (d *Dir) Wrap(err error) error { return rename(err, d.Path, d.target) }

// Commit renames the temporary directory over the target. An existing
// target is moved aside first and removed only once the new one is in
// place; if the rename fails it is put back.
func (d *Dir) Commit() error {
	if d.done {
		return fmt.Errorf("%s: already committed or aborted", d.target)
	}
	d.done = true
	parent, base := split(d.target)
	old := ""
	if _, err := os.Lstat(d.target); err == nil {
		old = tempName(parent, oldPrefix(base))
		if err := os.Rename(d.target, old); err != nil {
			os.RemoveAll(d.Path)
			return fmt.Errorf("%s: %w", d.target, unwrapLink(err))
		}
	}
	if err := os.Rename(d.Path, d.target); err != nil {
		if old != "" {
			os.Rename(old, d.target)
		}
		os.RemoveAll(d.Path)
		return fmt.Errorf("%s: %w", d.target, unwrapLink(err))
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("%s: removing the replaced copy: %w", d.target, err)
		}
	}
	return nil
}

// Abort removes the temporary directory. Abort after Commit does nothing.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.Path)
}

func unwrapLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
