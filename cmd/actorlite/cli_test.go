package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests drive the built binary, as a user does: go build once, then os/exec.

// runTime matches the start of a .timer line up to its row count, which stays.
var runTime = regexp.MustCompile(`Run Time: [^(\n]* \(`)

func TestCLIHelp(t *testing.T) {
	for _, cmd := range []string{"demo", "shell", "exec", "ingest", "dump", "bench", "version"} {
		r := mustCLI(t, 0, nil, cmd, "-h")
		contains(t, cmd+" -h", r.stdout, "Usage: actorlite "+cmd, "Examples:\n  actorlite "+cmd)
		if r.stderr != "" {
			t.Errorf("%s -h wrote to stderr: %s", cmd, r.stderr)
		}
	}
	r := mustCLI(t, 0, nil, "-h")
	contains(t, "-h", r.stdout, "demo", "shell DB", "exec DB SQL", "ingest DB", "dump DB", "bench", "version")
	mustCLI(t, 2, nil)
	r = mustCLI(t, 2, nil, "shell")
	contains(t, "shell without DB", r.stderr, "want exactly one DB")
	r = mustCLI(t, 2, nil, "ingest", "a.db", "b.jsonl", "c")
	contains(t, "ingest with 3 arguments", r.stderr, "want DB and, optionally, FILE or -")
	r = mustCLI(t, 2, nil, "bench", "-nope")
	contains(t, "bench -nope", r.stderr, "flag provided but not defined: -nope", "Usage: actorlite bench")
	r = mustCLI(t, 0, nil, "version")
	contains(t, "version", r.stdout, "actorlite "+version, "SQLite 3.", "github.com/ncruces/go-sqlite3 v")
}

func TestCLIDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	r := mustCLI(t, 0, nil, "demo", "-db", db, "-producers", "4", "-events", "100")
	contains(t, "demo", r.stdout,
		"== 1. Start a supervisor", "CREATE TABLE \"events\"", "400 events committed", "events per commit",
		"cursor.description:", "user_id    TEXT", "errors.Is(err, messages.ErrCrashed) = true",
		"400 events, all committed rows intact", "crashes=1 restarts=1", "stopped")
	if rows := queryJSON(t, db, "SELECT count(*) AS n FROM events"); rows[0]["n"] != 400.0 {
		t.Errorf("events in the demo database: %v", rows)
	}
	// Without -db: a temporary directory, removed afterwards.
	r = mustCLI(t, 0, nil, "demo", "-producers", "2", "-events", "50")
	contains(t, "demo", r.stdout, "100 events committed")
	dir := strings.TrimSuffix(strings.Fields(strings.SplitN(r.stdout, "events writer on ", 2)[1])[0], "/demo.db")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the demo's temporary directory %s is still there: %v", dir, err)
	}
}

