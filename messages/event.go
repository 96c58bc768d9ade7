package messages

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Event is one analytics event, routed by the supervisor to the events writer.
//
// Its JSON form is the one `actorlite ingest` reads, a line like
//
//	{"user_id":"u1","name":"signup","properties":{"plan":"pro"},"timestamp":"2025-01-02T15:04:05Z","idempotency_key":"req-81f3"}
//
// and [json.Unmarshal] into an Event decodes it (see [Event.UnmarshalJSON]); [json.Marshal]
// writes it (an RFC 3339 timestamp; properties, timestamp and key left out when empty).
type Event struct {
	UserID     string          `json:"user_id"`
	Name       string          `json:"name"`
	Properties json.RawMessage `json:"properties,omitempty"` // must be valid JSON (or empty: stored as NULL)
	Timestamp  time.Time       `json:"timestamp,omitzero"`   // zero: the time the supervisor received it
	// IdempotencyKey, when not empty, names the event for retries: the events table holds at
	// most one event per key (a unique index), and an event whose key is already stored, or
	// already in the same batch, is acknowledged without a second row, whatever its other
	// fields. A client that retries a call whose answer it did not get (its ctx ended, its
	// connection dropped) sends the same keys again. At most [MaxIdempotencyKey] bytes.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// MaxEventProperties is the largest Properties an event may have, in bytes (1 MiB).
const MaxEventProperties = 1 << 20

// MaxIdempotencyKey is the longest IdempotencyKey an event may have, in bytes.
const MaxIdempotencyKey = 256

// Validate returns nil if e can be stored, else an [*EventError] naming the first field that
// cannot: an empty UserID or Name, Properties larger than [MaxEventProperties] or not valid
// JSON, a Timestamp that [CheckTime] refuses, an IdempotencyKey longer than
// [MaxIdempotencyKey]. The error's Index is 0: a caller validating a list of events sets it
// to the event's index. [InsertEvents] validates every event with it; a program calls it
// itself to tell bad input early, before sending it.
func (e Event) Validate() error {
	switch p := e.Properties; {
	case e.UserID == "":
		return fieldError("UserID", "empty")
	case e.Name == "":
		return fieldError("Name", "empty")
	case len(p) > MaxEventProperties:
		return fieldError("Properties", fmt.Sprintf("%d bytes, more than the limit of %d", len(p), MaxEventProperties))
	case len(p) > 0 && !json.Valid(p):
		return fieldError("Properties", "not valid JSON")
	case len(e.IdempotencyKey) > MaxIdempotencyKey:
		return fieldError("IdempotencyKey", fmt.Sprintf("%d bytes, more than the limit of %d", len(e.IdempotencyKey), MaxIdempotencyKey))
	}
	if !e.Timestamp.IsZero() {
		if err := CheckTime(e.Timestamp); err != nil {
			return fieldError("Timestamp", err.Error())
		}
	}
	return nil
}

// jsonNames are the JSON names of Event's fields, by Go name.
var jsonNames = map[string]string{
	"UserID": "user_id", "Name": "name", "Properties": "properties", "Timestamp": "timestamp",
	"IdempotencyKey": "idempotency_key",
}

// goNames are Event's Go field names, by JSON name.
var goNames = map[string]string{
	"user_id": "UserID", "name": "Name", "properties": "Properties", "timestamp": "Timestamp",
	"idempotency_key": "IdempotencyKey",
}

// fieldError is an [*EventError] about field (a Go name) of an event, with its JSON name.
func fieldError(field, reason string) *EventError {
	return &EventError{Field: field, JSONField: jsonNames[field], Reason: reason}
}

// eventJSON is Event's JSON form as it is read: the timestamp in any of its forms.
type eventJSON struct {
	UserID         string          `json:"user_id"`
	Name           string          `json:"name"`
	Properties     json.RawMessage `json:"properties"`
	Timestamp      json.RawMessage `json:"timestamp"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// UnmarshalJSON decodes an event from its JSON form, a JSON object:
//   - "user_id", "name" and "idempotency_key" are strings (missing: empty);
//   - "properties" is any JSON value, kept as it is (missing or null: none, stored as NULL);
//   - "timestamp" is an RFC 3339 string, SQLite's "YYYY-MM-DD HH:MM:SS[.fff]" (read as UTC),
//     or a number of seconds since 1970 (fractions allowed); missing or null: zero, the time
//     it is stored. A time outside years 0000–9999 is refused ([CheckTime]).
//
// Keys match case-insensitively, as encoding/json matches them; other keys are ignored; of a
// key given twice, the last wins. A value of the wrong type is an [*EventError] (wrapping
// [ErrBadEvent]) naming the field; so is a value that is not an object (Field empty). It
// decodes only: [Event.Validate] (which InsertEvents runs) checks that the event can be
// stored. This is the one decoder of the ingest format: `actorlite ingest` uses it too.
func (e *Event) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil // as encoding/json leaves a struct
	}
	var w eventJSON
	if err := json.Unmarshal(data, &w); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field == "":
			return &EventError{Reason: "want a JSON object, got " + te.Value}
		case errors.As(err, &te):
			return &EventError{Field: goNames[te.Field], JSONField: te.Field, Reason: fmt.Sprintf("want a %s, got %s", te.Type, te.Value)}
		}
		return err // a syntax error, which encoding/json reports before calling UnmarshalJSON
	}
	ev := Event{UserID: w.UserID, Name: w.Name, IdempotencyKey: w.IdempotencyKey}
	if len(w.Properties) > 0 && string(w.Properties) != "null" {
		ev.Properties = w.Properties
	}
	if ts := w.Timestamp; len(ts) > 0 && string(ts) != "null" {
		t, err := parseEventTime(ts)
		if err != nil {
			return fieldError("Timestamp", err.Error())
		}
		ev.Timestamp = t
	}
	*e = ev
	return nil
}

// maxEventSeconds bounds a numeric timestamp: beyond it, float64 seconds lose the precision a
// time needs, and the year is far outside what [CheckTime] accepts anyway.
const maxEventSeconds = 1e12

// parseEventTime reads an RFC 3339 (or SQLite) time string, or a number of seconds since 1970.
func parseEventTime(raw json.RawMessage) (time.Time, error) {
	var t time.Time
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return t, err
		}
		var err error
		if t, err = ParseTime(s); err != nil {
			return t, fmt.Errorf("%q is not an RFC 3339 time", s)
		}
	} else {
		var secs float64
		if err := json.Unmarshal(raw, &secs); err != nil {
			return t, fmt.Errorf("want an RFC 3339 string or seconds since 1970, got %s", raw)
		}
		if math.Abs(secs) > maxEventSeconds {
			return t, fmt.Errorf("%s seconds since 1970 is out of range", raw)
		}
		whole, frac := math.Modf(secs)
		t = time.Unix(int64(whole), int64(frac*1e9)).UTC()
	}
	if err := CheckTime(t); err != nil {
		return t, fmt.Errorf("%s: %w", t.UTC().Format(time.RFC3339Nano), err)
	}
	return t, nil
}

// ParseEvents decodes data, one event's JSON object or an array of them (the body an HTTP
// ingest endpoint takes), as [Event.UnmarshalJSON] decodes each. An error is an
// [*EventError] (wrapping [ErrBadEvent]): with the event's Index when an element is bad, or
// Index -1 when data is not valid JSON, nor an object or an array of objects. It decodes
// only, as UnmarshalJSON does; InsertEvents validates. Bound data's size before (an
// http.MaxBytesReader): ParseEvents holds the events it decodes.
func ParseEvents(data []byte) ([]Event, error) {
	data = bytes.TrimSpace(data)
	var se *json.SyntaxError
	switch {
	case len(data) == 0:
		return nil, &EventError{Index: -1, Reason: "no events: empty"}
	case data[0] == '{':
		var ev Event
		if err := ev.UnmarshalJSON(data); errors.As(err, &se) {
			return nil, &EventError{Index: -1, Reason: "not valid JSON: " + err.Error()}
		} else if err != nil {
			return nil, eventAt(err, 0, 1)
		}
		return []Event{ev}, nil
	case data[0] != '[':
		if !json.Valid(data) {
			return nil, &EventError{Index: -1, Reason: "not valid JSON"}
		}
		return nil, &EventError{Index: -1, Reason: "want an event object or an array of them, got " + jsonKind(data[0])}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, &EventError{Index: -1, Reason: "not valid JSON: " + err.Error()}
	}
	evs := make([]Event, len(raws))
	for i, raw := range raws {
		if err := evs[i].UnmarshalJSON(raw); err != nil {
			return nil, eventAt(err, i, len(raws))
		}
	}
	return evs, nil
}

// eventAt sets the index of err, an event's decoding error, in a list of total events.
func eventAt(err error, i, total int) error {
	var ee *EventError
	if !errors.As(err, &ee) {
		ee = &EventError{Reason: err.Error()}
	}
	ee.Index, ee.Total = i, total
	return ee
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// InsertEvents is sent to the supervisor's PID. It validates Events with [Event.Validate] (one
// bad event rejects the call; the [*EventError]'s Index says which) and replies [*EventsAck]
// only after the batch holding the last of them committed.
type InsertEvents struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Events   []Event
}

// EventsAck answers [InsertEvents]: Count events were committed (those acknowledged as
// already stored under their IdempotencyKey included).
type EventsAck struct {
	Count int
	Err   error
	ID    uint64 // the ID of the request it answers
}

// ErrorReply returns &EventsAck{Err: err}.
func (*InsertEvents) ErrorReply(err error) Reply { return &EventsAck{Err: err} }

// ReplyErr returns r.Err.
func (r *EventsAck) ReplyErr() error { return r.Err }
