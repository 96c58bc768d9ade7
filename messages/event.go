package messages

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one analytics event, routed by the supervisor to the events writer.
type Event struct {
	UserID     string
	Name       string
	Properties json.RawMessage // must be valid JSON (or empty: stored as NULL)
	Timestamp  time.Time       // zero: the time the supervisor received it
}

// MaxEventProperties is the largest Properties an event may have, in bytes (1 MiB).
const MaxEventProperties = 1 << 20

// Validate returns nil if e can be stored, else an [*EventError] naming the first field that
// cannot: an empty UserID or Name, Properties larger than [MaxEventProperties] or not valid
// JSON, a Timestamp that [CheckTime] refuses. The error's Index is 0: a caller validating a
// list of events sets it to the event's index. [InsertEvents] validates every event with it;
// a program calls it itself to tell bad input early, before sending it.
func (e Event) Validate() error {
	switch p := e.Properties; {
	case e.UserID == "":
		return &EventError{Field: "UserID", Reason: "empty"}
	case e.Name == "":
		return &EventError{Field: "Name", Reason: "empty"}
	case len(p) > MaxEventProperties:
		return &EventError{Field: "Properties", Reason: fmt.Sprintf("%d bytes, more than the limit of %d", len(p), MaxEventProperties)}
	case len(p) > 0 && !json.Valid(p):
		return &EventError{Field: "Properties", Reason: "not valid JSON"}
	}
	if !e.Timestamp.IsZero() {
		if err := CheckTime(e.Timestamp); err != nil {
			return &EventError{Field: "Timestamp", Reason: err.Error()}
		}
	}
	return nil
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

// EventsAck answers [InsertEvents]: Count events were committed.
type EventsAck struct {
	Count int
	Err   error
	ID    uint64 // the ID of the request it answers
}

// ErrorReply returns &EventsAck{Err: err}.
func (*InsertEvents) ErrorReply(err error) Reply { return &EventsAck{Err: err} }

// ReplyErr returns r.Err.
func (r *EventsAck) ReplyErr() error { return r.Err }
