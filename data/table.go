package data

import "fmt"

// Kind is the type of a table column.
type Kind uint8

const (
	Float  Kind = iota + 1 // float64 values; NaN is missing
	String                 // text values (categories, ids); "" is missing
)

func (k Kind) String() string {
	switch k {
	case Float:
		return "float"
	case String:
		return "string"
	}
	return "invalid"
}

// Table is an in-memory columnar table: column i is Num[i] when Kinds[i]
// is Float and Str[i] when it is String (the other is nil). It is the
// unit the generator produces and the readers yield in chunks.
type Table struct {
	Names []string
	Kinds []Kind
	Num   [][]float64
	Str   [][]string
}

// NewTable makes an empty table with the given columns.
func NewTable(names []string, kinds []Kind) *Table {
	t := &Table{Names: append([]string{}, names...), Kinds: append([]Kind{}, kinds...)}
	t.Num = make([][]float64, len(names))
	t.Str = make([][]string, len(names))
	return t
}

// Rows is the number of rows.
func (t *Table) Rows() int {
	switch {
	case len(t.Kinds) == 0:
		return 0
	case t.Kinds[0] == Float:
		return len(t.Num[0])
	}
	return len(t.Str[0])
}

// Col returns the index of the named column, or -1.
func (t *Table) Col(name string) int {
	for i, n := range t.Names {
		if n == name {
			return i
		}
	}
	return -1
}

// AddFloat appends a float column (values are not copied).
func (t *Table) AddFloat(name string, v []float64) {
	t.Names = append(t.Names, name)
	t.Kinds = append(t.Kinds, Float)
	t.Num = append(t.Num, v)
	t.Str = append(t.Str, nil)
}

// AddString appends a string column (values are not copied).
func (t *Table) AddString(name string, v []string) {
	t.Names = append(t.Names, name)
	t.Kinds = append(t.Kinds, String)
	t.Num = append(t.Num, nil)
	t.Str = append(t.Str, v)
}

// Check verifies that every column has the same length and its kind's storage.
func (t *Table) Check() error {
	n := -1
	for i, k := range t.Kinds {
		var l int
		switch k {
		case Float:
			l = len(t.Num[i])
		case String:
			l = len(t.Str[i])
		default:
			return fmt.Errorf("column %q: invalid kind", t.Names[i])
		}
		if n >= 0 && l != n {
			return fmt.Errorf("column %q has %d rows, column %q has %d", t.Names[i], l, t.Names[0], n)
		}
		n = l
	}
	return nil
}
