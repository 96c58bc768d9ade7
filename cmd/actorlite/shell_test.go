package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

func TestSplitSQL(t *testing.T) {
	tests := []struct {
		src   string
		stmts []string
		lines []int
		rest  string
		blank bool
	}{
		{"SELECT 1;\n", []string{"SELECT 1"}, []int{0}, "\n", true},
		{"SELECT 1; SELECT 2;\n", []string{"SELECT 1", "SELECT 2"}, []int{0, 0}, "\n", true},
		{"SELECT\n  1\n", nil, nil, "SELECT\n  1\n", false},
		{"\n\nSELECT\n1;", []string{"SELECT\n1"}, []int{2}, "", true},
		{"SELECT 'a;b', \"c;d\", `e;f`, [g;h];", []string{"SELECT 'a;b', \"c;d\", `e;f`, [g;h]"}, []int{0}, "", true},
		{"SELECT 'it''s;';", []string{"SELECT 'it''s;'"}, []int{0}, "", true},
		{"SELECT 'open;\n", nil, nil, "SELECT 'open;\n", false},
		{"-- only a comment; here\n", nil, nil, "-- only a comment; here\n", true},
		{"/* a; */ SELECT 1 /* b; */;", []string{"SELECT 1 /* b; */"}, []int{0}, "", true},
		{"/* open;\n", nil, nil, "/* open;\n", false},
		{";;  ;", nil, nil, "", true},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n INSERT INTO u VALUES (1);\n", nil, nil,
			"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n INSERT INTO u VALUES (1);\n", false},
		{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n INSERT INTO u VALUES (CASE WHEN 1 THEN 2 END, 3);\nEND; SELECT 1;",
			[]string{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n INSERT INTO u VALUES (CASE WHEN 1 THEN 2 END, 3);\nEND", "SELECT 1"},
			[]int{0, 2}, "", true},
		{"SELECT end;", []string{"SELECT end"}, []int{0}, "", true},
		// A trigger ends at "; END;" only: not at a CASE's END, and after EXPLAIN too.
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; END;",
			[]string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; END"}, []int{0}, "", true},
		{"EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;\nSELECT 2;",
			[]string{"EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", "SELECT 2"}, []int{0, 1}, "", true},
		// As SQLite's tokenizer reads them: a TCL-style variable, '\v', a byte order mark, and
		// no other white space.
		{"SELECT $a(x;y);\v;\ufeff;SELECT 1 AS b\u00a0;", []string{"SELECT $a(x;y)", "SELECT 1 AS b\u00a0"}, []int{0, 0}, "", true},
		// A "--" comment that the text ends in may go on.
		{"SELECT 1; -- to be", []string{"SELECT 1"}, []int{0}, " -- to be", false},
		{"SELECT 1 -- one\r\n;", []string{"SELECT 1 -- one"}, []int{0}, "", true},
	}
	for _, tt := range tests {
		stmts, rest, blank := splitSQL(tt.src)
		var texts []string
		var lines []int
		for _, s := range stmts {
			texts = append(texts, s.text)
			lines = append(lines, s.line)
		}
		if fmt.Sprintf("%q %v", texts, lines) != fmt.Sprintf("%q %v", tt.stmts, tt.lines) || rest != tt.rest || blank != tt.blank {
			t.Errorf("splitSQL(%q) = %q %v, rest %q, blank %v; want %q %v, rest %q, blank %v",
				tt.src, texts, lines, rest, blank, tt.stmts, tt.lines, tt.rest, tt.blank)
		}
	}
}

// Fuzz targets for the CLI's parsers: FuzzSplitSQL here, FuzzParseEvent in ingest_test.go.
// Besides the seeds added in the code, each has a committed seed corpus in
// testdata/fuzz/<target>/ (inputs that once failed or that reach an edge); "go test" runs
// them all, and "go test -run=^$ -fuzz=^FuzzSplitSQL$ ./cmd/actorlite/" (or
// ^FuzzParseEvent$) explores further.

// sqlSpace is the white space of SQLite's tokenizer (sqlite3_complete leaves out '\v'), but
// for the byte order mark, which is white space only at the start of a token.
const sqlSpace = " \t\n\v\f\r"

