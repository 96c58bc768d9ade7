package messages

import (
	"context"
	"time"
)

// Transaction modes for [Begin]. https://sqlite.org/lang_transaction.html
const (
	Deferred  = "DEFERRED"
	Immediate = "IMMEDIATE"
	Exclusive = "EXCLUSIVE"
)

// Begin opens a transaction ("" means [Deferred]) and replies [*Ack];
// [ErrInTransaction] if one is open.
type Begin struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Mode     string
}

// Commit commits the open transaction and replies [*Ack]; [ErrNoTransaction] if none is open.
type Commit struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
}

// Rollback rolls back the open transaction and replies [*Ack]; [ErrNoTransaction] if none is open.
type Rollback struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
}

// TxStatus asks whether a transaction is open and replies [*TxStatusReply].
type TxStatus struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
}

// TxStatusReply answers [TxStatus].
type TxStatusReply struct {
	InTransaction bool
	Err           error
	ID            uint64 // the ID of the request it answers
}

// ErrorReply returns &Ack{Err: err}.
func (*Begin) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Commit) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Rollback) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &TxStatusReply{Err: err}.
func (*TxStatus) ErrorReply(err error) Reply { return &TxStatusReply{Err: err} }

// ReplyErr returns r.Err.
func (r *TxStatusReply) ReplyErr() error { return r.Err }
