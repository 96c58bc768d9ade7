package messages_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
)

// TestEventUnmarshalIngestLine: a line of `actorlite ingest`'s format decodes into an Event
// with json.Unmarshal alone, and the event is valid.
func TestEventUnmarshalIngestLine(t *testing.T) {
	line := `{"user_id":"u1","name":"signup","properties":{"plan":"pro"},"timestamp":"2025-01-02T15:04:05Z","idempotency_key":"r1-0"}`
	var ev messages.Event
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	want := messages.Event{UserID: "u1", Name: "signup", Properties: json.RawMessage(`{"plan":"pro"}`),
		Timestamp: time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC), IdempotencyKey: "r1-0"}
	if ev.UserID != want.UserID || ev.Name != want.Name || string(ev.Properties) != string(want.Properties) ||
		!ev.Timestamp.Equal(want.Timestamp) || ev.IdempotencyKey != want.IdempotencyKey {
		t.Fatalf("decoded %+v, want %+v", ev, want)
	}
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	// And back: Marshal writes the same form, which decodes to the same event.
	out, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != line {
		t.Errorf("Marshal = %s, want %s", out, line)
	}
	minimal, _ := json.Marshal(messages.Event{UserID: "u", Name: "n"})
	if string(minimal) != `{"user_id":"u","name":"n"}` {
		t.Errorf("Marshal of a minimal event = %s", minimal)
	}
}

func TestEventUnmarshal(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, in string
		want     messages.Event
		field    string // JSONField of the error; "-" for no field; "" for no error
		reason   string // prefix of the error's Reason
	}{
		{"rfc 3339", `{"user_id":"u","name":"n","timestamp":"2025-01-02T04:04:05+01:00"}`, messages.Event{UserID: "u", Name: "n", Timestamp: at}, "", ""},
		{"sqlite form", `{"user_id":"u","name":"n","timestamp":"2025-01-02 03:04:05"}`, messages.Event{UserID: "u", Name: "n", Timestamp: at}, "", ""},
		{"seconds", `{"user_id":"u","name":"n","timestamp":1735787045}`, messages.Event{UserID: "u", Name: "n", Timestamp: at}, "", ""},
		{"null properties and timestamp", `{"user_id":"u","name":"n","properties":null,"timestamp":null}`, messages.Event{UserID: "u", Name: "n"}, "", ""},
		{"scalar properties", `{"user_id":"u","name":"n","properties":12345678901234567890}`,
			messages.Event{UserID: "u", Name: "n", Properties: json.RawMessage(`12345678901234567890`)}, "", ""},
		{"keys in any case, extra keys ignored", `{"USER_ID":"u","Name":"n","extra":[1]}`, messages.Event{UserID: "u", Name: "n"}, "", ""},
		{"missing fields decode empty", `{}`, messages.Event{}, "", ""},
		{"user_id a number", `{"user_id":7,"name":"n"}`, messages.Event{}, "user_id", "want a string, got number"},
		{"key a bool", `{"user_id":"u","name":"n","idempotency_key":true}`, messages.Event{}, "idempotency_key", "want a string, got bool"},
		{"timestamp not a time", `{"user_id":"u","name":"n","timestamp":"soon"}`, messages.Event{}, "timestamp", `"soon" is not an RFC 3339 time`},
		{"timestamp a bool", `{"user_id":"u","name":"n","timestamp":true}`, messages.Event{}, "timestamp", "want an RFC 3339 string or seconds since 1970"},
		{"timestamp year 10000", `{"user_id":"u","name":"n","timestamp":"10000-01-01T00:00:00Z"}`, messages.Event{}, "timestamp", ""},
		{"timestamp seconds out of range", `{"user_id":"u","name":"n","timestamp":1e13}`, messages.Event{}, "timestamp", "1e13 seconds since 1970 is out of range"},
		{"not an object", `[1,2]`, messages.Event{}, "-", "want a JSON object, got array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev messages.Event
			err := json.Unmarshal([]byte(tt.in), &ev)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if ev.UserID != tt.want.UserID || ev.Name != tt.want.Name || string(ev.Properties) != string(tt.want.Properties) ||
					!ev.Timestamp.Equal(tt.want.Timestamp) || (ev.Properties == nil) != (tt.want.Properties == nil) {
					t.Fatalf("decoded %+v, want %+v", ev, tt.want)
				}
				return
			}
			var ee *messages.EventError
			if !errors.As(err, &ee) || !errors.Is(err, messages.ErrBadEvent) {
				t.Fatalf("got %v, want an *EventError", err)
			}
			field := tt.field
			if field == "-" {
				field = ""
			}
			if ee.JSONField != field || !strings.HasPrefix(ee.Reason, tt.reason) {
				t.Errorf("got %+v, want JSONField %q, Reason %q…", *ee, field, tt.reason)
			}
		})
	}
}

