package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// allowedSkips are the test files that may skip without testenv, and why.
// Every other skip must go through Missing (fails under CI=true) or be
// guarded by testing.Short().
var allowedSkips = map[string]string{
	"runtime/native/session_test.go": "the allocation check belongs to the OpenBLAS build: gonum's GEMM allocates by design, and CI runs both builds",
	"report/samples_test.go":         "renders sample plots into a directory named by ODMN_REPORT_SAMPLES; it checks nothing",
}

// testFiles parses every _test.go file of the module.
func testFiles(t *testing.T) (map[string]*ast.File, *token.FileSet) {
	t.Helper()
	root := ModuleRoot()
	if root == "" {
		t.Fatal("module root not found above the working directory")
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "out" || d.Name() == "bin" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d test files under %s", len(files), root)
	}
	return files, fset
}

// TestNoHiddenSkips fails on a test that can skip for a reason CI would not
// see: a skip outside testenv that is neither behind testing.Short() nor
// listed in allowedSkips.
func TestNoHiddenSkips(t *testing.T) {
	files, fset := testFiles(t)
	for name, f := range files {
		if strings.HasPrefix(name, "internal/testenv/") {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ifs, ok := n.(*ast.IfStmt)
			if ok && isShortCheck(ifs.Cond) {
				return false // skips behind testing.Short() are a choice of the caller
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Skip" && sel.Sel.Name != "Skipf" && sel.Sel.Name != "SkipNow") {
				return true
			}
			if _, ok := allowedSkips[name]; !ok {
				t.Errorf("%s: %s skips without testenv.Missing (which fails under CI=true)", fset.Position(call.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

func isShortCheck(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "testing" && sel.Sel.Name == "Short" {
				found = true
			}
		}
		return !found
	})
	return found
}

// absPath matches a string that starts like an absolute file path.
var absPath = regexp.MustCompile(`^/(work|home|tmp|usr|opt|root|var|etc|mnt|srv|nonexistent)(/|$)`)

// TestNoAbsolutePaths fails on a test that names a machine-specific
// absolute path: tests find files relative to their package (or through
// testenv) and write under t.TempDir().
func TestNoAbsolutePaths(t *testing.T) {
	files, fset := testFiles(t)
	for name, f := range files {
		if strings.HasPrefix(name, "internal/testenv/") {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && absPath.MatchString(s) {
				t.Errorf("%s: absolute path %q", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
}

// TestAllowedSkipsExist keeps allowedSkips from outliving its files.
func TestAllowedSkipsExist(t *testing.T) {
	root := ModuleRoot()
	for name := range allowedSkips {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("allowedSkips lists %s: %v", name, err)
		}
	}
}
