package data

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A hand-made log. Window 3 days, horizons 5 and 10: ltv_5 sums days 3..7
// after the first purchase, ltv_10 days 3..12. The log ends 2024-01-31.
//
//	A  first 2024-01-01 (Mon, ISO week 1)
//	   01-01  10.50 x2 and 4.25 x1   day 0: value 14.75, count 3
//	   01-03   0.00 x1               day 2: value 0, count 1 (a $0 purchase)
//	   01-04   7.00                  day 3: both labels
//	   01-08   3.00                  day 7: both labels
//	   01-09 100.00 x5               day 8: ltv_10 only
//	   01-13 1000.00                 day 12: ltv_10 only (its last day)
//	   01-14 5000.00                 day 13: neither
//	   features: value 14.75,0,0  count 3,0,1  recency 0  frequency 2
//	   labels: ltv_5 = 10, ltv_10 = 1110
//	B  first 2024-01-05 (Fri, week 1), its rows out of order
//	   01-06 2.10, 01-05 1.20        value 1.2,2.1,0 count 1,1,0
//	   recency 1, frequency 2, monetary 3.3, labels 0, 0
//	C  first 2024-01-20: needs 01-20 + 3 + 10 - 1 = 02-01 > 01-31: dropped
//	D  first 2024-01-19 (Fri, week 3): 01-19 + 12 = 01-31: kept (just)
//	   one purchase 9.99: recency 2, frequency 1, labels 0, 0
var handLog = [][4]string{
	{"A", "2024-01-01", "10.50", "2"},
	{"A", "2024-01-01", "4.25", "1"},
	{"A", "2024-01-03", "0", "1"},
	{"A", "2024-01-04", "7", "1"},
	{"B", "2024-01-06", "2.10", "1"},
	{"A", "2024-01-08", "3.00", "1"},
	{"B", "2024-01-05", "1.20", "1"},
	{"A", "2024-01-09", "100", "5"},
	{"A", "2024-01-13", "1000", "1"},
	{"C", "2024-01-20", "5", "1"},
	{"A", "2024-01-14", "5000", "1"},
	{"D", "2024-01-19", "9.99", "1"},
	{"C", "2024-01-31", "6", "1"},
}

