package messages

import (
	"context"
	"time"
)

// Request is implemented by every message a connection actor (or, for [InsertEvents], the
// supervisor) accepts. The set is sealed: only this package defines requests.
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

// Exec runs one statement and replies [*ExecReply]. Args bind its parameters in order
// (named parameters by position too). Rows the statement returns are discarded.
type Exec struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	SQL      string
	Args     []any
}

// ExecMany runs one statement once per element of Args, with one prepared statement, in one
// transaction (or inside the caller's open transaction). It replies [*ExecReply]: RowsAffected
// is the sum, LastInsertID the last. If one execution fails, none of them is kept (unless a
// transaction of the caller's is open: then the caller decides).
type ExecMany struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	SQL      string
	Args     [][]any
}

// ExecScript runs a script of statements separated by semicolons, without arguments, and
// replies [*ExecReply].
type ExecScript struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	SQL      string
}

// Query runs a statement that returns rows and replies [*Rows] with the first chunk of at
// most FetchSize rows (0 means the connection's default, 64; negative means all rows), fewer
// when the rows are large: a chunk ends after the row that brings its text and blob values to
// 4 MiB, so that a message's size is bounded in bytes too. When
// the reply's Done is false, the statement stays open in the actor as the cursor named by
// [Rows.Cursor]: fetch the rest with [Fetch] and close it early with [CloseCursor].
type Query struct {
	Ctx       context.Context // the caller's context; may be nil
	ReplyTo   chan<- Reply    // set by handles; actors leave it nil
	ID        uint64          // echoed in the reply's ID
	Deadline  time.Time       // when set, the request ends then, as if Ctx ended
	SQL       string
	Args      []any
	FetchSize int
	// ReadOnly asks the actor to run the statement only if SQLite reports it read-only, and
	// to fail with ErrNotReadOnly (having run nothing) otherwise. Pools route with it.
	ReadOnly bool // OneRow asks for the first row only: the actor steps once, closes the statement, and
	// replies with at most one row and Done set (QueryRow uses it).
	OneRow bool
}

// CursorID names an open cursor inside its connection actor. Ids are never reused by a
// connection, across restarts included.
type CursorID uint64

// Fetch asks an open cursor for at most N more rows (N <= 0: all remaining) and replies [*Rows]:
// fewer when they are large, as for [Query]. The cursor is closed when its rows are exhausted
// (Done is true); a reply with fewer than N rows and Done false only means "fetch again".
type Fetch struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Cursor   CursorID
	N        int
}

// CloseCursor closes a cursor and replies [*Ack]. Closing a closed or exhausted cursor is not
// an error; an id the connection never issued is ([ErrUnknownCursor]).
type CloseCursor struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Cursor   CursorID
}

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

// Backup copies the database, consistently and while it is in use, to the file Dest
// (created or overwritten), and replies [*Ack].
type Backup struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Dest     string
}

// CreateFunction registers a scalar SQL function and replies [*Ack]. Fn receives the
// arguments as int64, float64, string, []byte or nil and returns one of the bindable values
// (see package actors). NArgs -1 accepts any count. The function runs on the connection's
// goroutine; a panic in it crashes the connection (it is restarted, and the function with it).
type CreateFunction struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Name     string
	NArgs    int
	Fn       func(args []any) (any, error)
	Flags    FuncFlags
}

// Close closes the connection and replies [*Ack]: open cursors are closed, an open transaction
// is rolled back, and the actor stops. Later requests get [ErrClosed].
type Close struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
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

// ExecReply answers [Exec], [ExecMany] and [ExecScript].
type ExecReply struct {
	Result Result
	Err    error
	ID     uint64 // the ID of the request it answers
}

// Rows answers [Query] and [Fetch] with a chunk of rows.
type Rows struct {
	Cursor  CursorID // the cursor to fetch from while Done is false
	Columns []Column // the result's columns (on the Query reply; nil on Fetch replies)
	Rows    []Row
	Done    bool // no rows remain; the cursor is closed
	Err     error
	ID      uint64 // the ID of the request it answers
}

// Ack answers requests that return nothing but an error.
type Ack struct {
	Err error
	ID  uint64 // the ID of the request it answers
}

// TxStatusReply answers [TxStatus].
type TxStatusReply struct {
	InTransaction bool
	Err           error
	ID            uint64 // the ID of the request it answers
}

// EventsAck answers [InsertEvents]: Count events were committed.
type EventsAck struct {
	Count int
	Err   error
	ID    uint64 // the ID of the request it answers
}

// ReplyErr returns r.Err.
func (r *ExecReply) ReplyErr() error { return r.Err }

// ReplyErr returns r.Err.
func (r *Rows) ReplyErr() error { return r.Err }

// ReplyErr returns r.Err.
func (r *Ack) ReplyErr() error { return r.Err }

// ReplyErr returns r.Err.
func (r *TxStatusReply) ReplyErr() error { return r.Err }

// ReplyErr returns r.Err.
func (r *EventsAck) ReplyErr() error { return r.Err }

// ErrorReply returns &ExecReply{Err: err}.
func (*Exec) ErrorReply(err error) Reply { return &ExecReply{Err: err} }

// ErrorReply returns &ExecReply{Err: err}.
func (*ExecMany) ErrorReply(err error) Reply { return &ExecReply{Err: err} }

// ErrorReply returns &ExecReply{Err: err}.
func (*ExecScript) ErrorReply(err error) Reply { return &ExecReply{Err: err} }

// ErrorReply returns &Rows{Err: err, Done: true}.
func (*Query) ErrorReply(err error) Reply { return &Rows{Err: err, Done: true} }

// ErrorReply returns &Rows{Err: err, Done: true}.
func (m *Fetch) ErrorReply(err error) Reply { return &Rows{Cursor: m.Cursor, Err: err, Done: true} }

// ErrorReply returns &Ack{Err: err}.
func (*CloseCursor) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Begin) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Commit) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Rollback) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &TxStatusReply{Err: err}.
func (*TxStatus) ErrorReply(err error) Reply { return &TxStatusReply{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Backup) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*CreateFunction) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Close) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &EventsAck{Err: err}.
func (*InsertEvents) ErrorReply(err error) Reply { return &EventsAck{Err: err} }

// Fields common to every request.
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
func (m *CreateFunction) Context() context.Context { return orBackground(m.Ctx) }

// ReplyChan returns m.ReplyTo.
func (m *CreateFunction) ReplyChan() chan<- Reply { return m.ReplyTo }

func (m *CreateFunction) head() (*uint64, *time.Time) { return &m.ID, &m.Deadline }

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
	_ Request = (*CreateFunction)(nil)
	_ Request = (*Close)(nil)
	_ Request = (*InsertEvents)(nil)

	_ Reply = (*ExecReply)(nil)
	_ Reply = (*Rows)(nil)
	_ Reply = (*Ack)(nil)
	_ Reply = (*TxStatusReply)(nil)
	_ Reply = (*EventsAck)(nil)
)
