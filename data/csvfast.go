package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
)

// recordReader reads CSV records as encoding/csv's Reader does with its
// defaults and ReuseRecord (comma-separated, the first record fixing the
// field count, empty lines skipped, \r\n read as \n, a trailing \r before
// the end of the file dropped), with the same records, errors and
// positions. A line without a quote, nearly every line of a data file, is
// split at its commas directly; a record with quotes, which may span
// lines, is handed whole to encoding/csv.
type recordReader struct {
	br      *bufio.Reader
	line    int64 // lines read
	off     int64 // bytes read
	recLine int64 // the line the last record started on
	width   int   // fields per record (0: not known yet)
	raw     []byte
	rec     []string
}

func newRecordReader(r io.Reader) *recordReader {
	return &recordReader{br: bufio.NewReaderSize(r, 1<<20)}
}

// readLine returns the next line with its newline (none at the end of
// the file); the slice is valid until the next call.
func (r *recordReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.raw = append(r.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			r.raw = append(r.raw, line...)
		}
		line = r.raw
	}
	if len(line) > 0 && err == io.EOF {
		err = nil
	}
	if len(line) > 0 {
		r.line++
		r.off += int64(len(line))
	}
	return line, err
}

// content is line without its newline (\n, \r\n, or a final \r at the
// end of the file, as encoding/csv drops them).
func content(line []byte, last bool) []byte {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	} else if last && n > 0 && line[n-1] == '\r' {
		n--
	}
	return line[:n]
}

// Read returns the next record (the slice is reused by the next call;
// its strings are not) or io.EOF.
func (r *recordReader) Read() ([]string, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		body := content(line, line[len(line)-1] != '\n')
		if len(body) == 0 {
			continue // an empty line
		}
		r.recLine = r.line
		if bytes.IndexByte(body, '"') >= 0 {
			return r.quoted(line)
		}
		s := string(body)
		r.rec = r.rec[:0]
		for {
			i := indexComma(s)
			if i < 0 {
				r.rec = append(r.rec, s)
				break
			}
			r.rec = append(r.rec, s[:i])
			s = s[i+1:]
		}
		return r.rec, r.count()
	}
}

func indexComma(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return i
		}
	}
	return -1
}

// count checks the record's field count against the first record's.
func (r *recordReader) count() error {
	if r.width == 0 {
		r.width = len(r.rec)
		return nil
	}
	if len(r.rec) != r.width {
		return &csv.ParseError{StartLine: int(r.recLine), Line: int(r.recLine), Column: 1, Err: csv.ErrFieldCount}
	}
	return nil
}

// quoted reads the rest of a record that has quotes (first is its first
// line) and parses it with encoding/csv, positions made the file's. A
// record ends at the first newline outside a quoted field, as in
// encoding/csv: a quote that opens no field (a bare quote) does not make
// it span lines, so a malformed line is reported where it is.
func (r *recordReader) quoted(first []byte) ([]string, error) {
	text := append([]byte(nil), first...)
	inQuotes := scanQuotes(first, false)
	for inQuotes {
		line, err := r.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		text = append(text, line...)
		inQuotes = scanQuotes(line, true)
	}
	sub := csv.NewReader(bytes.NewReader(text))
	sub.FieldsPerRecord = -1
	rec, err := sub.Read()
	r.rec = append(r.rec[:0], rec...)
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		e := *pe
		base := int(r.recLine) - 1
		e.StartLine += base
		e.Line += base
		return r.rec, &e
	}
	if err != nil {
		return nil, err
	}
	return r.rec, r.count()
}

// scanQuotes reports whether line ends inside a quoted field, given that
// it starts inside one when open.
func scanQuotes(line []byte, open bool) bool {
	in, start := open, !open
	for i := 0; i < len(line); i++ {
		ch := line[i]
		if in {
			if ch == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++
				} else {
					in = false
				}
			}
			continue
		}
		switch {
		case ch == ',':
			start = true
			continue
		case ch == '"' && start:
			in = true
		}
		start = false
	}
	return in
}

// FieldPos returns the line the last record started on (encoding/csv's
// FieldPos for field 0; the column is not kept).
func (r *recordReader) FieldPos(int) (line, column int) { return int(r.recLine), 1 }

// InputOffset is the bytes read so far (through the last record).
func (r *recordReader) InputOffset() int64 { return r.off }