func TestCLIExec(t *testing.T) {
	db := filepath.Join(t.TempDir(), "notes.db")
	r := mustCLI(t, 0, nil, "exec", db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, score REAL, data BLOB, at DATETIME)")
	contains(t, "CREATE", r.stdout, "changes  last_insert_id\n-------  --------------\n      0               0\n")
	r = mustCLI(t, 0, nil, "exec", db, "INSERT INTO notes (body, score, data, at) VALUES (?, ?, x'00ff', ?)", "hello, world", "2.5", "2024-01-02T03:04:05Z")
	contains(t, "INSERT", r.stdout, "      1               1\n")
	mustCLI(t, 0, nil, "exec", "-format", "json", db, "INSERT INTO notes (body, score) VALUES (?, ?)", "line1\nline2 ünï", "-3")
	mustCLI(t, 0, nil, "exec", "-text", db, "INSERT INTO notes (body) VALUES (?)", "007")

	r = mustCLI(t, 0, nil, "exec", db, "SELECT * FROM notes ORDER BY id")
	want := `id  body              score  data     at
--  ----------------  -----  -------  --------------------
 1  hello, world        2.5  x'00ff'  2024-01-02T03:04:05Z
 2  line1\nline2 ünï   -3.0  NULL     NULL
 3  007                NULL  NULL     NULL
`
	if r.stdout != want {
		t.Errorf("table output:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = mustCLI(t, 0, nil, "exec", "-format", "csv", db, "SELECT id, body, score FROM notes WHERE id < ? ORDER BY id", "3")
	if want := "id,body,score\n1,\"hello, world\",2.5\n2,\"line1\nline2 ünï\",-3.0\n"; r.stdout != want {
		t.Errorf("csv output:\n%q\nwant:\n%q", r.stdout, want)
	}
	rows := queryJSON(t, db, "SELECT * FROM notes WHERE score > ? ORDER BY id", "-10")
	wantRows := []map[string]any{
		{"id": 1.0, "body": "hello, world", "score": 2.5, "data": "AP8=", "at": "2024-01-02T03:04:05Z"},
		{"id": 2.0, "body": "line1\nline2 ünï", "score": -3.0, "data": nil, "at": nil},
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("json rows: %v\nwant %v", rows, wantRows)
	}
	r = mustCLI(t, 0, nil, "exec", "-format", "json", db, "SELECT id, body FROM notes WHERE 0")
	if r.stdout != "[]\n" {
		t.Errorf("json of no rows: %q", r.stdout)
	}
	// Arguments: integer, float, else text; after SQL, "-5" is an argument, not a flag.
	rows = queryJSON(t, db, "SELECT typeof(?) AS a, typeof(?) AS b, typeof(?) AS c, ? AS d", "-5", "1.5", "x", "-5")
	if want := (map[string]any{"a": "integer", "b": "real", "c": "text", "d": -5.0}); !reflect.DeepEqual(rows[0], want) {
		t.Errorf("argument types: %v", rows[0])
	}

	// An integer beyond int64 is bound as TEXT: every digit kept (it was a REAL, 1.2345678901234567e+19).
	r = mustCLI(t, 0, nil, "exec", db, "SELECT ? AS n, typeof(?) AS t", "12345678901234567891", "12345678901234567891")
	if want := "n                     t\n--------------------  ----\n12345678901234567891  text\n"; r.stdout != want {
		t.Errorf("big integer:\n%s\nwant:\n%s", r.stdout, want)
	}
	// Column names are escaped as values are: no terminal control sequence from a database.
	r = mustCLI(t, 0, nil, "exec", db, "SELECT 1 AS \"\x1b[2J\x1b]0;title\x07\", char(27) || '[31m' AS v")
	if want := "\\x1b[2J\\x1b]0;title\\x07  v\n-----------------------  --------\n                      1  \\x1b[31m\n"; r.stdout != want {
		t.Errorf("escaped column name:\n%q\nwant:\n%q", r.stdout, want)
	}
	r = mustCLI(t, 1, nil, "exec", db, "SELECT nope FROM notes")
	contains(t, "bad SQL", r.stderr, "no such column: nope")
	r = mustCLI(t, 1, nil, "exec", db, "SELECT 1; SELECT 2")
	contains(t, "two statements", r.stderr, "more than one statement")
	r = mustCLI(t, 1, nil, "exec", db, "SELECT ?", "1", "2")
	if r.stderr == "" {
		t.Error("too many arguments: no error")
	}
	r = mustCLI(t, 1, nil, "exec", filepath.Join(t.TempDir(), "no", "such", "dir.db"), "SELECT 1")
	contains(t, "bad path", r.stderr, "directory does not exist")
}

func TestCLIShell(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shell.db")
	script := `-- a comment
CREATE TABLE t (a INTEGER, b TEXT);
INSERT INTO t VALUES (1, 'one;two'), (2, 'it''s');
INSERT INTO t
  VALUES (3,
  'three');
SELECT * FROM t; SELECT count(*) AS n FROM t;
.tables
.schema t
.mode csv
SELECT * FROM t
WHERE a > 1;
.mode json
SELECT * FROM t WHERE a = 1;
.timer on
SELECT nope;
.timer off
.bogus
CREATE TRIGGER tr AFTER INSERT ON t BEGIN
  INSERT INTO t2 VALUES (new.a, CASE WHEN new.a > 1 THEN 'big' ELSE 'small' END);
END;
CREATE TABLE t2 (a, size);
.mode table
INSERT INTO t VALUES (5, 'five');
SELECT * FROM t2;
.quit
SELECT 'not reached';
`
	r := mustCLI(t, 1, strings.NewReader(script), "shell", db)
	// .tables and .schema run before t2 and the trigger exist.
	want := `a  b
-  -------
1  one;two
2  it's
3  three
n
-
3
t
CREATE TABLE t (a INTEGER, b TEXT);
a,b
2,it's
3,three
[
{"a":1,"b":"one;two"}
]
Run Time: T (0 rows)
a  size
-  ----
5  big
`
	// .timer writes to stdout, after the result (here: none, the statement failed).
	if got := runTime.ReplaceAllString(r.stdout, "Run Time: T ("); got != want {
		t.Errorf("shell output:\n%s\nwant:\n%s", r.stdout, want)
	}
	contains(t, "shell stderr", r.stderr, "Error: near line 16: SQL logic error: no such column: nope",
		`Error: near line 18: unknown command ".bogus"`)
	if strings.Contains(r.stderr, "Run Time") {
		t.Errorf(".timer wrote to stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "not reached") {
		t.Error(".quit did not stop the script")
	}

	// The schema now, a missing final ';', and -bail.
	r = mustCLI(t, 0, strings.NewReader(".tables\n.schema T2\nSELECT count(*) AS n FROM t"), "shell", db)
	if want := "t   t2\nCREATE TABLE t2 (a, size);\nn\n-\n4\n"; r.stdout != want {
		t.Errorf("shell output:\n%q\nwant:\n%q", r.stdout, want)
	}
	r = mustCLI(t, 1, strings.NewReader("SELECT 1 AS x;\nSELECT nope;\nSELECT 2 AS y;\n"), "shell", "-bail", db)
	if r.stdout != "x\n-\n1\n" || !strings.Contains(r.stderr, "near line 2") {
		t.Errorf("-bail: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	r = mustCLI(t, 1, strings.NewReader("SELECT 'open\n"), "shell", db)
	contains(t, "unterminated string", r.stderr, "incomplete SQL")
	r = mustCLI(t, 0, strings.NewReader("SELECT 1 AS a, 'x' AS b;\n"), "shell", "-mode", "json", db)
	if r.stdout != "[\n{\"a\":1,\"b\":\"x\"}\n]\n" {
		t.Errorf("-mode json: %q", r.stdout)
	}
}

func TestCLIIngest(t *testing.T) {
	dir := t.TempDir()
	src, db := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "events.db")
	writeEvents(t, src, 100_000, map[int]string{
		17:     `{"user_id":"u","name":""}`,
		50_000: `this is not JSON`,
		99_998: `{"user_id":"u","name":"n","timestamp":"yesterday"}`,
	})
	start := time.Now()
	r := mustCLI(t, 1, nil, "ingest", "-progress", "bar", db, src)
	t.Logf("100,000-line ingest: %v", time.Since(start))
	contains(t, "ingest stdout", r.stdout, "ingested 99,997 events from 100,000 lines", "3 lines rejected: lines 17, 50,000, 99,998")
	contains(t, "ingest stderr", r.stderr,
		src+":17: name: missing or empty\n", src+":50000: not valid JSON", src+`:99998: timestamp: "yesterday" is not an RFC 3339 time`,
		"\r[", "] 100%  99,997 events", "done in", "actorlite: 3 of 100,000 lines rejected")
	rows := queryJSON(t, db, `SELECT count(*) AS n, count(DISTINCT user_id) AS users, min(properties ->> '$.line') AS first,
		max(properties ->> '$.line') AS last, sum(properties ->> '$.line' IN (17, 50000, 99998)) AS bad FROM events`)
	if want := (map[string]any{"n": 99997.0, "users": 100.0, "first": 1.0, "last": 100000.0, "bad": 0.0}); !reflect.DeepEqual(rows[0], want) {
		t.Errorf("ingested: %v, want %v", rows[0], want)
	}
	rows = queryJSON(t, db, "SELECT user_id, name, properties, timestamp FROM events WHERE properties ->> '$.line' = 2")
	// properties is declared JSON TEXT: exec -format json writes it as JSON, not as a string.
	if want := (map[string]any{"user_id": "user-2", "name": "purchase", "properties": map[string]any{"plan": "free", "line": 2.0},
		"timestamp": "2025-01-02T03:04:05.002Z"}); !reflect.DeepEqual(rows[0], want) {
		t.Errorf("line 2: %v, want %v", rows[0], want)
	}
	// In input order: ids follow line numbers.
	rows = queryJSON(t, db, "SELECT count(*) AS n FROM events a JOIN events b ON b.id = a.id + 1 WHERE b.properties ->> '$.line' < a.properties ->> '$.line'")
	if rows[0]["n"] != 0.0 {
		t.Errorf("events out of input order: %v", rows)
	}
}

func TestCLIIngestStdinStrict(t *testing.T) {
	dir := t.TempDir()
	src, db := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "events.db")
	writeEvents(t, src, 1000, map[int]string{10: "", 500: `{"user_id":"u","name":"n","properties":{"open":`})
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// From a pipe: the size is unknown, so no percentage.
	r := mustCLI(t, 1, bytes.NewReader(data), "ingest", "-strict", "-batch", "64", "-progress", "plain", db, "-")
	contains(t, "strict stdout", r.stdout, "ingested 498 events from 500 lines of stdin")
	contains(t, "strict stderr", r.stderr, "<stdin>:500: not valid JSON",
		"stopped at line 500 (-strict): the 498 events before it were written, nothing after it")
	if strings.Contains(r.stderr, "%") {
		t.Errorf("a percentage without a known size:\n%s", r.stderr)
	}
	rows := queryJSON(t, db, "SELECT count(*) AS n, max(properties ->> '$.line') AS last FROM events")
	if want := (map[string]any{"n": 498.0, "last": 499.0}); !reflect.DeepEqual(rows[0], want) {
		t.Errorf("after -strict: %v, want %v", rows[0], want)
	}
	// Clean input from stdin (a blank line is skipped, not rejected): exit 0, into another table.
	data = bytes.ReplaceAll(data, []byte(`{"user_id":"u","name":"n","properties":{"open":`), nil)
	r = mustCLI(t, 0, bytes.NewReader(data), "ingest", "-table", "clean", "-progress", "off", db)
	contains(t, "clean stdout", r.stdout, "ingested 998 events from 1,000 lines of stdin into "+db+".clean")
	if r.stderr != "" {
		t.Errorf("-progress off wrote to stderr: %s", r.stderr)
	}
	r = mustCLI(t, 1, nil, "ingest", db, filepath.Join(dir, "missing.jsonl"))
	contains(t, "missing file", r.stderr, "no such file")
}

func TestCLIDump(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	script := `CREATE TABLE kinds (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n);
INSERT INTO kinds (i, r, t, b, n) VALUES
  (-9223372036854775808, 0.1, 'it''s; "quoted"', x'00ff10', NULL),
  (9223372036854775807, 1e300, 'line1
line2 ünï 🙂', x'', 1.0/3),
  (0, -0.5, '', NULL, 'text in an untyped column'),
  (1, 2.5, 'nul' || char(0) || 'after', x'00', char(0)),
  (2, 3.5, CAST(x'ff41c027' AS TEXT), NULL, 'invalid UTF-8 above');
CREATE TABLE "odd name" ("a b" TEXT PRIMARY KEY, c INTEGER) WITHOUT ROWID;
INSERT INTO "odd name" VALUES ('x', 1), ('y', 2);
CREATE INDEX kinds_t ON kinds (t);
CREATE VIEW v AS SELECT id, t FROM kinds WHERE i > 0;
CREATE TABLE log (id INTEGER, what TEXT);
CREATE TRIGGER kinds_log AFTER INSERT ON kinds BEGIN
  INSERT INTO log VALUES (new.id, 'inserted; logged');
END;
INSERT INTO kinds (i) VALUES (42);
`
	mustCLI(t, 0, strings.NewReader(script), "shell", src)
	events := filepath.Join(dir, "events.jsonl")
	writeEvents(t, events, 2000, nil)
	mustCLI(t, 0, nil, "ingest", "-progress", "off", src, events)

	// actorlite dump src.db | actorlite shell dst.db, through an OS pipe.
	dump := exec.Command(binary(t), "dump", src)
	load := exec.Command(binary(t), "shell", dst)
	pipe, err := dump.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var dumpErr, loadOut, loadErr bytes.Buffer
	dump.Stderr = &dumpErr
	load.Stdin, load.Stdout, load.Stderr = pipe, &loadOut, &loadErr
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	if err := dump.Run(); err != nil {
		t.Fatalf("dump: %v\n%s", err, &dumpErr)
	}
	if err := load.Wait(); err != nil {
		t.Fatalf("shell: %v\nstdout:\n%s\nstderr:\n%s", err, &loadOut, &loadErr)
	}

	for _, q := range []string{
		"SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name",
		"SELECT id, i, r, t, hex(t) AS ht, hex(b) AS b, typeof(b) AS tb, n, hex(n) AS hn, typeof(n) AS tn, typeof(r) AS tr FROM kinds ORDER BY id",
		`SELECT * FROM "odd name" ORDER BY 1`,
		"SELECT * FROM v ORDER BY id",
		"SELECT * FROM log ORDER BY id",
		"SELECT * FROM events ORDER BY id",
	} {
		a, b := queryJSON(t, src, q), queryJSON(t, dst, q)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s:\nsource %v\ncopy   %v", q, a, b)
		}
		if len(a) == 0 {
			t.Errorf("%s: no rows", q)
		}
	}
	if rows := queryJSON(t, dst, "SELECT count(*) AS n FROM events"); rows[0]["n"] != 2000.0 {
		t.Errorf("events in the copy: %v", rows)
	}
	// The dump of the copy is the dump of the source.
	a, b := mustCLI(t, 0, nil, "dump", src), mustCLI(t, 0, nil, "dump", dst)
	if a.stdout != b.stdout {
		t.Error("the copy's dump differs from the source's")
	}
	contains(t, "dump", a.stdout, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n", "CREATE TRIGGER kinds_log", "\nCOMMIT;\n")
	r := mustCLI(t, 1, nil, "dump", filepath.Join(dir, "missing.db"))
	contains(t, "dump of a missing file", r.stderr, "no such database file")
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Error("dump created the missing database")
	}
}

func TestCLIBench(t *testing.T) {
	r := mustCLI(t, 0, nil, "bench", "-duration", "30ms", "-producers", "4", "-rows", "500")
	contains(t, "bench", r.stdout, "point select by primary key", "autocommit insert", "full scan, 500 rows",
		"× direct", "events, 4 producers", "commit-each Exec", "InsertEvent (group commit)", "× faster", "headline:")
}
