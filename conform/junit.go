package conform

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// JUnit XML, the test report format CI systems (GitHub Actions reporters,
// GitLab's artifacts:reports:junit, Jenkins) show test by test.

// JUnitSuites is a <testsuites> document.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one <testsuite>.
type JUnitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one <testcase>: passed when it has no failure, error or
// skipped element.
type JUnitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Error     *JUnitMessage `xml:"error,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
}

// JUnitMessage is a failure, error or skipped element.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func (s *JUnitSuite) add(c JUnitCase) {
	s.Cases = append(s.Cases, c)
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Error != nil:
		s.Errors++
	case c.Skipped != nil:
		s.Skipped++
	}
}

// WriteJUnit writes suites as one JUnit XML document.
func WriteJUnit(w io.Writer, suites ...JUnitSuite) error {
	doc := JUnitSuites{Suites: suites}
	for _, s := range suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// JUnit is the report as a test suite: a test case per check and output
// ("native vs ort: y"), or, when the model is outside the vocabulary, an
// error case per unsupported op.
func (r *ModelReport) JUnit() JUnitSuite {
	s := JUnitSuite{Name: "odmn conform " + r.Model}
	class := strings.TrimSuffix(r.Model, filepath.Ext(r.Model))
	if r.NotApplicable != "" {
		if len(r.Unsupported) == 0 {
			s.add(JUnitCase{ClassName: class, Name: "import", Error: &JUnitMessage{Message: r.NotApplicable, Type: "not supported"}})
		}
		for _, o := range r.Unsupported {
			s.add(JUnitCase{ClassName: class, Name: "op " + o.Name(), Error: &JUnitMessage{Message: o.Reason, Type: "not supported"}})
		}
		return s
	}
	for _, c := range r.Checks {
		for _, d := range c.Outputs {
			tc := JUnitCase{ClassName: class, Name: fmt.Sprintf("%s vs %s: %s", c.Runtime, c.Reference, d.Output)}
			if !d.OK() {
				tc.Failure = &JUnitMessage{Message: d.describe(), Type: "beyond tolerance", Text: d.String()}
			}
			s.add(tc)
		}
	}
	return s
}

// ErrorSuite is the suite of a check that could not run: one test case in
// error, with the reason.
func ErrorSuite(model string, err error) JUnitSuite {
	s := JUnitSuite{Name: "odmn conform " + model}
	s.add(JUnitCase{ClassName: strings.TrimSuffix(model, filepath.Ext(model)), Name: "conform",
		Error: &JUnitMessage{Message: err.Error(), Type: "cannot run"}})
	return s
}

// JUnit is the node test report as a test suite: a test case per node
// test; not applicable ones are skipped, with the reason.
func (r *NodeReport) JUnit() JUnitSuite {
	s := JUnitSuite{Name: "odmn conform nodes " + r.Dir}
	for _, x := range r.Results {
		tc := JUnitCase{ClassName: "conform.nodes", Name: x.Name}
		switch x.Status {
		case Failed:
			tc.Failure = &JUnitMessage{Message: x.Reason, Type: "failed"}
		case NotApplicable:
			tc.Skipped = &JUnitMessage{Message: x.Reason, Type: x.Kind}
		}
		s.add(tc)
	}
	return s
}
