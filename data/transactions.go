package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// DefaultWindow is the feature window of BuildFromTransactions, in days.
const DefaultWindow = 7

// DefaultHorizons are the label horizons in days (the paper's).
var DefaultHorizons = []int{30, 90, 180, 365}

// IDColumn is the name of the customer id column of a built table.
const IDColumn = "customer_id"

// BuildOptions configure BuildFromTransactions.
type BuildOptions struct {
	// In is the transaction log: one row per transaction with a header
	// line. The separator is detected from the header: comma, else tab,
	// else runs of spaces/tabs (as in CDNOW_master.txt); CRLF line ends are
	// fine.
	In string
	// Customer, Time and Value name the customer id, date and money columns;
	// Count optionally names a quantity column (e.g. items). Without it the
	// count features count transactions.
	Customer, Time, Value, Count string
	// Window is the number of feature days (default DefaultWindow).
	Window int
	// Horizons are the label horizons in days, increasing (default
	// DefaultHorizons).
	Horizons []int
	// DateFormat is a Go time layout for the Time column. Empty: detected
	// from the first data row: YYYYMMDD, YYYY-MM-DD, "YYYY-MM-DD hh:mm:ss",
	// RFC 3339, or unix seconds (digits, not 8 of them). A timestamp counts
	// on its own calendar date (the offset written in it; unix seconds: UTC).
	DateFormat string
	// Bins is written into the spec for every numeric and sequence feature
	// (0: DefaultBins).
	Bins int
	// AsOf, when set, is the last day of the log: later transactions are
	// ignored. Zero: the last date in the log.
	AsOf time.Time
	// NoLabels builds the scoring set instead of the training table:
	// every customer whose feature window is complete by AsOf, without
	// label columns.
	NoLabels bool
	// Out, when set, is where the table is written (.csv or .parquet); the
	// spec goes beside it as <Out without extension>.spec.json. Both are
	// written atomically. Empty: nothing is written.
	Out string
}

// BuildStats describes a build.
type BuildStats struct {
	Rows          int64 // transactions read
	ZeroValueRows int64 // transactions with value 0
	Customers     int   // distinct customers
	Kept          int   // customers in the table
	Dropped       int   // customers whose history ends before window + longest horizon
	LogStart      time.Time
	LogEnd        time.Time // the last date in the log: the end of everyone's history
	Separator     string    // "comma", "tab" or "whitespace"
	DateFormat    string    // the layout used (detected or given)
	Labels        []LabelStats
	Out, SpecPath string // files written, if any
}

// LabelStats summarizes one label column over the kept customers.
type LabelStats struct {
	Name      string
	Horizon   int
	ZeroShare float64 // share of customers with label 0
	Mean      float64
	P90, P99  float64 // percentiles: see quantile (no interpolation)
	Max       float64
}

