package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

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

// FuzzParseEvent checks the ingest line parser: a line it accepts makes an event the
// library accepts (user_id and name non-empty, properties empty or valid JSON of at most
// actors.MaxEventProperties bytes, a timestamp zero or in years 0000-9999), checked both
// here and by InsertEvents itself; a line it rejects has a reason. Any JSON value is also
// tried as a timestamp, in an event object decoded by messages.Event's decoder (the parser's).
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"user_id":"u","name":"n","properties":{"a":1},"timestamp":"2025-01-02T03:04:05Z"}`,
		`{"user_id":"u","name":"n","timestamp":1735787045.5}`,
		`{"user_id":"u","name":"n","timestamp":"2025-01-02 03:04:05","extra":true}`,
		`{"user_id":"u","name":"n","properties":null,"timestamp":null}`,
		`{"user_id":"u","name":"n","properties":"text","timestamp":-62135596800}`,
		`{"user_id":"u","name":"n","timestamp":"0000-01-01T00:00:00+01:00"}`,
		`{"user_id":"u","name":"n","timestamp":"9999-12-31T23:59:59-01:00"}`,
		`{"user_id":"u","name":"n","timestamp":253402300800}`,
		`{"user_id":"u","name":"n","timestamp":1e12}`,
		`{"user_id":"u","name":"n","timestamp":-1e-9}`,
		`{"user_id":"\u0000","name":"\ud800","properties":[1,"\u00e9"]}`,
		`{"user_id":"u","name":"n","User_ID":"v","NAME":""}`,
		"   \r\n",
		`{"user_id":"u"}`,
		`{"user_id":7,"name":"n"}`,
		`[1,2]`,
		`{"user_id":"u","name":"n"`,
		`{"user_id":"u","name":"n","timestamp":"soon"}`,
		`{"user_id":"u","name":"n","timestamp":true}`,
		`"2025-01-02"`,
		`1e400`,
	} {
		f.Add([]byte(s))
	}
	lib := newEventChecker(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, reason := parseEvent(line)
		switch {
		case reason == "blank" && len(bytes.TrimSpace(line)) > 0:
			t.Fatalf("parseEvent(%q): blank", line)
		case reason == "blank":
		case reason != "":
		default:
			if msg := checkEvent(ev); msg != "" {
				t.Fatalf("parseEvent(%q) = %+v: %s", line, ev, msg)
			}
			lib.check(t, line, ev)
		}

		if raw := bytes.TrimSpace(line); len(raw) > 0 && json.Valid(raw) {
			var ev messages.Event
			obj := append([]byte(`{"timestamp":`), append(raw, '}')...)
			if err := ev.UnmarshalJSON(obj); err == nil {
				if y := ev.Timestamp.UTC().Year(); y < 0 || y > 9999 {
					t.Fatalf("timestamp %s = %v: year %d", raw, ev.Timestamp, y)
				}
			} else if ee, ok := err.(*messages.EventError); !ok || ee.JSONField != "timestamp" || ee.Reason == "" {
				t.Fatalf("timestamp %s: %v, want an EventError about the timestamp with a reason", raw, err)
			}
		}
	})
}

// checkEvent returns what is wrong with an event parseEvent accepted, or "".
func checkEvent(ev messages.Event) string {
	switch p := ev.Properties; {
	case ev.UserID == "":
		return "empty user_id"
	case ev.Name == "":
		return "empty name"
	case len(p) > actors.MaxEventProperties:
		return fmt.Sprintf("properties of %d bytes", len(p))
	case len(p) > 0 && !json.Valid(p):
		return "properties not valid JSON"
	case !ev.Timestamp.IsZero() && (ev.Timestamp.UTC().Year() < 0 || ev.Timestamp.UTC().Year() > 9999):
		return fmt.Sprintf("timestamp in year %d", ev.Timestamp.UTC().Year())
	}
	return ""
}

// eventChecker hands accepted events to the library's InsertEvents, on a supervisor with an
// events table in a scratch file: the library validates every event it is given.
type eventChecker struct {
	s *supervisor.Supervisor
}

func newEventChecker(tb testing.TB) *eventChecker {
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{
		DSN: filepath.Join(tb.TempDir(), "fuzz.db"), Options: []actors.Option{actors.WithSynchronous("OFF")},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop(ctx) })
	return &eventChecker{s: s}
}

func (c *eventChecker) check(t *testing.T, line []byte, ev messages.Event) {
	t.Helper()
	if err := c.s.InsertEvents(context.Background(), []messages.Event{ev}); err != nil {
		t.Fatalf("parseEvent(%q) = %+v, which InsertEvents rejects: %v", line, ev, err)
	}
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
	contains(t, "ingest stderr", errs, fmt.Sprintf("<stdin>:3: longer than %s bytes", commas(maxLineBytes)))
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
	contains(t, "ingest -strict stderr", errs, "<stdin>:3: longer than", "stopped at line 3 (-strict)")
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
	if res.err != nil || res.written != lines || res.rejected.n > 0 {
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

// TestBadLines: the summary of rejected lines lists the smallest ones, whatever order they
// are rejected in (the inserter rejects after the reader), and keeps listBadLines of them
// however many there are.
func TestBadLines(t *testing.T) {
	tests := []struct {
		add  []int64
		want string
	}{
		{[]int64{7}, "line 7"},
		{[]int64{50000, 17, 99998}, "lines 17, 50,000, 99,998"},
		{[]int64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, "lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (2 more)"},
	}
	for _, tt := range tests {
		var b badLines
		for _, l := range tt.add {
			b.add(l)
		}
		if got := b.String(); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.add, got, tt.want)
		}
	}
	var b badLines
	for l := int64(1_000_000); l > 0; l-- {
		b.add(l)
	}
	if b.n != 1_000_000 || len(b.first) != listBadLines || cap(b.first) > 2*listBadLines || b.first[0] != 1 {
		t.Errorf("a million bad lines: n %d, kept %d (cap %d), first %v", b.n, len(b.first), cap(b.first), b.first)
	}
}