func writeLog(t *testing.T, name string, sep string, date func(string) string, crlf bool) string {
	t.Helper()
	var b strings.Builder
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	pad := ""
	if sep == " " {
		pad = "   "
	}
	b.WriteString(strings.Join([]string{"cust", "when", "amount", "items"}, sep) + nl)
	for _, r := range handLog {
		b.WriteString(pad + strings.Join([]string{r[0], date(r[1]), r[2], r[3]}, sep+pad) + nl)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func same(s string) string { return s }

func TestBuildFromTransactionsByHand(t *testing.T) {
	compact := func(s string) string { return strings.ReplaceAll(s, "-", "") }
	rfc := func(s string) string { return s + "T23:30:00-05:00" } // local date counts
	unix := func(s string) string {
		var y, m, d int
		fmt.Sscanf(s, "%d-%d-%d", &y, &m, &d)
		return fmt.Sprint((daysFromCivil(y, m, d))*86400 + 3600*13)
	}
	logs := []struct {
		name, path string
		sep        string
		format     string
	}{
		{"csv", writeLog(t, "log.csv", ",", same, false), "comma", "YYYY-MM-DD"},
		{"whitespace CRLF", writeLog(t, "log.txt", " ", compact, true), "whitespace", "YYYYMMDD"},
		{"tab", writeLog(t, "log.tsv", "\t", rfc, false), "tab", "RFC 3339"},
		{"unix", writeLog(t, "log-unix.csv", ",", unix, true), "comma", "unix seconds"},
	}
	for _, lg := range logs {
		t.Run(lg.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "users.parquet")
			tab, spec, st, err := BuildFromTransactions(BuildOptions{
				In: lg.path, Customer: "cust", Time: "when", Value: "amount", Count: "items",
				Window: 3, Horizons: []int{5, 10}, Out: out,
			})
			if err != nil {
				t.Fatal(err)
			}
			checkHandTable(t, tab)
			if st.Rows != 13 || st.ZeroValueRows != 1 || st.Customers != 4 || st.Kept != 3 || st.Dropped != 1 {
				t.Fatalf("stats %+v", st)
			}
			if st.Separator != lg.sep || st.DateFormat != lg.format {
				t.Fatalf("separator %q, dates %q", st.Separator, st.DateFormat)
			}
			if st.LogStart.Format("2006-01-02") != "2024-01-01" || st.LogEnd.Format("2006-01-02") != "2024-01-31" {
				t.Fatalf("log range %v .. %v", st.LogStart, st.LogEnd)
			}
			l := st.Labels[1]
			if l.Name != "ltv_10" || l.Horizon != 10 || math.Abs(l.ZeroShare-2.0/3) > 1e-12 || l.Mean != 370 || l.Max != 1110 || l.P90 != 1110 {
				t.Fatalf("label stats %+v", l)
			}
			// Written table and spec load back, through Fit and Load.
			if st.SpecPath != filepath.Join(filepath.Dir(out), "users.spec.json") {
				t.Fatalf("spec path %q", st.SpecPath)
			}
			spec2, err := LoadSpec(st.SpecPath)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(spec, spec2) || spec2.LabelKind != "money" || spec2.ID != "customer_id" {
				t.Fatalf("spec on disk %+v", spec2)
			}
			back, err := ReadFile(out, specRequests(spec2))
			if err != nil {
				t.Fatal(err)
			}
			checkHandTable(t, back)
			enc, err := Fit(out, spec2, FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := Load(out, spec2, enc)
			if err != nil {
				t.Fatal(err)
			}
			if ds.N != 3 || ds.F != 2+4+3+3 || !reflect.DeepEqual(ds.Label(0), []float32{10, 1110}) {
				t.Fatalf("dataset N %d F %d labels %v", ds.N, ds.F, ds.Label(0))
			}
			var rep bytes.Buffer
			st.Report(&rep)
			for _, want := range []string{"customers: 4, kept 3, dropped 1", "ltv_10", "66.7%", "370.00", "1110.00", "users.spec.json"} {
				if !strings.Contains(rep.String(), want) {
					t.Fatalf("report lacks %q:\n%s", want, rep.String())
				}
			}
		})
	}
}

// daysFromCivil is days since 1970-01-01 (tests only; no time package, to
// check the builder's own date arithmetic independently).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func checkHandTable(t *testing.T, tab *Table) {
	t.Helper()
	wantNames := "customer_id,first_weekday,first_isoweek,first_value,recency,frequency,monetary," +
		"value_d1,value_d2,value_d3,count_d1,count_d2,count_d3,ltv_5,ltv_10"
	if strings.Join(tab.Names, ",") != wantNames {
		t.Fatalf("columns %v", tab.Names)
	}
	str := func(c string) []string { return tab.Str[tab.Col(c)] }
	num := func(c string) []float64 { return tab.Num[tab.Col(c)] }
	check := func(c string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %v, want %v", c, got, want)
		}
	}
	check("customer_id", str("customer_id"), []string{"A", "B", "D"})
	check("first_weekday", str("first_weekday"), []string{"Mon", "Fri", "Fri"})
	check("first_isoweek", str("first_isoweek"), []string{"1", "1", "3"})
	check("first_value", num("first_value"), []float64{14.75, 1.2, 9.99})
	check("recency", num("recency"), []float64{0, 1, 2})
	check("frequency", num("frequency"), []float64{2, 2, 1})
	check("monetary", num("monetary"), []float64{14.75, 3.3, 9.99}) // 1.2+2.1 rounded to cents
	check("value_d1", num("value_d1"), []float64{14.75, 1.2, 9.99})
	check("value_d2", num("value_d2"), []float64{0, 2.1, 0})
	check("value_d3", num("value_d3"), []float64{0, 0, 0})
	check("count_d1", num("count_d1"), []float64{3, 1, 1})
	check("count_d2", num("count_d2"), []float64{0, 1, 0})
	check("count_d3", num("count_d3"), []float64{1, 0, 0})
	check("ltv_5", num("ltv_5"), []float64{10, 0, 0})
	check("ltv_10", num("ltv_10"), []float64{1110, 0, 0})
}

