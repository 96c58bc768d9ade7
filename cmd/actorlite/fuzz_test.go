package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// Fuzz targets for the CLI's parsers. Besides the seeds added here, each has a committed
// seed corpus in testdata/fuzz/<target>/ (inputs that once failed or that reach an edge);
// "go test" runs them all, and "go test -run=^$ -fuzz=^FuzzParseEvent$ ./cmd/actorlite/"
// explores further.

// FuzzParseEvent checks the ingest line parser: a line it accepts makes an event the
// library accepts (user_id and name non-empty, properties empty or valid JSON of at most
// actors.MaxEventProperties bytes, a timestamp zero or in years 0000-9999), checked both
// here and by InsertEvents itself; a line it rejects has a reason. Any JSON value is also
// tried as a timestamp.
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
			if ts, err := parseTimestamp(raw); err == nil {
				if y := ts.UTC().Year(); y < 0 || y > 9999 {
					t.Fatalf("parseTimestamp(%s) = %v: year %d", raw, ts, y)
				}
			} else if err.Error() == "" {
				t.Fatalf("parseTimestamp(%s): an error without a reason", raw)
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
