package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// Tests of the shell's dot commands, through the built binary, with real files.

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCLIShellHelp checks that .help lists every dot command sqlite3 users reach for, and that
// each one it lists is known to the shell.
func TestCLIShellHelp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "help.db")
	r := mustCLI(t, 0, strings.NewReader(".help\n"), "shell", db)
	for _, c := range []string{".dump", ".exit", ".quit", ".headers on|off", ".help", ".import [--skip N] FILE TABLE",
		".indexes [TABLE]", ".mode [table|csv|json]", ".output [FILE]", ".read FILE", ".schema [TABLE]", ".tables", ".timer on|off"} {
		if !regexp.MustCompile(`(?m)(^|, )` + regexp.QuoteMeta(c) + `( |,)`).MatchString(r.stdout) {
			t.Errorf(".help lacks %q:\n%s", c, r.stdout)
		}
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(dotCommands) {
		t.Errorf(".help has %d lines for %d commands:\n%s", len(lines), len(dotCommands), r.stdout)
	}
	// Every command .help lists is known (a wrong use says how to use it, not "unknown").
	var script strings.Builder
	for _, l := range lines {
		name := strings.TrimSuffix(strings.Fields(l)[0], ",")
		if name == ".exit" || name == ".read" || name == ".output" {
			continue // leave, read, and redirect: tried below
		}
		fmt.Fprintf(&script, "%s a b c d e\n", name)
	}
	r = mustCLI(t, 1, strings.NewReader(script.String()), "shell", db)
	if strings.Contains(r.stderr, "unknown command") || strings.Count(r.stderr, "usage: .") != len(lines)-3 {
		t.Errorf("known commands with too many arguments:\n%s", r.stderr)
	}
	r = mustCLI(t, 1, strings.NewReader(".frobnicate\n"), "shell", db)
	contains(t, "unknown", r.stderr, `Error: near line 1: unknown command ".frobnicate": enter .help for the list`)
}