// bom is a UTF-8 byte order mark.
const bom = "\ufeff"

// FuzzSplitSQL checks the shell's statement splitter: every statement is non-empty and
// trimmed, is found again alone in its own text, and starts on the line given; feeding the
// text in two pieces, the way the shell loop does, gives the same statements; and where
// SQLite prepares the whole text, it splits it into the same statements.
func FuzzSplitSQL(f *testing.F) {
	for _, s := range []string{
		"SELECT 1;\n",
		"SELECT 1; SELECT 2;\n",
		"SELECT 'a;b', \"c;d\", `e;f`, [g;h];",
		"SELECT 'it''s;';",
		"/* a; */ SELECT 1 /* b; */;",
		"SELECT 1 -- c;\n;",
		";;  ;",
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n INSERT INTO u VALUES (1);\nEND; SELECT 1;",
		"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n INSERT INTO u VALUES (CASE WHEN 1 THEN 2 END, 3);\nEND; SELECT 1;",
		"EXPLAIN QUERY PLAN SELECT end FROM t;",
		"SELECT x'00ff', 1e3, ?1, :a, @b, $c;",
		"INSERT INTO t VALUES (1, 'two', NULL) RETURNING *;\nUPDATE t SET a = a + 1 WHERE b LIKE '%;%';",
		"SELECT 1 /* open",
		"SELECT 'open;\n",
	} {
		f.Add(s)
	}
	oracle := newSQLiteSplitter(f)
	f.Fuzz(func(t *testing.T, src string) {
		stmts, rest, blank := splitSQL(src)
		checkStmts(t, src, stmts)
		if !strings.HasSuffix(src, rest) {
			t.Fatalf("splitSQL(%q): rest %q is not the end of the text", src, rest)
		}
		if blank && skipSQLSpace(rest) != "" {
			t.Fatalf("splitSQL(%q): rest %q is blank", src, rest)
		}

		// A statement's own text (and a ';' on a line of its own: it may end in a "--"
		// comment) is that statement, and nothing more.
		for _, st := range stmts {
			again, rest, blank := splitSQL(st.text + "\n;")
			if len(again) != 1 || again[0].text != st.text || again[0].line != 0 || rest != "" || !blank {
				t.Fatalf("splitSQL(%q): statement %q split again gives %s, rest %q, blank %v", src, st.text, fmtStmts(again), rest, blank)
			}
		}

		// The shell loop: the complete statements of what was read so far, then the rest
		// (unless blank) followed by what comes next.
		for _, k := range []int{len(src) / 3, len(src) / 2, 2 * len(src) / 3} {
			first, rest1, blank1 := splitSQL(src[:k])
			carry := ""
			if !blank1 {
				carry = rest1
			}
			shift := strings.Count(src[:k-len(carry)], "\n")
			second, rest2, blank2 := splitSQL(carry + src[k:])
			got := first
			for _, st := range second {
				got = append(got, sqlStmt{text: st.text, line: st.line + shift})
			}
			if fmtStmts(got) != fmtStmts(stmts) || blank2 != blank || !strings.HasSuffix(rest, rest2) {
				t.Fatalf("splitSQL(%q) = %s, rest %q, blank %v; in two pieces at %d: %s, rest %q, blank %v",
					src, fmtStmts(stmts), rest, blank, k, fmtStmts(got), rest2, blank2)
			}
		}

		oracle.check(t, src)
	})
}

// checkStmts checks what is true of any statement splitSQL returns.
func checkStmts(t *testing.T, src string, stmts []sqlStmt) {
	t.Helper()
	lines := strings.Split(src, "\n")
	for i, st := range stmts {
		switch {
		case st.text == "":
			t.Fatalf("splitSQL(%q): statement %d is empty", src, i)
		case strings.Trim(st.text, sqlSpace) != st.text || strings.HasPrefix(st.text, bom):
			t.Fatalf("splitSQL(%q): statement %d, %q, is not trimmed", src, i, st.text)
		case st.line < 0 || st.line >= len(lines):
			t.Fatalf("splitSQL(%q): statement %d, %q, on line %d of %d", src, i, st.text, st.line, len(lines))
		case i > 0 && st.line < stmts[i-1].line:
			t.Fatalf("splitSQL(%q): statement %d, %q, on line %d, before the previous one", src, i, st.text, st.line)
		case !strings.Contains(lines[st.line], strings.SplitN(st.text, "\n", 2)[0]):
			t.Fatalf("splitSQL(%q): statement %d, %q, is not on line %d, %q", src, i, st.text, st.line, lines[st.line])
		}
	}
}

