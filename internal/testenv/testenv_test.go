package testenv_test

import (
	"testing"

	"github.com/odmn/odmn/internal/testenv"
)

func TestHelpers(t *testing.T) {
	if p := testenv.RequirePythonONNX(t); p != testenv.PythonPath {
		t.Fatal(p)
	}
	if d := testenv.RequireNodeTestData(t); d != testenv.NodeTestDataDir {
		t.Fatal(d)
	}
	if testenv.RequireLib(t) == "" {
		t.Fatal("no lib")
	}
}