// TestCLIShellRead checks .read: statements and dot commands of a file, nested, its errors as
// FILE:LINE: (plain digits), -bail and .quit inside it, and a file that reads itself.
func TestCLIShellRead(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "read.db")
	inner, outer, self := filepath.Join(dir, "inner.sql"), filepath.Join(dir, "outer.sql"), filepath.Join(dir, "self.sql")
	writeFile(t, inner, "INSERT INTO t VALUES (2);\n\nSELECT nope\n  FROM t;\nINSERT INTO t VALUES (3);\n")
	var long strings.Builder
	for range 1200 {
		long.WriteString("\n")
	}
	writeFile(t, outer, "CREATE TABLE t (a);\nINSERT INTO t VALUES (1);\n.read "+inner+"\n.bogus\n"+long.String()+"SELECT 'x' AS late, count(*) AS n FROM t;\n")
	writeFile(t, self, ".read "+self+"\n")

	r := mustCLI(t, 1, strings.NewReader("SELECT 'before' AS s;\n.read "+outer+"\nSELECT sum(a) AS total FROM t;\n.read "+filepath.Join(dir, "missing.sql")+"\n"), "shell", db)
	if want := "s\n------\nbefore\nlate  n\n----  -\nx     3\ntotal\n-----\n    6\n"; r.stdout != want {
		t.Errorf(".read stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	wantErr := inner + ":3: SQL logic error: no such column: nope (in \"SELECT nope\\n  FROM t\")\n" +
		outer + `:4: unknown command ".bogus": enter .help for the list` + "\n" +
		"Error: near line 4: open " + filepath.Join(dir, "missing.sql") + ": no such file or directory\n"
	if r.stderr != wantErr {
		t.Errorf(".read stderr:\n%s\nwant:\n%s", r.stderr, wantErr)
	}

	// -bail stops at the first error, in the file and after it; so does .quit.
	r = mustCLI(t, 1, strings.NewReader(".read "+inner+"\nSELECT 'after' AS s;\n"), "shell", "-bail", db)
	if r.stdout != "" || r.stderr != inner+":3: SQL logic error: no such column: nope (in \"SELECT nope\\n  FROM t\")\n" {
		t.Errorf(".read with -bail: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	quit := filepath.Join(dir, "quit.sql")
	writeFile(t, quit, "SELECT 1 AS one;\n.quit\nSELECT 2 AS two;\n")
	r = mustCLI(t, 0, strings.NewReader(".read "+quit+"\nSELECT 3 AS three;\n"), "shell", db)
	if r.stdout != "one\n---\n  1\n" {
		t.Errorf(".quit in .read: %q", r.stdout)
	}
	// A file that reads itself stops at the depth limit, once.
	r = mustCLI(t, 1, strings.NewReader(".read "+self+"\nSELECT 'on' AS s;\n"), "shell", db)
	if want := fmt.Sprintf("%s:1: %s: .read nested too deep (%d files)\n", self, self, maxReadDepth); r.stderr != want {
		t.Errorf("self-reading file: stderr %q, want %q", r.stderr, want)
	}
	contains(t, "after the self-reading file", r.stdout, "s\n--\non\n")
}

// TestCLIShellHeadersOutputIndexes checks .headers, .output and .indexes.
func TestCLIShellHeadersOutputIndexes(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "h.db"), filepath.Join(dir, "out.txt")
	script := `CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT UNIQUE, c);
CREATE INDEX t_c ON t (c);
CREATE TABLE u (x);
CREATE INDEX u_x ON u (x);
CREATE TABLE "` + "\x1b[31m" + `" (y UNIQUE);
INSERT INTO t VALUES (1, 'one', 1.5);
.headers off
SELECT * FROM t;
.mode csv
SELECT * FROM t;
.headers on
SELECT * FROM t;
.mode table
.output ` + out + `
SELECT b FROM t;
.tables
.output
SELECT 'back' AS s;
.indexes
.indexes t
.indexes nope
.headers maybe
`
	r := mustCLI(t, 1, strings.NewReader(script), "shell", db)
	want := "1  one  1.5\n1,one,1.5\na,b,c\n1,one,1.5\ns\n----\nback\n" +
		"sqlite_autoindex_\\x1b[31m_1  sqlite_autoindex_t_1\nt_c                          u_x\n" +
		"sqlite_autoindex_t_1  t_c\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%q\nwant:\n%q", r.stdout, want)
	}
	contains(t, "stderr", r.stderr, `Error: near line 22: want on or off, got "maybe"`)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "b\n---\none\n\\x1b[31m  t         u\n"; string(got) != want {
		t.Errorf(".output file:\n%q\nwant:\n%q", got, want)
	}
	r = mustCLI(t, 1, strings.NewReader(".output "+filepath.Join(dir, "no", "such", "dir.txt")+"\nSELECT 1 AS x;\n"), "shell", db)
	contains(t, ".output to a missing directory", r.stderr, "Error: near line 1: open ")
	if r.stdout != "x\n-\n1\n" {
		t.Errorf("after a failed .output: %q", r.stdout)
	}
}

// TestCLIShellTimer checks that .timer writes Run Time to stdout, after the result it times,
// as sqlite3 does: a captured session keeps them together.
func TestCLIShellTimer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "timer.db")
	r := mustCLI(t, 0, strings.NewReader(".timer on\nSELECT 1 AS x UNION ALL SELECT 2;\nCREATE TABLE t (a);\n.timer off\nSELECT 3 AS y;\n"), "shell", db)
	if got, want := runTime.ReplaceAllString(r.stdout, "Run Time: T ("), "x\n-\n1\n2\nRun Time: T (2 rows)\nRun Time: T (0 rows)\ny\n-\n3\n"; got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if !regexp.MustCompile(`Run Time: \d+(\.\d+)?(ns|µs|ms|s) \(2 rows\)`).MatchString(r.stdout) {
		t.Errorf("no duration: %s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
}

// TestCLIShellPiped checks that a script piped in is read as it is, byte for byte: what a
// terminal would read as keys (arrows, Ctrl-C, Ctrl-D, CR) are data, and no history file is
// read or written.
func TestCLIShellPiped(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "piped.db")
	script := "SELECT 'up\x1b[A' || 'ctrl\x03c\x04d' AS v;\r\nSELECT 'crlf' AS w;\r\n"
	cmd := newCmd(t, strings.NewReader(script), "shell", "-mode", "json", db)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, &stderr)
	}
	if want := "[\n{\"v\":\"up\\u001b[Actrl\\u0003c\\u0004d\"}\n]\n[\n{\"w\":\"crlf\"}\n]\n"; stdout.String() != want {
		t.Errorf("stdout:\n%q\nwant:\n%q", stdout.String(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, ".actorlite_history")); !os.IsNotExist(err) {
		t.Errorf("a piped script wrote a history file: %v", err)
	}
}