// BuildFromTransactions turns a transaction log into a user table of the
// paper's shape, one row per customer, and a spec for it.
//
// Days are calendar days. A customer's day 0 is the date of their first
// transaction; the feature window is days 0 .. Window-1, and the label for
// horizon H is the value summed over days Window .. Window+H-1 (cumulative,
// so non-decreasing across horizons). A customer is kept only if that
// whole span is inside the log, i.e. first day + Window + max(H) - 1 <= the
// log's last date (or AsOf); the others are dropped (counted in
// BuildStats.Dropped). With NoLabels (the scoring set) the span is the
// window alone and there are no label columns. Each row is computed by
// Features and Customer, the definition odmn's Beam pipeline shares.
//
// Columns, in order (the spec's Columns order):
//
//	customer_id                  the customer column, as text
//	first_weekday, first_isoweek categorical: weekday ("Mon".."Sun") and
//	                             ISO week of year ("1".."53") of day 0
//	first_value                  value on day 0
//	recency                      days from the last transaction day in the
//	                             window to the window's last day (0..Window-1)
//	frequency                    days with a transaction in the window
//	monetary                     value in the window
//	value_d1..value_dW           value per window day (d1 = day 0)
//	count_d1..count_dW           Count column summed (or transactions) per day
//	ltv_H ...                    one label per horizon
//
// A transaction of value 0 still counts as a transaction. Values must be
// non-negative numbers. Money sums are rounded to the largest number of
// decimals seen in the Value column (at most 6), which removes
// floating-point noise such as 25.740000000000002 without changing any
// real digit; counts likewise for the Count column.
//
// The log is read twice (first days, then sums, added in log order), so
// memory grows with the number of customers, not transactions. Rows come out in order of each
// customer's first appearance in the log.
func BuildFromTransactions(o BuildOptions) (*Table, *Spec, *BuildStats, error) {
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Horizons == nil {
		o.Horizons = DefaultHorizons
	}
	if err := o.check(); err != nil {
		return nil, nil, nil, err
	}
	st := &BuildStats{}
	lo := LogOptions{Customer: o.Customer, Time: o.Time, Value: o.Value, Count: o.Count, DateFormat: o.DateFormat}
	asOf := int64(math.MaxInt64)
	if !o.AsOf.IsZero() {
		y, m, d := o.AsOf.Date()
		asOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}

	// Pass 1: first day per customer, log range, decimals, every value checked.
	lr, err := OpenLog(o.In, lo)
	if err != nil {
		return nil, nil, nil, err
	}
	st.Separator = lr.Separator()
	type customer struct {
		id    string
		first int64
	}
	var custs []customer
	index := map[string]int{}
	logStart, logEnd := int64(math.MaxInt64), int64(math.MinInt64)
	var dec Decimals
	for {
		tx, _, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			lr.Close()
			return nil, nil, nil, err
		}
		if tx.Day > asOf {
			continue
		}
		st.Rows++
		if tx.Value == 0 {
			st.ZeroValueRows++
		}
		dec.Add(tx)
		i, ok := index[tx.Customer]
		if !ok {
			i = len(custs)
			index[tx.Customer] = i
			custs = append(custs, customer{id: tx.Customer, first: tx.Day})
		} else if tx.Day < custs[i].first {
			custs[i].first = tx.Day
		}
		logStart = min(logStart, tx.Day)
		logEnd = max(logEnd, tx.Day)
	}
	lr.Close()
	if st.Rows == 0 {
		if !o.AsOf.IsZero() {
			return nil, nil, nil, fmt.Errorf("%s: no transactions on or before %s", o.In, o.AsOf.Format("2006-01-02"))
		}
		return nil, nil, nil, fmt.Errorf("%s: no transactions (only a header line)", o.In)
	}
	st.DateFormat = lr.DateFormat()
	st.Customers = len(custs)
	st.LogStart, st.LogEnd = dayTime(logStart), dayTime(logEnd)
	if o.AsOf.IsZero() {
		asOf = logEnd
	}

	f := &Features{Window: o.Window, Horizons: o.Horizons, Labels: !o.NoLabels, Decimals: dec, Bins: o.Bins}
	rows := make([]*Customer, len(custs)) // nil: dropped
	stride := f.stride()
	nk := 0
	for _, c := range custs {
		if f.Complete(c.first, asOf) {
			nk++
		}
	}
	sums := make([]float64, nk*stride)
	active := make([]bool, nk*o.Window)
	k := 0
	for i, c := range custs {
		if f.Complete(c.first, asOf) {
			rows[i] = f.customer(c.id, c.first, sums[k*stride:(k+1)*stride:(k+1)*stride], active[k*o.Window:(k+1)*o.Window:(k+1)*o.Window])
			k++
		}
	}
	st.Kept, st.Dropped = nk, len(custs)-nk

	// Pass 2: sums for the kept customers, in log order.
	lr, err = OpenLog(o.In, lo)
	if err != nil {
		return nil, nil, nil, err
	}
	for {
		tx, _, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			lr.Close()
			return nil, nil, nil, err
		}
		if tx.Day > asOf {
			continue
		}
		if c := rows[index[tx.Customer]]; c != nil {
			c.Add(tx)
		}
	}
	lr.Close()

	// Assemble the table.
	out := make([]Row, 0, nk)
	for _, c := range rows {
		if c != nil {
			out = append(out, c.Row())
		}
	}
	tab := f.Table(out)
	spec := f.Spec()
	if f.Labels {
		for _, h := range o.Horizons {
			name := labelName(h)
			st.Labels = append(st.Labels, labelStats(name, h, tab.Num[tab.Col(name)]))
		}
	}
	if err := spec.Validate(); err != nil {
		return nil, nil, nil, err
	}
	if o.Out != "" {
		if nk == 0 {
			return nil, nil, nil, fmt.Errorf("%s: every customer was dropped (history shorter than %d days); nothing to write", o.In, f.Span())
		}
		st.Out, st.SpecPath = o.Out, SpecPathFor(o.Out)
		if err := WriteFile(o.Out, tab); err != nil {
			return nil, nil, nil, err
		}
		if err := spec.Save(st.SpecPath); err != nil {
			return nil, nil, nil, err
		}
	}
	return tab, spec, st, nil
}