func fmtStmts(stmts []sqlStmt) string {
	var b strings.Builder
	b.WriteString("[")
	for i, st := range stmts {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%d:%q", st.line, st.text)
	}
	b.WriteString("]")
	return b.String()
}

// sqliteSplitter splits SQL text with SQLite's own parser: prepare, then the tail, as
// sqlitewasm.Conn.ExecScript walks a script, on a scratch in-memory database with a few
// tables (statements are prepared, never run).
type sqliteSplitter struct {
	mu sync.Mutex
	c  *sqlite3.Conn
}

func newSQLiteSplitter(tb testing.TB) *sqliteSplitter {
	c, err := sqlite3.Open(":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := c.Exec("CREATE TABLE t(a, b, c); CREATE TABLE u(a, b, c); CREATE VIEW v AS SELECT * FROM t"); err != nil {
		tb.Fatal(err)
	}
	return &sqliteSplitter{c: c}
}

// split returns the statements SQLite finds in src, each as prepare consumed it (leading
// spaces, comments and empty statements included, its ';' too), or false if one of them
// does not prepare.
func (s *sqliteSplitter) split(src string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pieces []string
	for rest := src; rest != ""; {
		st, tail, err := s.c.Prepare(rest)
		if err != nil {
			return nil, false
		}
		if st == nil { // only spaces, comments and ';' left
			break
		}
		st.Close()
		pieces = append(pieces, rest[:len(rest)-len(tail)])
		rest = tail
	}
	return pieces, true
}

// check compares splitSQL with SQLite on a text that SQLite prepares without an error. A text
// that ends without a ';' gets one (as the shell adds one at the end of the input). A text
// that ends in an open "/* comment" is left out: SQLite's parser reads it as a comment, and
// sqlite3_complete, whom the shell follows, as an incomplete statement.
func (s *sqliteSplitter) check(t *testing.T, src string) {
	t.Helper()
	if strings.ContainsRune(src, 0) { // SQLite stops at a NUL
		return
	}
	if i := strings.LastIndex(src, "/*"); i >= 0 && !strings.Contains(src[i+2:], "*/") {
		return
	}
	if _, _, blank := splitSQL(src); !blank {
		src += "\n;"
	}
	pieces, ok := s.split(src)
	if !ok {
		return
	}
	stmts, rest, _ := splitSQL(src)
	if len(stmts) != len(pieces) || skipSQLSpace(rest) != "" {
		t.Fatalf("splitSQL(%q) = %s, rest %q; SQLite: %q", src, fmtStmts(stmts), rest, pieces)
	}
	// Each statement is the one SQLite found, from its first token to its last token or
	// comment: only white space, comments and empty statements before it, white space and
	// its ';' after it.
	off := 0
	for i, p := range pieces {
		st, body := stmts[i], skipSQLSpace(p)
		after, ok := strings.CutPrefix(body, st.text)
		line := strings.Count(src[:off+len(p)-len(body)], "\n")
		if !ok || strings.Trim(after, sqlSpace+bom) != ";" || st.line != line {
			t.Fatalf("splitSQL(%q): statement %d is %d:%q; SQLite's is %d:%q", src, i, st.line, st.text, line, p)
		}
		off += len(p)
	}
}

// skipSQLSpace skips the white space, comments (an open "/*" one included) and empty
// statements at the start of s.
func skipSQLSpace(s string) string {
	for {
		s = strings.TrimLeft(s, sqlSpace+bom+";")
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s[2:], "*/"); i >= 0 {
				s = s[2+i+2:]
				continue
			}
			return ""
		}
		return s
	}
}