// TestCLIShellImport checks .import: a header row creates the table, rows keep their text
// and order, a bad row (fields, quotes, a constraint) is reported as FILE:LINE: and skipped,
// --skip, a byte order mark, CRLF and quoted newlines.
func TestCLIShellImport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "imp.db")
	people := filepath.Join(dir, "people.csv")
	writeFile(t, people, "\ufeffid,name,note\r\n1,Ann,\"multi\nline\"\r\n2,Bob\r\n3,\"Cy, \"\"the\"\" third\",007\r\n4,Di,x,extra\r\n5,E\"d,bare\r\n6,Fay,\r\n\r\n7,Gus,last")
	r := mustCLI(t, 1, strings.NewReader(".import "+people+" people\n.mode json\nSELECT rowid, * FROM people;\n.schema people\n"), "shell", db)
	wantErr := people + ":4: expected 3 columns, found 2\n" +
		people + ":6: expected 3 columns, found 4\n" +
		people + ":7: bare \" in non-quoted-field\n" +
		"Error: near line 1: 3 rows rejected (lines 4, 6, 7), the other 4 rows imported\n"
	if r.stderr != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, wantErr)
	}
	want := `[
{"rowid":1,"id":"1","name":"Ann","note":"multi\nline"},
{"rowid":2,"id":"3","name":"Cy, \"the\" third","note":"007"},
{"rowid":3,"id":"6","name":"Fay","note":""},
{"rowid":4,"id":"7","name":"Gus","note":"last"}
]
CREATE TABLE "people" ("id" TEXT, "name" TEXT, "note" TEXT);
`
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}

	// Into an existing table: every row is data (as sqlite3), unless --skip; a constraint
	// rejects its row only.
	more := filepath.Join(dir, "more.csv")
	writeFile(t, more, "k,v\n1,one\n2,two\n1,again\n3,three\n")
	r = mustCLI(t, 1, strings.NewReader("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL);\n.import --skip 1 "+more+" kv\n.import --csv "+more+" kv\nSELECT * FROM kv;\n"), "shell", db)
	if want := "k  v\n-  -----\n1  one\n2  two\n3  three\n"; r.stdout != want {
		t.Errorf("kv:\n%s\nwant:\n%s", r.stdout, want)
	}
	contains(t, "kv stderr", r.stderr, more+":4: constraint failed: UNIQUE constraint failed: kv.k\n",
		"near line 2: 1 row rejected (line 4), the other 3 rows imported",
		more+":1: datatype mismatch\n", more+":2: constraint failed: UNIQUE constraint failed: kv.k\n",
		"near line 3: 5 rows rejected (lines 1, 2, 3, 4, 5), the other 0 rows imported")

	// Inside the user's transaction: a savepoint of it, rolled back with it.
	r = mustCLI(t, 0, strings.NewReader("BEGIN;\n.import "+more+" inside\nSELECT count(*) AS n FROM inside;\nROLLBACK;\n"+
		"SELECT count(*) AS n FROM sqlite_schema WHERE name = 'inside';\n"), "shell", db)
	if want := "n\n-\n4\nn\n-\n0\n"; r.stdout != want {
		t.Errorf("inside BEGIN:\n%s\nwant:\n%s", r.stdout, want)
	}

	// Many bad rows: 20 reported one by one, 10 listed in the summary, all counted.
	var bad strings.Builder
	bad.WriteString("a,b\n")
	for i := range 30 {
		if i%6 == 0 {
			fmt.Fprintf(&bad, "%d,ok\n", i)
		} else {
			fmt.Fprintf(&bad, "%d\n", i)
		}
	}
	badPath := filepath.Join(dir, "bad.csv")
	writeFile(t, badPath, bad.String())
	r = mustCLI(t, 1, strings.NewReader(".import "+badPath+" bad\n"), "shell", db)
	if n := strings.Count(r.stderr, badPath+":"); n != 20 {
		t.Errorf("%d bad rows reported one by one, want 20:\n%s", n, r.stderr)
	}
	contains(t, "many bad rows", r.stderr, badPath+":3: expected 2 columns, found 1\n", "(further bad rows are counted, not shown)\n",
		"Error: near line 1: 25 rows rejected (lines 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, … (15 more)), the other 5 rows imported\n")

	// A first row that does not make a table (a name twice): said with its place, without
	// the CREATE statement.
	dup := filepath.Join(dir, "dup.csv")
	writeFile(t, dup, "a,b,a\n1,2,3\n")
	r = mustCLI(t, 1, strings.NewReader(".import "+dup+" dup\n"), "shell", db)
	if want := "Error: near line 1: " + dup + ":1: the first row does not make a table: SQL logic error: duplicate column name: a\n"; r.stderr != want {
		t.Errorf("duplicate names: %q, want %q", r.stderr, want)
	}

	// Usage, a missing file, an empty one.
	empty := filepath.Join(dir, "empty.csv")
	writeFile(t, empty, "")
	r = mustCLI(t, 1, strings.NewReader(".import "+people+"\n.import --skip x "+people+" t\n.import --tsv "+people+" t\n.import "+filepath.Join(dir, "nope.csv")+" t\n.import "+empty+" t\n.tables\n"), "shell", db)
	contains(t, "errors", r.stderr, "near line 1: usage: .import [--skip N] FILE TABLE", `near line 2: --skip "x": want a number of rows`,
		"near line 3: unknown option --tsv", "near line 4: open "+filepath.Join(dir, "nope.csv"), "near line 5: "+empty+" is empty")
	if r.stdout != "bad     kv      people\n" {
		t.Errorf("tables after failed imports: %q", r.stdout)
	}
}

