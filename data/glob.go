package data

import (
	"fmt"
	"path/filepath"
	"sort"
)

// ExpandGlobs expands each pattern (a plain path must exist), sorted and
// without duplicates; a pattern matching nothing is an error naming it.
func ExpandGlobs(patterns []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no such file", p)
		}
		sort.Strings(m)
		for _, f := range m {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}