func TestParseEvents(t *testing.T) {
	one := `{"user_id":"u","name":"n"}`
	tests := []struct {
		name, in string
		n        int    // events decoded
		index    int    // of the error; with reason
		reason   string // "" for no error
	}{
		{"one object", one, 1, 0, ""},
		{"an array", "[" + one + "," + one + "," + one + "]", 3, 0, ""},
		{"an empty array", " [ ] ", 0, 0, ""},
		{"surrounding space", "\n\t" + one + "\r\n", 1, 0, ""},
		{"bad element", "[" + one + `,{"user_id":1}]`, 0, 1, "want a string"},
		{"element not an object", "[" + one + `,2]`, 0, 1, "want a JSON object, got number"},
		{"bad single event", `{"name":7}`, 0, 0, "want a string"},
		{"not JSON", `{"user_id":`, 0, -1, "not valid JSON"},
		{"not JSON array", `[{"user_id":"u"},`, 0, -1, "not valid JSON"},
		{"trailing garbage", one + "x", 0, -1, "not valid JSON"},
		{"empty", "  ", 0, -1, "no events"},
		{"a string", `"hello"`, 0, -1, "want an event object or an array of them, got string"},
		{"null", `null`, 0, -1, "want an event object or an array of them, got null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := messages.ParseEvents([]byte(tt.in))
			if tt.reason == "" {
				if err != nil || len(evs) != tt.n {
					t.Fatalf("got %d events, %v; want %d", len(evs), err, tt.n)
				}
				for _, ev := range evs {
					if ev.UserID != "u" || ev.Name != "n" {
						t.Fatalf("decoded %+v", ev)
					}
				}
				return
			}
			var ee *messages.EventError
			if !errors.As(err, &ee) || !errors.Is(err, messages.ErrBadEvent) || evs != nil {
				t.Fatalf("got %v, %v; want an *EventError", evs, err)
			}
			if ee.Index != tt.index || !strings.Contains(ee.Reason, tt.reason) {
				t.Errorf("got %+v (%v), want Index %d, Reason with %q", *ee, ee, tt.index, tt.reason)
			}
		})
	}
	// The error of an element of an array names it among the others.
	_, err := messages.ParseEvents([]byte("[" + one + `,{"user_id":1}]`))
	if want := "actorlite: bad event 1 of 2: user_id (UserID): want a string, got number"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// FuzzParseEvents: whatever the body, ParseEvents never panics and answers either events or
// an *EventError wrapping ErrBadEvent whose Index is -1 or an element's; every event it
// decodes marshals (json.Marshal) to a form that decodes to the same event.
func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{
		`{"user_id":"u","name":"n","properties":{"a":1},"timestamp":"2025-01-02T03:04:05Z","idempotency_key":"k"}`,
		`[{"user_id":"u","name":"n"},{"user_id":"v","name":"m","timestamp":1735787045.5}]`,
		`[{"user_id":"u","name":"n","properties":null,"timestamp":null},2,"x"]`,
		`{"user_id":7}`, `[`, `[]`, `null`, `"x"`, ` `, `{"timestamp":"2025-01-02 03:04:05.123"}`,
		`{"properties":12345678901234567890,"timestamp":-62135596800}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := messages.ParseEvents(data)
		if err != nil {
			var ee *messages.EventError
			if !errors.As(err, &ee) || !errors.Is(err, messages.ErrBadEvent) || evs != nil {
				t.Fatalf("ParseEvents(%q) = %v, %v: want an *EventError and no events", data, evs, err)
			}
			if ee.Index < -1 || (ee.Index >= 0 && ee.Index >= max(ee.Total, 1)) || ee.Reason == "" {
				t.Fatalf("ParseEvents(%q): %+v", data, *ee)
			}
			return
		}
		for i, ev := range evs {
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatalf("event %d of %q: Marshal: %v", i, data, err)
			}
			var back messages.Event
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("event %d of %q: %s does not decode: %v", i, data, out, err)
			}
			// Marshal compacts properties (encoding/json re-encodes a RawMessage), so compare
			// them as compacted JSON.
			if back.UserID != ev.UserID || back.Name != ev.Name || back.IdempotencyKey != ev.IdempotencyKey ||
				!back.Timestamp.Equal(ev.Timestamp) || compact(t, back.Properties) != compact(t, ev.Properties) {
				t.Fatalf("event %d of %q: %+v, marshalled %s, decodes to %+v", i, data, ev, out, back)
			}
		}
	})
}

func compact(t *testing.T, raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	out, err := json.Marshal(raw) // encoding/json compacts a RawMessage
	if err != nil {
		t.Fatalf("properties %q: %v", raw, err)
	}
	return string(out)
}
