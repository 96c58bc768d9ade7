package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

// Output formats of exec and the shell's .mode.
const (
	formatTable = "table"
	formatCSV   = "csv"
	formatJSON  = "json"
)

func checkFormat(f string) error {
	switch f {
	case formatTable, formatCSV, formatJSON:
		return nil
	}
	return fmt.Errorf("unknown format %q: want table, csv or json", f)
}

// writeCursor writes the cursor's rows to w in format, with headers, and returns how many it
// wrote (see writeRows).
func writeCursor(ctx context.Context, w io.Writer, format string, cur *actors.Cursor) (int, error) {
	return writeRows(w, format, true, cur.Columns(), cur.All(ctx))
}

// writeRows writes rows (a cursor's All, a local one's or a grid tenant's) of columns cols to w
// in format and returns how many it wrote. Table reads every row first (to align the
// columns); csv and json stream them. Without headers, table
// and csv leave out their header (json always names its keys).
//
//   - table: a header, a rule, and aligned rows; numbers right-aligned, NULL as "NULL",
//     blobs as x'hex', times in RFC 3339, control characters escaped (\n, \t, \x1b), in
//     values and column names alike: what a database holds never reaches the terminal as a
//     control sequence.
//   - csv: a header row, then RFC 4180 records; NULL as an empty field.
//   - json: an array of objects, one per row, keys in column order; blobs as base64 strings,
//     times as RFC 3339 strings, JSON columns embedded as JSON.
func writeRows(w io.Writer, format string, headers bool, cols []messages.Column, rows iter.Seq2[messages.Row, error]) (int, error) {
	switch format {
	case formatCSV:
		cw := csv.NewWriter(w)
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name
		}
		if headers {
			cw.Write(names)
		}
		n := 0
		rec := make([]string, len(cols))
		for row, err := range rows {
			if err != nil {
				cw.Flush()
				return n, err
			}
			for i := range rec {
				rec[i] = textOf(row.Index(i), "", false)
			}
			cw.Write(rec)
			n++
		}
		cw.Flush()
		return n, cw.Error()
	case formatJSON:
		bw := bufio.NewWriter(w)
		keys := make([][]byte, len(cols))
		for i, c := range cols {
			keys[i] = jsonString(c.Name)
		}
		bw.WriteString("[")
		n := 0
		for row, err := range rows {
			if err != nil {
				if n > 0 {
					bw.WriteString("\n")
				}
				bw.WriteString("]\n")
				bw.Flush()
				return n, err
			}
			if n > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n{")
			for i := range cols {
				if i > 0 {
					bw.WriteByte(',')
				}
				bw.Write(keys[i])
				bw.WriteByte(':')
				bw.Write(jsonValue(row.Index(i)))
			}
			bw.WriteString("}")
			n++
		}
		if n > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString("]\n")
		return n, bw.Flush()
	default:
		var all []messages.Row
		for row, err := range rows {
			if err != nil {
				return 0, err
			}
			all = append(all, row)
		}
		return len(all), writeTable(w, cols, all, headers)
	}
}

// writeTable writes rows as an aligned table, under a header and a rule with headers.
func writeTable(w io.Writer, cols []messages.Column, rows []messages.Row, headers bool) error {
	cells := make([][]string, len(rows))
	width := make([]int, len(cols))
	right := make([]bool, len(cols)) // a column of numbers only (NULLs aside) is right-aligned
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = textOf(c.Name, "", true)
		if headers {
			width[i] = utf8.RuneCountInString(header[i])
		}
		right[i] = len(rows) > 0
	}
	for r, row := range rows {
		cells[r] = make([]string, len(cols))
		for i := range cols {
			v := row.Index(i)
			switch v.(type) {
			case int64, float64, nil:
			default:
				right[i] = false
			}
			s := textOf(v, "NULL", true)
			cells[r][i] = s
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	bw := bufio.NewWriter(w)
	line := func(vals []string, align bool) {
		for i, s := range vals {
			pad := width[i] - utf8.RuneCountInString(s)
			if i > 0 {
				bw.WriteString("  ")
			}
			if align && right[i] {
				bw.WriteString(strings.Repeat(" ", pad))
				bw.WriteString(s)
				continue
			}
			bw.WriteString(s)
			if i < len(vals)-1 {
				bw.WriteString(strings.Repeat(" ", pad))
			}
		}
		bw.WriteByte('\n')
	}
	if headers {
		rule := make([]string, len(cols))
		for i := range cols {
			rule[i] = strings.Repeat("-", width[i])
		}
		line(header, false)
		line(rule, false)
	}
	for _, r := range cells {
		line(r, true)
	}
	return bw.Flush()
}

// textOf formats a value for the table and csv formats.
func textOf(v any, null string, escape bool) string {
	var s string
	switch v := v.(type) {
	case nil:
		return null
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case string:
		s = v
	case []byte:
		return "x'" + hex.EncodeToString(v) + "'"
	case json.RawMessage:
		s = string(v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(v)
	default:
		s = fmt.Sprint(v)
	}
	if escape && (strings.ContainsFunc(s, isControl) || !utf8.ValidString(s)) {
		s = escapeControl(s)
	}
	return s
}

// formatFloat formats f as SQLite's shell would: always with a decimal point or exponent, so
// that a REAL never reads as an INTEGER.
func formatFloat(f float64) string {
	if math.IsInf(f, 0) {
		if f > 0 {
			return "Inf"
		}
		return "-Inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// isControl reports whether r is a control character: C0 (below ' '), DEL, or C1 (U+0080 to
// U+009F, which some terminals read as ESC sequences: U+009B is CSI).
func isControl(r rune) bool {
	return r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

// escapeControl writes s's control characters as escapes: \n, \r, \t, \x1b, \u009b; and
// each byte of invalid UTF-8 as \xNN (a stray 0x9b is CSI to a terminal that is not UTF-8).
func escapeControl(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
				continue
			}
		}
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case r < ' ' || r == 0x7f:
				fmt.Fprintf(&b, `\x%02x`, r)
			case isControl(r):
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// jsonString encodes s as a JSON string, without HTML escaping.
func jsonString(s string) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

// jsonValue encodes a row value as JSON.
func jsonValue(v any) []byte {
	switch v := v.(type) {
	case nil:
		return []byte("null")
	case int64:
		return strconv.AppendInt(nil, v, 10)
	case float64:
		if math.IsInf(v, 1) {
			return []byte("9e999") // as SQLite's JSON functions write infinities
		}
		if math.IsInf(v, -1) {
			return []byte("-9e999")
		}
		if math.IsNaN(v) {
			return []byte("null")
		}
		return strconv.AppendFloat(nil, v, 'g', -1, 64)
	case string:
		return jsonString(v)
	case json.RawMessage:
		if json.Valid(v) {
			return v
		}
		return jsonString(string(v))
	case time.Time:
		return jsonString(v.Format(time.RFC3339Nano))
	default:
		b, err := json.Marshal(v) // bool; []byte as base64
		if err != nil {
			return jsonString(fmt.Sprint(v))
		}
		return b
	}
}

// commas formats n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
