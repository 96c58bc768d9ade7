package actors

import (
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// Bounds of what a connection has in flight from its handles.
const (
	// DefaultMaxPending is how many requests may be in flight before callers wait.
	DefaultMaxPending = 1024
	// DefaultMaxPendingBytes is how many bytes of large requests may be in flight.
	DefaultMaxPendingBytes = 64 << 20
	// LargeRequest is the size (SQL text, and text and blob arguments) from which a request
	// counts its bytes against MaxPendingBytes; smaller ones are bounded by MaxPending alone.
	// With the defaults, a connection holds at most 64 MiB of large requests and 1,024 × 64
	// KiB of small ones.
	LargeRequest = 64 << 10
)

// largeWeight returns the bytes req counts against MaxPendingBytes: 0 for a small request, at
// most the bound itself (a larger request waits until nothing else large is in flight).
func (sh *shared) largeWeight(req messages.Request) int64 {
	n := int64(payload(req))
	if n < LargeRequest {
		return 0
	}
	return min(n, sh.large.maxB)
}

// payload returns the bytes a request carries: its SQL text, text and blob arguments, data.
func payload(req messages.Request) int {
	switch m := req.(type) {
	case *messages.Exec:
		return len(m.SQL) + argBytes(m.Args)
	case *messages.Query:
		return len(m.SQL) + argBytes(m.Args)
	case *messages.ExecMany:
		n := len(m.SQL)
		for _, args := range m.Args {
			n += argBytes(args)
		}
		return n
	case *messages.ExecScript:
		return len(m.SQL)
	case *messages.BlobWrite:
		return len(m.Data)
	case *messages.Deserialize:
		return len(m.Data)
	}
	return 0
}

func argBytes(args []any) int {
	n := 0
	for _, a := range args {
		if na, ok := a.(sql.NamedArg); ok {
			a = na.Value
		}
		switch v := a.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		case json.RawMessage:
			n += len(v)
		}
	}
	return n
}

// holdsSlot reports whether req holds one of the connection's MaxPending slots while in
// flight: every request does (a handle's takes it before sending, an actor's when it is posted:
// see admit), except a release posted without a reply to wait for (a handle's whose ctx had
// ended, a collected handle's, an actor's): releasing never waits for room.
func holdsSlot(req messages.Request) bool {
	return req.ReplyChan() != nil || !releases(req)
}

// admit runs when an actor posts msg to the connection's mailbox, on the actor's goroutine.
// A request takes one of the MaxPending slots, and room for its bytes when it is large, as a
// handle's call does; but an actor must never block, so when there is no room now it is
// answered at once with an error wrapping [messages.ErrOverloaded], and admit returns false.
// The connection's memory is thus bounded for actors as for goroutines.
func (sh *shared) admit(msg any) bool {
	_, m, sender := actor.UnwrapEnvelope(msg)
	req, ok := m.(messages.Request)
	if !ok || req.ReplyChan() != nil {
		// Not a request, or one an actor sent with ReplyTo set, as a handle's: admitted as it
		// always was, taking nothing (handles post theirs with postInline, not through here).
		return true
	}
	if isClose(req) {
		sh.closeSent.Store(true)
	}
	if !holdsSlot(req) {
		return true // a release: never refused, never waits
	}
	if sh.closeSent.Load() {
		sh.refuse(msg, false) // behind a Close: it would be refused when its turn came
		return false
	}
	var why string
	if w := sh.largeWeight(req); !sh.pending.tryTake(1, 0) {
		why = fmt.Sprintf("%d requests in flight (MaxPending)", sh.pending.maxN)
	} else if w > 0 && !sh.large.tryTake(0, w) {
		sh.pending.release(1, 0)
		why = fmt.Sprintf("no room for its %d bytes (MaxPendingBytes %d)", w, sh.large.maxB)
	} else {
		return true
	}
	reply := req.ErrorReply(fmt.Errorf("%w: connection %s: %s", messages.ErrOverloaded, sh.dsn, why))
	if _, ok := req.(*messages.Fetch); ok {
		reply.(*messages.Rows).Done = false // its cursor stays open: fetch again later
	}
	Deliver(sh.sys.Root, req, sender, reply)
	return false
}

// release gives back what a request held while in flight: its slot, and the bytes of a
// large one.
func (sh *shared) release(req messages.Request) { sh.releaseWeight(sh.largeWeight(req)) }

// releaseWeight is release for a request whose largeWeight was w: serve computes it before
// it answers, since a handle may reuse its request as soon as it has the reply.
func (sh *shared) releaseWeight(w int64) {
	sh.pending.release(1, 0)
	if w > 0 {
		sh.large.release(0, w)
	}
}

// releases reports whether req releases something the connection holds: such a request
// runs whatever its ctx, so that releasing never depends on the caller's ctx still being
// alive (a cursor closed after its ctx ended must still free its statement and snapshot).
func releases(req messages.Request) bool {
	switch req.(type) {
	case *messages.CloseCursor, *messages.CloseBlob, *messages.Rollback, *messages.Close:
		return true
	}
	return false
}
