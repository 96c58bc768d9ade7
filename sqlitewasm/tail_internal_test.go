package sqlitewasm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

var triviaCases = []struct {
	sql  string
	want bool
}{
	{"", true},
	{" \t\n\f\r", true},
	{";;;", true},
	{"-- comment", true},
	{"-- comment\n;", true},
	{"/* block */", true},
	{"/* unterminated", true},
	{"/**/;/**/", true},
	{"/*", false},        // SQLite reads a "/*" that ends the text as a slash
	{"\v", false},        // not SQLite's whitespace first…
	{" \v", true},        // …but within a run of spaces
	{"\v ", false},       // …
	{"--\n\v", true},     // a line comment's newline starts a run of spaces
	{"/* c */\v", false}, // a block comment's end does not
	{"--\n\v\n--", true}, // …
	{"\u00a0", false},
	{"\x00", false},
	{"; \x00 DROP TABLE t", false},
	{"-- c\nSELECT 1", false},
	{"/* c */ PRAGMA synchronous=OFF", false},
	{"- -", false},
	{"/ *", false},
	{"SELECT 1", false},
}

func TestTrivia(t *testing.T) {
	for _, tc := range triviaCases {
		if got := trivia(tc.sql); got != tc.want {
			t.Errorf("trivia(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

// FuzzTrivia checks trivia against SQLite's own parser: text trivia accepts prepares to no
// statement and no error, and text it refuses (short of a NUL byte, where SQLite stops
// reading) prepares to a statement or an error. Preparing here is harmless: a scratch
// in-memory connection, where whatever a pragma changes while it is prepared does not decide
// whether the next input prepares to something.
func FuzzTrivia(f *testing.F) {
	for _, tc := range triviaCases {
		f.Add(tc.sql)
	}
	c, err := Open(context.Background(), ":memory:", Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	f.Fuzz(func(t *testing.T, sql string) {
		s, _, err := c.db.Prepare(sql)
		if s != nil {
			s.Close()
		}
		sqliteTrivia := s == nil && err == nil
		got := trivia(sql)
		switch {
		case got && !sqliteTrivia:
			t.Fatalf("trivia(%q) = true, but SQLite prepares a statement (%v) or fails (%v)", sql, s != nil, err)
		case !got && sqliteTrivia && !strings.Contains(sql, "\x00"):
			t.Fatalf("trivia(%q) = false, but SQLite finds nothing to run", sql)
		}
	})
}

// TestNULHidesNothing checks that SQL text with a NUL byte, which SQLite would read only up
// to the NUL, is refused rather than run in part or not at all.
func TestNULHidesNothing(t *testing.T) {
	c, err := Open(context.Background(), ":memory:", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.ExecScript("CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"\x00INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1);\x00INSERT INTO t VALUES (2)"} {
		if _, err := c.Exec(sql, nil); !errors.Is(err, messages.ErrSQL) {
			t.Errorf("Exec(%q) = %v, want ErrSQL", sql, err)
		}
		if _, err := c.Query(sql, nil); !errors.Is(err, messages.ErrSQL) {
			t.Errorf("Query(%q) = %v, want ErrSQL", sql, err)
		}
	}
	if err := c.ExecScript("INSERT INTO t VALUES (3);\x00INSERT INTO t VALUES (4)"); !errors.Is(err, messages.ErrSQL) {
		t.Errorf("ExecScript with a NUL = %v, want ErrSQL", err)
	}
	row, err := c.QueryRow("SELECT group_concat(x) FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Index(0); got != "3" {
		t.Fatalf("rows %v, want only the 3 before the NUL", got)
	}
}

func TestBarePragma(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"PRAGMA cache_size", "cache_size"},
		{"  pragma\tCACHE_SIZE ;", "cache_size"},
		{"PRAGMA main.cache_size", "cache_size"},
		{"PRAGMA main . cache_size -- c", "cache_size"},
		{"/* c */PRAGMA/* c */user_version;PRAGMA user_version=3", "user_version"},
		{"PRAGMA cache_size=''", ""},
		{"PRAGMA cache_size = 0", ""},
		{"PRAGMA cache_size(0)", ""},
		{"PRAGMA query_only=0", ""},
		{"PRAGMA query_only ON", ""},
		{"PRAGMAcache_size", ""},
		{"PRAGMA", ""},
		{"PRAGMA 1", ""},
		{`PRAGMA "query_only"`, ""}, // quoted: refused (conservatively)
		{"PRAGMA main.", ""},
		{"SELECT * FROM pragma_cache_size", ""},
		{"EXPLAIN PRAGMA cache_size", ""},
		{"", ""},
	} {
		if got := barePragma(tc.sql); got != tc.want {
			t.Errorf("barePragma(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

func TestFirstKeyword(t *testing.T) {
	for _, tt := range []struct{ sql, word, rest string }{
		{"COMMIT", "COMMIT", ""},
		{" /* x */ end;", "END", ";"},
		{"-- c\nBegin immediate", "BEGIN", " immediate"},
		{"rollback transaction to s", "ROLLBACK", " transaction to s"},
		{"COMMIT--", "COMMIT", "--"},
		{"ENDX", "ENDX", ""},
		{"commit_log", "COMMIT_LOG", ""}, // one identifier, as SQLite's tokenizer reads it
		{"/* unterminated", "", ""},
		{"-- only a comment", "", ""},
		{"(SELECT 1)", "", "(SELECT 1)"},
		{"", "", ""},
	} {
		if w, r := FirstKeyword(tt.sql); w != tt.word || r != tt.rest {
			t.Errorf("FirstKeyword(%q) = %q, %q; want %q, %q", tt.sql, w, r, tt.word, tt.rest)
		}
	}
}