// ParseDays reads a positive number of days: "7", "7d" or "2w" (weeks).
func ParseDays(s string) (int, error) {
	s = strings.TrimSpace(s)
	mult, num := 1, s
	switch {
	case strings.HasSuffix(s, "d"):
		num = strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "w"):
		num, mult = strings.TrimSuffix(s, "w"), 7
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 1<<20 {
		return 0, fmt.Errorf("%q is not a positive number of days (e.g. 7d, 2w, 30)", s)
	}
	return n * mult, nil
}

// ParseHorizons reads a comma-separated list of ParseDays values, which
// must increase: "30,90,180,365".
func ParseHorizons(s string) ([]int, error) {
	var hs []int
	for _, f := range strings.Split(s, ",") {
		h, err := ParseDays(f)
		if err != nil {
			return nil, err
		}
		if len(hs) > 0 && h <= hs[len(hs)-1] {
			return nil, fmt.Errorf("horizons must increase: %d after %d in %q", h, hs[len(hs)-1], s)
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// SpecPathFor is where a table's spec is kept: the table's path without its
// extension, plus ".spec.json".
func SpecPathFor(table string) string {
	return strings.TrimSuffix(table, filepath.Ext(table)) + ".spec.json"
}

func (o *BuildOptions) check() error {
	var miss []string
	if o.In == "" {
		miss = append(miss, "input file")
	}
	if o.Customer == "" {
		miss = append(miss, "customer column")
	}
	if o.Time == "" {
		miss = append(miss, "time column")
	}
	if o.Value == "" {
		miss = append(miss, "value column")
	}
	if len(miss) > 0 {
		return fmt.Errorf("transactions: no %s given", strings.Join(miss, ", "))
	}
	if o.Window < 1 {
		return fmt.Errorf("transactions: window must be at least 1 day, got %d", o.Window)
	}
	if len(o.Horizons) == 0 {
		return errors.New("transactions: no horizons")
	}
	for i, h := range o.Horizons {
		if h < 1 {
			return fmt.Errorf("transactions: horizon %d is not positive", h)
		}
		if i > 0 && h <= o.Horizons[i-1] {
			return fmt.Errorf("transactions: horizons must increase (%d after %d)", h, o.Horizons[i-1])
		}
	}
	if o.Out != "" {
		if _, err := formatOf(o.Out); err != nil {
			return err
		}
	}
	return nil
}

func labelStats(name string, h int, y []float64) LabelStats {
	ls := LabelStats{Name: name, Horizon: h}
	n := len(y)
	if n == 0 {
		ls.ZeroShare, ls.Mean, ls.P90, ls.P99, ls.Max = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return ls
	}
	s := append([]float64{}, y...)
	sort.Float64s(s)
	zeros, sum := 0, 0.0
	for _, v := range s {
		if v == 0 {
			zeros++
		}
		sum += v
	}
	ls.ZeroShare = float64(zeros) / float64(n)
	ls.Mean = sum / float64(n)
	ls.P90, ls.P99 = quantile(s, 0.90), quantile(s, 0.99)
	ls.Max = s[n-1]
	return ls
}

// quantile of sorted s: the order statistic at position ceil(q*(n-1))
// (0-based), i.e. numpy's percentile(method="higher"), the convention of
// the CDNOW README's table.
func quantile(s []float64, q float64) float64 {
	i := int(math.Ceil(q * float64(len(s)-1)))
	return s[min(max(i, 0), len(s)-1)]
}

// Report writes a human-readable summary of the build.
func (st *BuildStats) Report(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "transactions: %d rows (%d with value 0), %s-separated, dates %s, %s .. %s\n",
		st.Rows, st.ZeroValueRows, st.Separator, st.DateFormat,
		st.LogStart.Format("2006-01-02"), st.LogEnd.Format("2006-01-02"))
	fmt.Fprintf(b, "customers: %d, kept %d, dropped %d (history ends before window + longest horizon)\n",
		st.Customers, st.Kept, st.Dropped)
	if st.Kept == 0 {
		b.WriteString("no customer kept, so no label statistics: use a shorter window or horizons, or a longer log\n")
	} else {
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "label\thorizon\tzero share\tmean\tp90\tp99\tmax\t")
		for _, l := range st.Labels {
			fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.2f\t%.2f\t%.2f\t%.2f\t\n", l.Name, l.Horizon, 100*l.ZeroShare, l.Mean, l.P90, l.P99, l.Max)
		}
		tw.Flush()
	}
	if st.Out != "" {
		fmt.Fprintf(b, "wrote %s and %s\n", st.Out, st.SpecPath)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rounder rounds to dec decimals (dec < 0: no rounding).
func rounder(dec int) func(float64) float64 {
	if dec < 0 {
		return func(x float64) float64 { return x }
	}
	s := math.Pow(10, float64(dec))
	return func(x float64) float64 { return math.Round(x*s) / s }
}

// decimals counts the digits after the decimal point of a plain number;
// -1 for exponent notation or more than 6 decimals (no rounding then).
func decimals(s string) int {
	if strings.ContainsAny(s, "eE") {
		return -1
	}
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return 0
	}
	d := len(s) - i - 1
	if d > 6 {
		return -1
	}
	return d
}

// ---- the log reader ----

type logReader struct {
	path  string
	f     *os.File
	sep   rune // ',' or '\t'; 0 for runs of whitespace
	cr    *csv.Reader
	br    *bufio.Reader
	line  int64 // whitespace mode: lines read
	width int
	idx   []int    // field index of customer, time, value[, count]
	names []string // their names
}

func openLog(path string, cols []string) (*logReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	lr := &logReader{path: path, f: f, names: cols}
	if err := lr.open(); err != nil {
		f.Close()
		return nil, err
	}
	return lr, nil
}

func (lr *logReader) open() error {
	br := bufio.NewReaderSize(lr.f, 1<<20)
	first, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", lr.path, err)
	}
	if strings.TrimSpace(first) == "" {
		return fmt.Errorf("%s: empty file (no header line)", lr.path)
	}
	switch {
	case strings.ContainsRune(first, ','):
		lr.sep = ','
	case strings.ContainsRune(strings.TrimSpace(first), '\t'):
		lr.sep = '\t'
	}
	var header []string
	if lr.sep == 0 {
		lr.br = br
		lr.line = 1
		header = strings.Fields(first)
	} else {
		if _, err := lr.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		lr.cr = csv.NewReader(bufio.NewReaderSize(lr.f, 1<<20))
		lr.cr.Comma = lr.sep
		lr.cr.ReuseRecord = true
		lr.cr.TrimLeadingSpace = true
		rec, err := lr.cr.Read()
		if err != nil {
			return csvError(lr.path, 0, err)
		}
		header = append([]string{}, rec...)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	lr.width = len(header)
	pos := map[string]int{}
	for i, h := range header {
		if _, dup := pos[h]; !dup {
			pos[h] = i
		}
	}
	var missing []string
	for _, c := range lr.names {
		j, ok := pos[c]
		if !ok {
			missing = append(missing, c)
		}
		lr.idx = append(lr.idx, j)
	}
	if len(missing) > 0 {
		return missingColumnsError(lr.path, missing, header)
	}
	return nil
}

func (lr *logReader) sepName() string {
	switch lr.sep {
	case ',':
		return "comma"
	case '\t':
		return "tab"
	}
	return "whitespace"
}

func (lr *logReader) close() { lr.f.Close() }

// next returns the fields of the next non-blank record and its line.
func (lr *logReader) next() ([]string, int64, error) {
	if lr.cr != nil {
		rec, err := lr.cr.Read()
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		line, _ := lr.cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				msg := pe.Err.Error()
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					msg = fmt.Sprintf("has %d fields, the header has %d", len(rec), lr.width)
				}
				return nil, int64(pe.StartLine), &RowError{File: lr.path, Line: int64(pe.StartLine), Reason: msg}
			}
			return nil, 0, fmt.Errorf("%s: %w", lr.path, err)
		}
		return rec, int64(line), nil
	}
	for {
		s, err := lr.br.ReadString('\n')
		if s == "" && err == io.EOF {
			return nil, 0, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, 0, fmt.Errorf("%s: %w", lr.path, err)
		}
		lr.line++
		f := strings.Fields(s)
		if len(f) == 0 {
			continue
		}
		if len(f) != lr.width {
			return nil, lr.line, &RowError{File: lr.path, Line: lr.line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(f), lr.width)}
		}
		return f, lr.line, nil
	}
}

