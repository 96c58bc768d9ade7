package messages

import (
	"context"
	"time"
)

// Close closes the connection and replies [*Ack]: open cursors are closed, an open transaction
// is rolled back, and the actor stops. Later requests get [ErrClosed].
type Close struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
}

// TotalChanges replies [*ExecReply] with the rows changed since the connection opened in
// Result.RowsAffected. https://sqlite.org/c3ref/total_changes.html
type TotalChanges struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
}

// ErrorReply returns &Ack{Err: err}.
func (*Close) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &ExecReply{Err: err}.
func (*TotalChanges) ErrorReply(err error) Reply { return &ExecReply{Err: err} }
