package messages

import (
	"context"
	"time"
)

// Request is implemented by every message a connection actor (or, for [InsertEvents], the
// supervisor) accepts. The set is sealed: only this package defines requests.
//
// Every request has, besides its own fields, Ctx, ReplyTo, ID and Deadline.
//
// Ctx is the caller's context. The actor skips a request whose Ctx is already done (with no
// side effect) and interrupts a running one when it is done. It may be nil.
//
// ReplyTo, when not nil, receives the reply instead of the sender. The handles of package
// actors use it (a channel with a buffer of at least 1: the actor never blocks on it). An
// actor leaves it nil and sends the request with Request or RequestFuture.
//
// ID is the caller's: the reply carries it back in its own ID field, so that an actor with
// several requests in flight can tell their replies apart. actorlite never reads it.
//
// Deadline, when not zero, is honoured exactly as Ctx is: a request still queued at its
// deadline is answered with an error wrapping [context.DeadlineExceeded] and has no effect,
// and one running then is interrupted. An actor, whose RequestFuture times out without telling
// the connection, sets it to the same time, so that the work it gave up on stops too (the
// ask helper of package actors does).
type Request interface {
	// Context returns the caller's context: [context.Background] when Ctx is nil.
	Context() context.Context
	// ErrorReply returns the request's typed reply carrying err.
	ErrorReply(err error) Reply
	// ReplyChan returns the channel a handle set in ReplyTo, or nil.
	ReplyChan() chan<- Reply
	// head returns the fields every request has beside Ctx and ReplyTo: ID and Deadline.
	head() (id *uint64, deadline *time.Time)
}

// Reply is implemented by every reply. ReplyErr returns its Err field.
type Reply interface {
	ReplyErr() error
}

// Ack answers requests that return nothing but an error.
type Ack struct {
	Err error
	ID  uint64 // the ID of the request it answers
}

// ReplyErr returns r.Err.
func (r *Ack) ReplyErr() error { return r.Err }

// RequestID returns req's ID.
func RequestID(req Request) uint64 {
	id, _ := req.head()
	return *id
}

// RequestDeadline returns req's Deadline (zero: none).
func RequestDeadline(req Request) time.Time {
	_, dl := req.head()
	return *dl
}

// SetDeadline sets req's Deadline to t, unless it has an earlier one. Call it before sending
// req: a request belongs to its receiver once sent.
func SetDeadline(req Request, t time.Time) {
	_, dl := req.head()
	if dl.IsZero() || t.Before(*dl) {
		*dl = t
	}
}

// Stamp sets the ID of r, the reply to req, to req's ID, and returns r. Whatever answers a
// request (the connection actor, the events writer, the supervisor) stamps its reply.
func Stamp(r Reply, req Request) Reply {
	id := RequestID(req)
	if id == 0 {
		return r
	}
	switch r := r.(type) {
	case *ExecReply:
		r.ID = id
	case *Rows:
		r.ID = id
	case *Ack:
		r.ID = id
	case *TxStatusReply:
		r.ID = id
	case *EventsAck:
		r.ID = id
	case *BlobReply:
		r.ID = id
	}
	return r
}

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Exec) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Exec) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Exec) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *ExecMany) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *ExecMany) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *ExecMany) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *ExecScript) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *ExecScript) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *ExecScript) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Query) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Query) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Query) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Fetch) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Fetch) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Fetch) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *CloseCursor) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *CloseCursor) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *CloseCursor) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Begin) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Begin) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Begin) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Commit) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Commit) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Commit) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Rollback) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Rollback) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Rollback) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *TxStatus) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *TxStatus) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *TxStatus) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Backup) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Backup) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Backup) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Dump) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Dump) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Dump) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Serialize) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Serialize) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Serialize) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Deserialize) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Deserialize) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Deserialize) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *TotalChanges) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *TotalChanges) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *TotalChanges) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *CreateFunction) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *CreateFunction) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *CreateFunction) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *CreateAggregate) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *CreateAggregate) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *CreateAggregate) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *CreateCollation) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *CreateCollation) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *CreateCollation) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *SetAuthorizer) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *SetAuthorizer) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *SetAuthorizer) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *SetTrace) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *SetTrace) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *SetTrace) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *SetProgressHandler) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *SetProgressHandler) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *SetProgressHandler) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *SetUpdateHook) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *SetUpdateHook) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *SetUpdateHook) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *OpenBlob) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *OpenBlob) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *OpenBlob) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *BlobRead) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *BlobRead) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *BlobRead) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *BlobWrite) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *BlobWrite) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *BlobWrite) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *CloseBlob) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *CloseBlob) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *CloseBlob) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *Close) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *Close) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *Close) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

// Context returns m.Ctx, or [context.Background] when it is nil.
func (m *InsertEvents) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *InsertEvents) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *InsertEvents) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// Ensure every request implements Request and every reply Reply.
var (
	_ Request = (*Exec)(nil)
	_ Request = (*ExecMany)(nil)
	_ Request = (*ExecScript)(nil)
	_ Request = (*Query)(nil)
	_ Request = (*Fetch)(nil)
	_ Request = (*CloseCursor)(nil)
	_ Request = (*Begin)(nil)
	_ Request = (*Commit)(nil)
	_ Request = (*Rollback)(nil)
	_ Request = (*TxStatus)(nil)
	_ Request = (*Backup)(nil)
	_ Request = (*Dump)(nil)
	_ Request = (*Serialize)(nil)
	_ Request = (*Deserialize)(nil)
	_ Request = (*TotalChanges)(nil)
	_ Request = (*CreateFunction)(nil)
	_ Request = (*CreateAggregate)(nil)
	_ Request = (*CreateCollation)(nil)
	_ Request = (*SetAuthorizer)(nil)
	_ Request = (*SetTrace)(nil)
	_ Request = (*SetProgressHandler)(nil)
	_ Request = (*SetUpdateHook)(nil)
	_ Request = (*OpenBlob)(nil)
	_ Request = (*BlobRead)(nil)
	_ Request = (*BlobWrite)(nil)
	_ Request = (*CloseBlob)(nil)
	_ Request = (*Close)(nil)
	_ Request = (*InsertEvents)(nil)

	_ Reply = (*ExecReply)(nil)
	_ Reply = (*Rows)(nil)
	_ Reply = (*Ack)(nil)
	_ Reply = (*TxStatusReply)(nil)
	_ Reply = (*EventsAck)(nil)
	_ Reply = (*BlobReply)(nil)
)