func TestBuildWithoutCountAndCustomLayout(t *testing.T) {
	slash := func(s string) string {
		var y, m, d int
		fmt.Sscanf(s, "%d-%d-%d", &y, &m, &d)
		return fmt.Sprintf("%02d/%02d/%d", d, m, y)
	}
	path := writeLog(t, "log.csv", ",", slash, false)
	tab, _, st, err := BuildFromTransactions(BuildOptions{
		In: path, Customer: "cust", Time: "when", Value: "amount", DateFormat: "02/01/2006",
		Window: 3, Horizons: []int{5, 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Counts are now transactions: A had two on day 0.
	if got := tab.Num[tab.Col("count_d1")]; !reflect.DeepEqual(got, []float64{2, 1, 1}) {
		t.Fatalf("count_d1 = %v", got)
	}
	if st.Out != "" || st.DateFormat != `layout "02/01/2006"` {
		t.Fatalf("stats %+v", st)
	}
	// Without a custom layout the dates are not recognised.
	_, _, _, err = BuildFromTransactions(BuildOptions{In: path, Customer: "cust", Time: "when", Value: "amount"})
	errContains(t, err, "log.csv", "line 2", `column "when"`, `"01/01/2024"`, "--date-format")
	// Default window and horizons: the log is far too short, everyone dropped.
	_, _, st, err = BuildFromTransactions(BuildOptions{In: writeLog(t, "l.csv", ",", same, false), Customer: "cust", Time: "when", Value: "amount"})
	if err != nil || st.Kept != 0 || st.Dropped != 4 {
		t.Fatalf("default horizons: %+v %v", st, err)
	}
	var rep bytes.Buffer
	st.Report(&rep)
	if !strings.Contains(rep.String(), "no customer kept") || strings.Contains(rep.String(), "NaN") {
		t.Fatalf("report with no customer kept:\n%s", rep.String())
	}
}

func TestBuildBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	build := func(path string, mod ...func(*BuildOptions)) error {
		o := BuildOptions{In: path, Customer: "cust", Time: "when", Value: "amount", Window: 1, Horizons: []int{1}}
		for _, m := range mod {
			m(&o)
		}
		_, _, _, err := BuildFromTransactions(o)
		return err
	}
	hdr := "cust,when,amount\n"

	errContains(t, build(file("cols.csv", "customer,date,amount\na,20240101,1\n")),
		"cols.csv", `no columns "cust"`, `"when"`, `the file has 3 columns: "customer", "date", "amount"`)
	errContains(t, build(file("date.csv", hdr+"a,20240101,1\nb,20240230,1\n")),
		"date.csv", "line 3", `column "when"`, `"20240230"`, "YYYYMMDD")
	errContains(t, build(file("val.csv", hdr+"a,20240101,1\nb,20240102,$3\n")),
		"val.csv", "line 3", `column "amount"`, `not a number: "$3"`)
	errContains(t, build(file("neg.csv", hdr+"a,20240101,-1\n")),
		"neg.csv", "line 2", `column "amount"`, "negative value -1")
	errContains(t, build(file("nan.csv", hdr+"a,20240101,NaN\n")), "line 2", `not a number: "NaN"`)
	errContains(t, build(file("cnt.csv", "cust,when,amount,n\na,20240101,1,x\n"), func(o *BuildOptions) { o.Count = "n" }),
		"line 2", `column "n"`, `not a number: "x"`)
	errContains(t, build(file("id.csv", hdr+",20240101,1\n")), "line 2", `column "cust"`, "empty customer id")
	errContains(t, build(file("empty.csv", "")), "empty.csv", "empty file")
	errContains(t, build(file("blank.txt", "\r\n\r\n")), "blank.txt", "empty file")
	errContains(t, build(file("header.csv", hdr)), "header.csv", "no transactions")
	errContains(t, build(file("fields.csv", hdr+"a,20240101,1\nb,20240101\n")), "fields.csv", "line 3", "2 fields, the header has 3")
	errContains(t, build(file("fields.txt", "cust when amount\na 20240101 1\nb 20240101 1 9\n")), "fields.txt", "line 3", "4 fields, the header has 3")
	errContains(t, build(filepath.Join(dir, "absent.csv")), "absent.csv")
	errContains(t, build(file("ok.csv", hdr+"a,20240101,1\n"), func(o *BuildOptions) { o.Customer = "" }), "no customer column given")
	errContains(t, build(file("ok2.csv", hdr+"a,20240101,1\n"), func(o *BuildOptions) { o.Horizons = []int{30, 7} }), "horizons must increase")
	errContains(t, build(file("ok3.csv", hdr+"a,20240101,1\n"), func(o *BuildOptions) { o.Out = filepath.Join(dir, "x.json") }), "unsupported file type")
	errContains(t, build(file("ok4.csv", hdr+"a,20240101,1\n"), func(o *BuildOptions) { o.Out = filepath.Join(dir, "x.csv") }), "every customer was dropped")
}

func TestParseDays(t *testing.T) {
	for in, want := range map[string]int{"7": 7, "7d": 7, "2w": 14, " 30d ": 30} {
		if got, err := ParseDays(in); err != nil || got != want {
			t.Errorf("ParseDays(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-3d", "7h", "d"} {
		if _, err := ParseDays(in); err == nil {
			t.Errorf("ParseDays(%q) succeeded", in)
		}
	}
	if hs, err := ParseHorizons("30,90d,26w"); err != nil || !reflect.DeepEqual(hs, []int{30, 90, 182}) {
		t.Errorf("ParseHorizons = %v, %v", hs, err)
	}
	if _, err := ParseHorizons("90,30"); err == nil {
		t.Error("decreasing horizons accepted")
	}
}

// cdnowFile is the CDNOW transaction log shipped in the repository.
var cdnowFile = filepath.Join("..", "fixtures", "cdnow", "CDNOW_master.txt")

// TestCDNOW checks the builder against the figures of the CDNOW README
// (fixtures/cdnow/README.md): 69,659 rows, 80 of them $0, 23,570
// customers all kept with a 7-day window and a 365-day horizon, and its
// label table to the rounding shown.
func TestCDNOW(t *testing.T) {
	path := cdnowFile
	out := filepath.Join(t.TempDir(), "cdnow.csv")
	tab, spec, st, err := BuildFromTransactions(BuildOptions{
		In: path, Customer: "customer_id", Time: "date", Value: "dollar_value", Count: "number_of_cds", Out: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 69659 || st.ZeroValueRows != 80 || st.Customers != 23570 || st.Kept != 23570 || st.Dropped != 0 {
		t.Fatalf("stats: %d rows, %d at $0, %d customers, %d kept, %d dropped", st.Rows, st.ZeroValueRows, st.Customers, st.Kept, st.Dropped)
	}
	if st.Separator != "whitespace" || st.DateFormat != "YYYYMMDD" ||
		st.LogStart.Format("2006-01-02") != "1997-01-01" || st.LogEnd.Format("2006-01-02") != "1998-06-30" {
		t.Fatalf("log: %s, %s, %v .. %v", st.Separator, st.DateFormat, st.LogStart, st.LogEnd)
	}
	// horizon, zero share %, mean, p90, p99, max (README).
	readme := [][6]string{
		{"30", "83.5", "8.62", "25.74", "137.21", "5486.24"},
		{"90", "72.4", "19.41", "56.06", "257.74", "5486.24"},
		{"180", "63.9", "32.59", "89.97", "403.06", "6562.43"},
		{"365", "55.4", "56.38", "152.38", "671.87", "9900.30"},
	}
	for i, want := range readme {
		l := st.Labels[i]
		got := [6]string{fmt.Sprint(l.Horizon), fmt.Sprintf("%.1f", 100*l.ZeroShare), fmt.Sprintf("%.2f", l.Mean),
			fmt.Sprintf("%.2f", l.P90), fmt.Sprintf("%.2f", l.P99), fmt.Sprintf("%.2f", l.Max)}
		if got != want {
			t.Errorf("horizon %s: got %v, README says %v", want[0], got, want)
		}
	}
	// Spot checks against the file's first customers:
	//   00001 19970101 1 11.77 (one purchase)
	//   00003 19970102 2 20.76, 19970330 2 20.76, 19970402 2 19.54, 19971115 5 57.45, ...
	if tab.Str[0][0] != "00001" || tab.Num[tab.Col("first_value")][0] != 11.77 || tab.Str[tab.Col("first_weekday")][0] != "Wed" {
		t.Fatalf("customer 00001: %v %v", tab.Str[0][0], tab.Num[tab.Col("first_value")][0])
	}
	i := 2
	if tab.Str[0][i] != "00003" || tab.Num[tab.Col("count_d1")][i] != 2 ||
		tab.Num[tab.Col("ltv_30")][i] != 0 || tab.Num[tab.Col("ltv_90")][i] != 40.3 {
		t.Fatalf("customer 00003: %v count_d1 %v ltv_30 %v ltv_90 %v", tab.Str[0][i], tab.Num[tab.Col("count_d1")][i],
			tab.Num[tab.Col("ltv_30")][i], tab.Num[tab.Col("ltv_90")][i])
	}
	// The written table loads with its spec.
	enc, err := Fit(out, spec, FitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(out, spec, enc)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 23570 || ds.F != 2+4+7+7 || ds.T != 4 {
		t.Fatalf("dataset %d x %d, %d labels", ds.N, ds.F, ds.T)
	}
}

func TestBuildAsOfAndScoringSet(t *testing.T) {
	path := writeLog(t, "log.csv", ",", same, false)
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := BuildOptions{In: path, Customer: "cust", Time: "when", Value: "amount", Count: "items", Window: 3, Horizons: []int{5, 10}}

	// The scoring set on 01-21: C (first 01-20) lacks a full window, D
	// (01-19) just has one; C's 01-31 purchase is after the day.
	o := base
	o.NoLabels, o.AsOf = true, day("2024-01-21")
	tab, spec, st, err := BuildFromTransactions(o)
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.Str[0]; !reflect.DeepEqual(got, []string{"A", "B", "D"}) {
		t.Fatalf("scoring set customers %v", got)
	}
	if tab.Col("ltv_5") >= 0 || len(spec.Labels) != 2 || st.Rows != 12 || st.Dropped != 1 || len(st.Labels) != 0 {
		t.Fatalf("scoring set: columns %v, spec labels %v, stats %+v", tab.Names, spec.Labels, st)
	}
	if got := tab.Num[tab.Col("value_d1")]; !reflect.DeepEqual(got, []float64{14.75, 1.2, 9.99}) {
		t.Fatalf("value_d1 %v", got)
	}

	// The training table on 01-17: later transactions do not exist yet.
	o = base
	o.AsOf = day("2024-01-17")
	tab, _, st, err = BuildFromTransactions(o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Customers != 2 || st.Kept != 2 || st.Rows != 10 || !st.LogEnd.Equal(day("2024-01-14")) {
		t.Fatalf("stats %+v", st)
	}
	if got := tab.Num[tab.Col("ltv_10")]; !reflect.DeepEqual(got, []float64{1110, 0}) {
		t.Fatalf("ltv_10 %v", got)
	}
	o.AsOf = day("2023-12-31")
	_, _, _, err = BuildFromTransactions(o)
	errContains(t, err, "log.csv", "no transactions on or before 2023-12-31")
}
