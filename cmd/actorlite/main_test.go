package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/supervisor"
	"go.uber.org/goleak"
)

// binDir holds the binary the CLI tests build (see cli_test.go).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "actorlite-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	goleak.VerifyTestMain(m,
		goleak.Cleanup(func(int) { os.RemoveAll(dir) }),
		// protoactor's dead-letter log throttle (actor/throttler.go:27, started by
		// NewDeadLetter) keeps a goroutine for its 1s period after a dead letter, even once
		// its actor system is shut down (see actors/main_test.go). It ends by itself.
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewThrottle.func1.1"),
	)
}

// TestRun runs commands in-process, through run.
func TestRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or stderr for a non-zero code
	}{
		{"demo", []string{"demo", "-db", db, "-producers", "4", "-events", "250"},
			0, []string{"1,000 events committed", "the events writer group-commits", "cursor.description:",
				"timestamp  DATETIME", "properties BLOB", `events with properties.plan = "pro": 500 (amount total 22,500)`,
				"errors.Is(err, messages.ErrCrashed) = true", "1,000 events, all committed rows intact",
				"crashes=1 restarts=1", "events_committed=1000", "stopped"}},
		{"version", []string{"version"}, 0, []string{"actorlite " + version, "SQLite 3."}},
		{"no command", nil, 2, []string{"Usage:"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"demo help", []string{"demo", "-h"}, 0, []string{"Usage: actorlite demo", "Examples:", "-producers"}},
		{"help command", []string{"help", "ingest"}, 0, []string{"Usage: actorlite ingest", "-strict"}},
		{"bad flag", []string{"demo", "-nope"}, 2, []string{"flag provided but not defined: -nope", "Usage: actorlite demo"}},
		{"exec without SQL", []string{"exec", db}, 2, []string{"want DB and SQL", `Run "actorlite exec -h"`}},
		{"exec bad format", []string{"exec", "-format", "xml", db, "SELECT 1"}, 2, []string{`unknown format "xml"`}},
		{"exec", []string{"exec", "-format", "csv", db, "SELECT ? AS a, ? AS b, ? AS c", "1", "2.5", "x"}, 0, []string{"a,b,c\n1,2.5,x\n"}},
		{"dump missing", []string{"dump", filepath.Join(t.TempDir(), "nope.db")}, 1, []string{"no such database file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			out := stdout.String() + stderr.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

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

func TestParseArgs(t *testing.T) {
	got := parseArgs([]string{"42", "-7", "2.5", "1e3", "007", "abc", "0x10", "inf", "NaN", "", "1_000", "9223372036854775808"})
	want := []any{int64(42), int64(-7), 2.5, 1000.0, int64(7), "abc", "0x10", "inf", "NaN", "", "1_000", 9223372036854775808.0}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("parseArgs = %#v\nwant %#v", got, want)
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		line, reason string
	}{
		{`{"user_id":"u","name":"n","properties":{"a":1},"timestamp":"2025-01-02T03:04:05Z"}`, ""},
		{`{"user_id":"u","name":"n","timestamp":1735787045.5}`, ""},
		{`{"user_id":"u","name":"n","timestamp":"2025-01-02 03:04:05","extra":true}`, ""},
		{"   \r\n", "blank"},
		{`{"user_id":"u"}`, "name: missing or empty"},
		{`{"name":"n"}`, "user_id: missing or empty"},
		{`{"user_id":7,"name":"n"}`, "user_id: want a string, got number"},
		{`[1,2]`, "want a JSON object, got array"},
		{`{"user_id":"u","name":"n"`, "not valid JSON"},
		{`{"user_id":"u","name":"n","timestamp":"soon"}`, `timestamp: "soon" is not an RFC 3339 time`},
		{`{"user_id":"u","name":"n","timestamp":true}`, "timestamp: want an RFC 3339 string or seconds since 1970"},
		{`{"user_id":"u","name":"n","timestamp":"10000-01-01T00:00:00Z"}`, "timestamp:"},
	}
	for _, tt := range tests {
		ev, reason := parseEvent([]byte(tt.line))
		if tt.reason == "" && reason != "" || tt.reason != "" && !strings.HasPrefix(reason, tt.reason) {
			t.Errorf("parseEvent(%s): reason %q, want %q", tt.line, reason, tt.reason)
		}
		if tt.reason == "" && (ev.UserID != "u" || ev.Name != "n") {
			t.Errorf("parseEvent(%s) = %+v", tt.line, ev)
		}
	}
	ev, _ := parseEvent([]byte(`{"user_id":"u","name":"n","properties":null,"timestamp":1735787045.5}`))
	if ev.Properties != nil || ev.Timestamp.UnixMilli() != 1735787045500 {
		t.Errorf("null properties and numeric timestamp: %+v", ev)
	}
}

func TestFormats(t *testing.T) {
	if got := commas(1234567); got != "1,234,567" {
		t.Errorf("commas = %q", got)
	}
	if got := commas(-999); got != "-999" {
		t.Errorf("commas = %q", got)
	}
	for v, want := range map[float64]string{1: "1.0", 2.5: "2.5", -3: "-3.0", 1e20: "1e+20"} {
		if got := formatFloat(v); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", v, got, want)
		}
	}
	if got := textOf("a\tb\nc", "NULL", true); got != `a\tb\nc` {
		t.Errorf("textOf escapes: %q", got)
	}
	if got := string(jsonValue("<a&b>")); got != `"<a&b>"` {
		t.Errorf("jsonValue: %s", got)
	}
}

// runIn runs a command through run with stdin reading in (none when ""), and fails unless it
// exits with code.
func runIn(t *testing.T, in string, code int, args ...string) (stdout, stderr string) {
	t.Helper()
	if in != "" {
		stdin = strings.NewReader(in)
		defer func() { stdin = os.Stdin }()
	}
	var out, errs bytes.Buffer
	if got := run(context.Background(), args, &out, &errs); got != code {
		t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", args, got, code, &out, &errs)
	}
	return out.String(), errs.String()
}

// TestRunInProcess runs shell, ingest, dump and bench through run, so that their goroutines
// run under the race detector (when the tests do) and goleak.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "in.db")
	src := filepath.Join(dir, "events.jsonl")
	writeEvents(t, src, 20_000, map[int]string{3: `{"name":"n"}`, 19_999: `{`})
	out, errs := runIn(t, "", 1, "ingest", "-progress", "bar", "-batch", "500", db, src)
	contains(t, "ingest", out, "ingested 19,998 events from 20,000 lines", "2 lines rejected: lines 3, 19,999")
	contains(t, "ingest", errs, "line 3: user_id: missing or empty", "] 100%  19,998 events")
	out, _ = runIn(t, "", 0, "ingest", "-progress", "plain", "-table", "more", db, "-")
	contains(t, "ingest of nothing", out, "ingested 0 events from 0 lines of stdin")
	out, _ = runIn(t, "SELECT count(*) AS n FROM events;\n.mode csv\nSELECT name, count(*) AS n FROM events GROUP BY name ORDER BY name;\n.tables\n", 0, "shell", db)
	if want := "n\n-----\n19998\nname,n\npage_view,6665\npurchase,6667\nsignup,6666\nevents  more\n"; out != want {
		t.Errorf("shell output:\n%q\nwant:\n%q", out, want)
	}
	out, _ = runIn(t, "", 0, "dump", db)
	contains(t, "dump", out, `CREATE TABLE "events"`, `INSERT INTO "events"`, "COMMIT;")
	out, _ = runIn(t, "", 0, "bench", "-duration", "10ms", "-producers", "3", "-rows", "100")
	contains(t, "bench", out, "headline:")
}

// TestReadLine reads lines at, around and far beyond the limit, across bufio's buffer.
func TestReadLine(t *testing.T) {
	const limit = 20
	long := strings.Repeat("y", 100)
	src := "12345678901234567890\n" + // at the limit: kept
		"123456789012345678901\n" + // one byte over: skipped
		"\n" +
		long + "\r\n" +
		"short\n" +
		long // the last line, without its '\n'
	want := []struct {
		line string
		n    int64
		long bool
		err  error
	}{
		{"12345678901234567890\n", 21, false, nil},
		{"", 22, true, nil},
		{"\n", 1, false, nil},
		{"", 102, true, nil},
		{"short\n", 6, false, nil},
		{"", 100, true, io.EOF},
		{"", 0, false, io.EOF},
	}
	r := bufio.NewReaderSize(strings.NewReader(src), 16) // bufio's smallest buffer
	buf := []byte("kept")
	for i, w := range want {
		line, n, isLong, err := readLine(r, buf[:4], limit)
		if string(line) != "kept"+w.line || n != w.n || isLong != w.long || err != w.err {
			t.Errorf("line %d: readLine = %q, %d, %v, %v; want %q, %d, %v, %v", i+1, line, n, isLong, err, "kept"+w.line, w.n, w.long, w.err)
		}
		buf = line
	}
}

// repeatReader produces n copies of one byte without holding them: an input of any size.
type repeatReader struct {
	b     byte
	n     int64
	block []byte // b repeated, made on the first Read
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if r.block == nil {
		r.block = bytes.Repeat([]byte{r.b}, 64<<10)
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := 0; i < len(p); i += copy(p[i:], r.block) {
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// TestIngestLongLine feeds ingest a 64 MiB line between good ones: it is rejected with its
// line number, read to its end without being held in memory, and the lines around it are
// written; with -strict, the load stops at it.
func TestIngestLongLine(t *testing.T) {
	const long = 64 << 20
	db := filepath.Join(t.TempDir(), "long.db")
	input := func() io.Reader {
		return io.MultiReader(
			strings.NewReader(`{"user_id":"u","name":"before","properties":{"line":1}}`+"\n"+
				`{"user_id":"u","name":"before","properties":{"line":2}}`+"\n"+
				`{"user_id":"u","name":"long","properties":"`),
			&repeatReader{b: 'x', n: long},
			strings.NewReader(`"}`+"\n"+`{"user_id":"u","name":"after","properties":{"line":4}}`+"\n"),
		)
	}
	run1 := func(code int, args ...string) (stdout, stderr string, alloc uint64) {
		t.Helper()
		stdin = input()
		defer func() { stdin = os.Stdin }()
		var out, errs bytes.Buffer
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		got := run(context.Background(), args, &out, &errs)
		runtime.ReadMemStats(&after)
		if got != code {
			t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", args, got, code, &out, &errs)
		}
		return out.String(), errs.String(), after.TotalAlloc - before.TotalAlloc
	}

	out, errs, alloc := run1(1, "ingest", "-progress", "off", db)
	contains(t, "ingest stdout", out, "ingested 3 events from 4 lines", "1 line rejected: line 3")
	contains(t, "ingest stderr", errs, fmt.Sprintf("line 3: longer than %s bytes", commas(maxLineBytes)))
	t.Logf("ingest of a %d MiB line allocated %.1f MiB", long>>20, float64(alloc)/(1<<20))
	if alloc > long/4 {
		t.Errorf("ingest of a %d MiB line allocated %.1f MiB: the line was held in memory", long>>20, float64(alloc)/(1<<20))
	}
	out, _ = runIn(t, "", 0, "exec", "-format", "csv", db, "SELECT name, properties ->> '$.line' AS line FROM events ORDER BY id")
	if want := "name,line\nbefore,1\nbefore,2\nafter,4\n"; out != want {
		t.Errorf("events written:\n%s\nwant:\n%s", out, want)
	}

	out, errs, _ = run1(1, "ingest", "-strict", "-progress", "off", "-table", "strict", db)
	contains(t, "ingest -strict stdout", out, "ingested 2 events from 3 lines")
	contains(t, "ingest -strict stderr", errs, "line 3: longer than", "stopped at line 3 (-strict)")
}

// lineGen produces n lines of an event with props bytes of properties (one line's text,
// reused), and calls onRead with the bytes produced so far before each Read.
type lineGen struct {
	line   []byte
	n      int
	cur    []byte // the rest of the current line
	read   int64
	onRead func(read int64)
}

func newLineGen(n, props int, onRead func(int64)) *lineGen {
	line := []byte(`{"user_id":"u","name":"big","properties":"` + strings.Repeat("x", props-2) + `"}` + "\n")
	return &lineGen{line: line, n: n, onRead: onRead}
}

func (g *lineGen) Read(p []byte) (int, error) {
	g.onRead(g.read)
	if len(g.cur) == 0 {
		if g.n == 0 {
			return 0, io.EOF
		}
		g.n--
		g.cur = g.line
	}
	n := copy(p, g.cur)
	g.cur = g.cur[n:]
	g.read += int64(n)
	return n, nil
}

// TestIngestChunkBytes checks that the events read but not yet committed stay within the
// chunks' byte bound, even when -batch events would be far more: 48 lines of 1 MiB are
// sent a few at a time, not as one chunk of 48 MiB.
func TestIngestChunkBytes(t *testing.T) {
	const lines, props = 48, actors.MaxEventProperties
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{
		DSN: filepath.Join(t.TempDir(), "big.db"), Options: []actors.Option{actors.WithSynchronous("OFF")}, // 48 MiB: no fsyncs
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	ing := &ingester{s: s, batch: 4096, showErrors: 20, prog: newProgress(io.Discard, "off", -1)}
	var inFlight int64 // most input bytes read but not yet committed
	gen := newLineGen(lines, props, func(read int64) { inFlight = max(inFlight, read-ing.prog.done.Load()) })
	res := ing.run(ctx, gen)
	if res.err != nil || res.written != lines || len(res.rejected) > 0 {
		t.Fatalf("ingest: %d of %d events written, rejected %v, err %v", res.written, lines, res.rejected, res.err)
	}
	// At most: the chunk being written, the queued ones, the one being filled, and the line being
	// read (with bufio's buffer).
	bound := int64((queuedChunks+2)*(maxChunkBytes+props) + 2*len(gen.line))
	t.Logf("at most %.1f MiB of input in flight (bound %.1f MiB, input %.1f MiB)",
		float64(inFlight)/(1<<20), float64(bound)/(1<<20), float64(lines*len(gen.line))/(1<<20))
	if inFlight > bound {
		t.Errorf("%.1f MiB of input read but not committed, more than the chunks' bound of %.1f MiB",
			float64(inFlight)/(1<<20), float64(bound)/(1<<20))
	}
}
