package data

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Transaction is one row of a transaction log, parsed.
type Transaction struct {
	Customer string
	// Day is the calendar date, in days since 1970-01-01.
	Day          int64
	Value, Count float64

	vdec, cdec int8 // decimals written in the value and count fields
}

// Decimals are the largest numbers of decimals written in a log's value
// and count columns (at most 6; -1 once a field has more or uses exponent
// notation). Feature sums are rounded to them, which removes
// floating-point noise such as 25.740000000000002 without changing any
// real digit. The zero value is the start of a log.
type Decimals struct {
	Value, Count int
}

// Add takes one transaction's fields into account.
func (d *Decimals) Add(tx Transaction) {
	mergeDec(&d.Value, int(tx.vdec))
	mergeDec(&d.Count, int(tx.cdec))
}

// Merge takes another part of the log into account (the result does not
// depend on the order of the parts).
func (d *Decimals) Merge(o Decimals) {
	mergeDec(&d.Value, o.Value)
	mergeDec(&d.Count, o.Count)
}

func mergeDec(acc *int, d int) {
	if *acc < 0 {
		return
	}
	if d < 0 {
		*acc = -1
		return
	}
	*acc = max(*acc, d)
}

// Features is the definition of the customer table built from a
// transaction log: which columns, which customers, and how each row is
// computed from the customer's transactions. BuildFromTransactions and
// odmn's Beam pipeline both compute rows with it, so there is one
// definition of the features. See BuildFromTransactions for the columns.
type Features struct {
	Window   int   // feature days
	Horizons []int // label horizons in days, increasing
	// Labels adds the ltv_H columns; a customer then needs Window + the
	// longest horizon days of history, else Window days.
	Labels bool
	// Decimals round the money and count sums.
	Decimals Decimals
	// Bins is written into the spec for every numeric and sequence feature.
	Bins int
}

// Span is the number of days of history a customer needs to be in the
// table, counting day 0.
func (f *Features) Span() int64 {
	if f.Labels {
		return int64(f.Window + f.Horizons[len(f.Horizons)-1])
	}
	return int64(f.Window)
}

// Complete reports whether a customer whose day 0 is first has the whole
// span inside a log that ends on day asOf.
func (f *Features) Complete(first, asOf int64) bool {
	return first+f.Span()-1 <= asOf
}

// Columns are the table's column names and kinds, in order.
func (f *Features) Columns() ([]string, []Kind) {
	names := []string{IDColumn, "first_weekday", "first_isoweek", "first_value", "recency", "frequency", "monetary"}
	kinds := []Kind{String, String, String, Float, Float, Float, Float}
	for _, s := range []string{"value", "count"} {
		for d := 1; d <= f.Window; d++ {
			names = append(names, SeqColumn(s, d))
			kinds = append(kinds, Float)
		}
	}
	if f.Labels {
		for _, h := range f.Horizons {
			names = append(names, labelName(h))
			kinds = append(kinds, Float)
		}
	}
	return names, kinds
}

func labelName(h int) string { return fmt.Sprintf("ltv_%d", h) }

// Spec is the spec of the table. It names the labels even without
// Labels, so that a day's scoring set and its training table share one
// spec.
func (f *Features) Spec() *Spec {
	spec := &Spec{
		ID:          IDColumn,
		Categorical: []Categorical{{Name: "first_weekday"}, {Name: "first_isoweek"}},
		Numeric: []Numeric{{Name: "first_value", Bins: f.Bins}, {Name: "recency", Bins: f.Bins},
			{Name: "frequency", Bins: f.Bins}, {Name: "monetary", Bins: f.Bins}},
		Sequences: []Sequence{{Name: "value", Length: f.Window, Bins: f.Bins}, {Name: "count", Length: f.Window, Bins: f.Bins}},
		LabelKind: "money",
	}
	for _, h := range f.Horizons {
		spec.Labels = append(spec.Labels, Label{Name: labelName(h), Horizon: h})
	}
	return spec
}

// Customer sums one customer's transactions into their row.
type Customer struct {
	ID    string
	First int64 // day 0: the day of the first transaction

	f      *Features
	sums   []float64 // value per window day, count per window day, labels
	active []bool    // window days with a transaction
}

// NewCustomer starts the row of customer id whose first transaction is
// on day first.
func (f *Features) NewCustomer(id string, first int64) *Customer {
	return f.customer(id, first, make([]float64, f.stride()), make([]bool, f.Window))
}

func (f *Features) stride() int {
	n := 2 * f.Window
	if f.Labels {
		n += len(f.Horizons)
	}
	return n
}

func (f *Features) customer(id string, first int64, sums []float64, active []bool) *Customer {
	return &Customer{ID: id, First: first, f: f, sums: sums, active: active}
}

