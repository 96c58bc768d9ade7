package messages

import (
	"context"
	"encoding/json"
	"time"
)

// Event is one analytics event, routed by the supervisor to the events writer.
type Event struct {
	UserID     string
	Name       string
	Properties json.RawMessage // must be valid JSON (or empty: stored as NULL)
	Timestamp  time.Time       // zero: the time the supervisor received it
}

// InsertEvents is sent to the supervisor's PID. It validates Events (one bad event rejects the
// call) and replies [*EventsAck] only after the batch holding the last of them committed.
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