// TestImportInProcess runs .import through run: the reader and writers under the race
// detector and goleak; a large file through two writers (importSplitBytes lowered), rows in
// the file's order; an interrupt leaving the database as it was; the progress bar; a
// record too long for memory.
func TestImportInProcess(t *testing.T) {
	dir := t.TempDir()
	db, src := filepath.Join(dir, "in.db"), filepath.Join(dir, "rows.csv")
	var b strings.Builder
	b.WriteString("n,word\n")
	const rows = 30_000
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "%d,word-%d\n", i, i)
		if i == 20_000 {
			b.WriteString("bad,row,here\n")
		}
	}
	writeFile(t, src, b.String())

	defer func(split, bar int64) { importSplitBytes, importBarBytes = split, bar }(importSplitBytes, importBarBytes)
	importSplitBytes, importBarBytes = 1<<10, 1<<10
	sh, errs := testShell(t, db)
	sh.progress = "bar"
	sh.loop(&plainLines{r: bufioReader(".import " + src + " t\n")}, "")
	contains(t, "import stderr", errs.String(), src+":20002: expected 2 columns, found 3", "\r[", "] 100%  30,000 rows",
		"1 row rejected (line 20,002), the other 30,000 rows imported")
	out, _ := runIn(t, "", 0, "exec", "-format", "json", db, "SELECT count(*) AS n, sum(n = rowid) AS ordered, max(rowid) AS last, typeof(n) AS type FROM t")
	var got []map[string]any
	mustJSON(t, out, &got)
	if want := []map[string]any{{"n": float64(rows), "ordered": float64(rows), "last": float64(rows), "type": "text"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("imported: %v, want %v", got, want)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".in.db.import-*")); len(matches) > 0 {
		t.Errorf("scratch files left: %v", matches)
	}

	// Interrupted (the shell's context ends while it runs): nothing of it is kept.
	ctx, cancel := context.WithCancel(context.Background())
	sh2, _ := testShell(t, db)
	sh2.ctx = ctx
	var seen atomic.Int32
	sh2.chunkDone = func() {
		if seen.Add(1) == 2 {
			cancel()
		}
	}
	sh2.loop(&plainLines{r: bufioReader(".import " + src + " t2\n")}, "")
	cancel()
	out, _ = runIn(t, "", 0, "exec", db, "SELECT count(*) AS n FROM sqlite_schema WHERE name = 't2'")
	if !strings.HasSuffix(out, "0\n") {
		t.Errorf("an interrupted import left table t2:\n%s", out)
	}

	// A record longer than maxRecordBytes (an unterminated quote) stops the import, read
	// without being held in memory.
	huge := filepath.Join(dir, "huge.csv")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("a,b\n1,2\n3,\"")
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range 2 * maxRecordBytes >> 20 {
		f.Write(chunk)
	}
	f.Close()
	sh3, errs3 := testShell(t, db)
	sh3.loop(&plainLines{r: bufioReader(".import " + huge + " h\n")}, "")
	contains(t, "huge", errs3.String(), huge+":3: a CSV record longer than 16 MiB (the limit)")
	out, _ = runIn(t, "", 0, "exec", db, "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'h'")
	if !strings.HasSuffix(out, "0\n") {
		t.Errorf("a failed import left table h:\n%s", out)
	}
}

func TestDotFields(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string
	}{
		{".tables", []string{".tables"}, ""},
		{"  .import\tdata.csv   t  ", []string{".import", "data.csv", "t"}, ""},
		{`.read "my dir/a b.sql"`, []string{".read", "my dir/a b.sql"}, ""},
		{`.read 'it\s raw'`, []string{".read", `it\s raw`}, ""},
		{`.output "q\"uote\\d"`, []string{".output", `q"uote\d`}, ""},
		{`.output ""`, []string{".output", ""}, ""},
		{`.read "open`, nil, `unterminated "`},
		{`.read 'open`, nil, "unterminated '"},
	}
	for _, tt := range tests {
		got, err := dotFields(tt.line)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("dotFields(%q): error %v, want %q", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("dotFields(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}