// Add adds a transaction of the customer. Transactions before day 0 or
// after the span are ignored. Sums are floating point: add in log order
// to get the same row as BuildFromTransactions to the last bit.
func (c *Customer) Add(tx Transaction) {
	f := c.f
	W := int64(f.Window)
	rel := tx.Day - c.First
	switch {
	case rel < 0:
	case rel < W:
		c.sums[rel] += tx.Value
		c.sums[W+rel] += tx.Count
		c.active[rel] = true
	case f.Labels && rel < f.Span():
		for t, h := range f.Horizons {
			if rel < W+int64(h) {
				c.sums[2*f.Window+t] += tx.Value
			}
		}
	}
}

// Row is one customer's row of the table: Str holds the id, weekday and
// ISO week, Num the numeric columns in table order (Features.Columns).
type Row struct {
	Str []string
	Num []float64
}

// Row computes the customer's row.
func (c *Customer) Row() Row {
	f := c.f
	rv, rc := rounder(f.Decimals.Value), rounder(f.Decimals.Count)
	ft := dayTime(c.First)
	_, wk := ft.ISOWeek()
	r := Row{Str: []string{c.ID, ft.Weekday().String()[:3], strconv.Itoa(wk)}}
	r.Num = make([]float64, 4+f.stride())
	last, days, money := 0, 0, 0.0
	for d := 0; d < f.Window; d++ {
		if c.active[d] {
			last = d
			days++
		}
		money += c.sums[d]
		r.Num[4+d] = rv(c.sums[d])
		r.Num[4+f.Window+d] = rc(c.sums[f.Window+d])
	}
	r.Num[0] = rv(c.sums[0])
	r.Num[1] = float64(f.Window - 1 - last)
	r.Num[2] = float64(days)
	r.Num[3] = rv(money)
	for t := 2 * f.Window; t < len(c.sums); t++ {
		r.Num[4+t] = rv(c.sums[t])
	}
	return r
}

// Table assembles rows into a table with the Features' columns.
func (f *Features) Table(rows []Row) *Table {
	names, kinds := f.Columns()
	tab := NewTable(nil, nil)
	n := len(rows)
	for j := range names {
		if kinds[j] == String {
			col := make([]string, n)
			for i, r := range rows {
				col[i] = r.Str[j]
			}
			tab.AddString(names[j], col)
			continue
		}
		col := make([]float64, n)
		for i, r := range rows {
			col[i] = r.Num[j-3]
		}
		tab.AddFloat(names[j], col)
	}
	return tab
}

// LogOptions name a transaction log's columns (see BuildOptions).
type LogOptions struct {
	Customer, Time, Value, Count string
	DateFormat                   string
}

// RowError is one bad row of a transaction log: a field that is missing,
// unparsable or negative. A LogReader can read on past it.
type RowError struct {
	File   string
	Line   int64
	Column string // empty when the row as a whole is bad
	Reason string
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: line %d, column %q: %s", e.File, e.Line, e.Column, e.Reason)
}

// LogReader reads a transaction log one transaction at a time, with the
// rules of BuildFromTransactions (separator and date format detected the
// same way).
type LogReader struct {
	lr *logReader
	dp dateParser
}

// OpenLog opens the log at path and reads its header.
func OpenLog(path string, o LogOptions) (*LogReader, error) {
	cols := []string{o.Customer, o.Time, o.Value}
	if o.Count != "" {
		cols = append(cols, o.Count)
	}
	lr, err := openLog(path, cols)
	if err != nil {
		return nil, err
	}
	r := &LogReader{lr: lr, dp: dateParser{layout: o.DateFormat}}
	if o.DateFormat != "" {
		r.dp.kind = dateCustom
	}
	return r, nil
}

// Next returns the next transaction and its line, or io.EOF after the
// last. A *RowError is one bad row (reading may go on); any other error
// ends the file.
func (r *LogReader) Next() (Transaction, int64, error) {
	rec, line, err := r.lr.next()
	if err != nil {
		return Transaction{}, line, err
	}
	tx, err := r.lr.parse(rec, line, &r.dp)
	return tx, line, err
}

// Separator is "comma", "tab" or "whitespace".
func (r *LogReader) Separator() string { return r.lr.sepName() }

// DateFormat names the date format in use ("unknown" before a date was
// recognised).
func (r *LogReader) DateFormat() string { return r.dp.name() }

// Close closes the file.
func (r *LogReader) Close() error { return r.lr.f.Close() }

// IsRowError reports whether err is one bad row, which a reader may skip.
func IsRowError(err error) bool {
	var re *RowError
	return errors.As(err, &re)
}

// ParseDay reads a date in one of the formats the log reader detects
// (YYYYMMDD, YYYY-MM-DD, ...) into a day number, as Transaction.Day.
func ParseDay(s string) (int64, error) {
	var p dateParser
	return p.day(s)
}

// DayTime is the UTC midnight of a day number.
func DayTime(day int64) time.Time { return dayTime(day) }