func (lr *logReader) fail(line int64, col int, format string, args ...any) error {
	return &RowError{File: lr.path, Line: line, Column: lr.names[col], Reason: fmt.Sprintf(format, args...)}
}

// parse reads one transaction of a record.
func (lr *logReader) parse(rec []string, line int64, dp *dateParser) (Transaction, error) {
	var tx Transaction
	tx.Customer = strings.TrimSpace(rec[lr.idx[0]])
	if tx.Customer == "" {
		return tx, lr.fail(line, 0, "empty customer id")
	}
	tx.Customer = strings.Clone(tx.Customer)
	ts := strings.TrimSpace(rec[lr.idx[1]])
	day, err := dp.day(ts)
	if err != nil {
		return tx, lr.fail(line, 1, "%v", err)
	}
	tx.Day = day
	vs := strings.TrimSpace(rec[lr.idx[2]])
	v, err := strconv.ParseFloat(vs, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return tx, lr.fail(line, 2, "not a number: %q", vs)
	}
	if v < 0 {
		return tx, lr.fail(line, 2, "negative value %s (refunds and corrections must be netted out before building)", vs)
	}
	tx.Value, tx.vdec = v, int8(decimals(vs))
	tx.Count = 1
	if len(lr.idx) > 3 {
		cs := strings.TrimSpace(rec[lr.idx[3]])
		c, err := strconv.ParseFloat(cs, 64)
		if err != nil || math.IsNaN(c) || math.IsInf(c, 0) {
			return tx, lr.fail(line, 3, "not a number: %q", cs)
		}
		if c < 0 {
			return tx, lr.fail(line, 3, "negative count %s", cs)
		}
		tx.Count, tx.cdec = c, int8(decimals(cs))
	}
	return tx, nil
}

// ---- dates ----

type dateKind int

const (
	dateUnknown dateKind = iota
	dateCompact          // 20060102
	dateISO              // 2006-01-02
	dateISOTime          // 2006-01-02 15:04:05
	dateRFC3339
	dateUnix
	dateCustom
)

type dateParser struct {
	kind   dateKind
	layout string
}

func (p *dateParser) name() string {
	switch p.kind {
	case dateCompact:
		return "YYYYMMDD"
	case dateISO:
		return "YYYY-MM-DD"
	case dateISOTime:
		return "YYYY-MM-DD hh:mm:ss"
	case dateRFC3339:
		return "RFC 3339"
	case dateUnix:
		return "unix seconds"
	case dateCustom:
		return "layout " + strconv.Quote(p.layout)
	}
	return "unknown"
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func detectDate(s string) dateKind {
	switch {
	case len(s) == 8 && allDigits(s):
		return dateCompact
	case len(s) == 10 && s[4] == '-' && s[7] == '-' && allDigits(s[:4]+s[5:7]+s[8:]):
		return dateISO
	case len(s) == 19 && s[10] == ' ':
		if _, err := time.Parse("2006-01-02 15:04:05", s); err == nil {
			return dateISOTime
		}
	case strings.ContainsRune(s, 'T'):
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return dateRFC3339
		}
	}
	ip, fp, _ := strings.Cut(s, ".")
	if allDigits(ip) && (fp == "" || allDigits(fp)) {
		return dateUnix
	}
	return dateUnknown
}

// day parses s to a day number (days since 1970-01-01 of the calendar date).
func (p *dateParser) day(s string) (int64, error) {
	if p.kind == dateUnknown {
		p.kind = detectDate(s)
		if p.kind == dateUnknown {
			return 0, fmt.Errorf("cannot recognise the date %q (known: YYYYMMDD, YYYY-MM-DD, RFC 3339, unix seconds); give a Go layout with --date-format", s)
		}
	}
	var t time.Time
	var err error
	switch p.kind {
	case dateCompact:
		t, err = time.Parse("20060102", s)
	case dateISO:
		t, err = time.Parse("2006-01-02", s)
	case dateISOTime:
		t, err = time.Parse("2006-01-02 15:04:05", s)
	case dateRFC3339:
		t, err = time.Parse(time.RFC3339Nano, s)
	case dateUnix:
		var v float64
		v, err = strconv.ParseFloat(s, 64)
		if err == nil && (v < 0 || v > 1e11 || !allDigits(strings.Replace(s, ".", "", 1))) {
			err = errors.New("out of range")
		}
		t = time.Unix(int64(v), 0).UTC()
	case dateCustom:
		t, err = time.Parse(p.layout, s)
	}
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q as a date in the format %s used for this file (detected from the first row unless --date-format is given)", s, p.name())
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400, nil
}

func dayTime(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }
