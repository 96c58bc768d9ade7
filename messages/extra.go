package messages

import (
	"context"
	"io"
	"time"
)

// FuncFlags qualify a user function (values are SQLite's). https://sqlite.org/c3ref/c_deterministic.html
type FuncFlags uint32

// Function flags.
const (
	FuncDeterministic FuncFlags = 0x000000800 // same arguments, same result: usable in indexes
	FuncDirectOnly    FuncFlags = 0x000080000 // callable only from top-level SQL
	FuncInnocuous     FuncFlags = 0x000200000 // no side effects: usable in the schema
)

// Aggregate is a user aggregate function: Step sees each row of a group, Final returns the
// group's value. Arguments are int64, float64, string, []byte or nil.
type Aggregate interface {
	Step(args []any) error
	Final() (any, error)
}

// WindowAggregate is an aggregate that can also be a window function: Inverse removes the
// oldest row of the window and Value returns the current result. Every result of a function
// registered as a window function comes from Value, with OVER or without (as a plain
// aggregate), the last one included: go-sqlite3 does not tell SQLite's xFinal from xValue.
// Final is not called; it may simply return Value().
type WindowAggregate interface {
	Aggregate
	Inverse(args []any) error
	Value() (any, error)
}

// AuthResult is an authorizer's answer. https://sqlite.org/c3ref/c_deny.html
type AuthResult int

// Authorizer answers.
const (
	AuthOK     AuthResult = iota // allow
	AuthDeny                     // fail the statement with ErrNotAuthorized
	AuthIgnore                   // allow, but read the column as NULL (READ) or skip it (DELETE of a table: truncate optimisation off)
)

// AuthRequest is what an authorizer is asked: Action in SQLite's words ("SELECT", "INSERT",
// "READ", "DROP_TABLE", …), Arg1 and Arg2 SQLite's two raw arguments, Table and Column filled
// where the action names them, the Database ("main", "temp", …) and the innermost Trigger or
// view the access comes from. https://sqlite.org/c3ref/c_alter_table.html
type AuthRequest struct {
	Action, Arg1, Arg2, Table, Column, Database, Trigger string
}

// RowChange is one row changed by a committed transaction, as the update hook gives it.
type RowChange struct {
	Op       string // "INSERT", "UPDATE" or "DELETE"
	Database string // "main", "temp" or an attached database
	Table    string
	RowID    int64
}

// PID names an actor. protoactor's *actor.PID satisfies it (with its generated getters); this
// package imports only the standard library, so it cannot name that type. A connection actor
// turns any other implementation into a *actor.PID of the same address and id.
type PID interface {
	GetAddress() string
	GetId() string
}

// RowChanges is the change feed's message: what a connection whose [SetUpdateHook] names a
// Subscriber sends it, once per commit, after the commit. Conn and DSN say which connection
// committed, so that one subscriber can follow several; Changes are the rows the transaction
// inserted, updated or deleted, in the order it changed them (a row changed twice is there
// twice). A commit that changed no row sends nothing.
//
// One message holds one whole commit: a commit of N rows is one message of N changes, 56
// bytes each (rows of one table share its names' strings). It is never split: a subscriber
// never has to put a transaction back together, and splitting would save no memory, since the
// connection must hold every change of a transaction until it commits (those of one that
// rolls back are never sent) and then sends them all at once. Mind transactions of millions of
// rows: 1,000,000 changed rows are a 56 MB message.
type RowChanges struct {
	Conn    PID    // the connection actor's PID (a *actor.PID), the same after a restart
	DSN     string // the DSN the connection was opened with
	Changes []RowChange
}

// BlobID names an open blob inside its connection actor.
type BlobID uint64

// CreateAggregate registers an aggregate (or, with Window set, an aggregate window) SQL
// function and replies [*Ack]. New makes the state of one group; for a window function it
// must return a [WindowAggregate].
type CreateAggregate struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Name     string
	NArgs    int
	New      func() Aggregate
	Window   bool
	Flags    FuncFlags
}

// CreateCollation registers a collating sequence and replies [*Ack]; nil Cmp removes it.
type CreateCollation struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Name     string
	Cmp      func(a, b string) int
}

// SetAuthorizer installs (nil Fn: removes) the statement authorizer and replies [*Ack].
type SetAuthorizer struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Fn       func(AuthRequest) AuthResult
}

// SetTrace installs (nil Fn: removes) the statement trace and replies [*Ack].
type SetTrace struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Fn       func(sql string, d time.Duration)
}

// SetProgressHandler installs (nil Fn: removes) a progress handler called about every Steps
// virtual-machine instructions (rounded to SQLite's check interval of 1,000) while a statement
// runs; returning true aborts the statement with [ErrInterrupted]. It replies [*Ack].
type SetProgressHandler struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Steps    int
	Fn       func() (abort bool)
}

// SetUpdateHook installs a change feed, replacing the one in place, and replies [*Ack]. After
// each commit that changed rows, the connection sends Subscriber a [*RowChanges]; or, with Fn
// set instead, calls Fn on the connection's goroutine with the rows (Fn must not block, and
// owns the slice). Set at most one of them: both is an [*ArgError], and neither removes the
// feed. Changes of a rolled-back transaction are never given. The feed outlives a crash of
// the connection: its restart installs it again.
type SetUpdateHook struct {
	Ctx        context.Context
	ReplyTo    chan<- Reply
	ID         uint64    // echoed in the reply's ID
	Deadline   time.Time // when set, the request ends then, as if Ctx ended
	Subscriber PID
	Fn         func([]RowChange)
}

// OpenBlob opens the blob in Table.Column of row RowID for incremental I/O and replies
// [*BlobReply].
type OpenBlob struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Table    string
	Column   string
	RowID    int64
	Write    bool
}

// BlobRead reads at most N bytes at Offset of an open blob and replies [*BlobReply] with
// them in Data (fewer at the end; none past it).
type BlobRead struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Blob     BlobID
	Offset   int64
	N        int
}

// BlobWrite writes Data at Offset of a blob opened for writing and replies [*BlobReply].
// A blob cannot grow.
type BlobWrite struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Blob     BlobID
	Offset   int64
	Data     []byte
}

// CloseBlob closes a blob and replies [*Ack].
type CloseBlob struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Blob     BlobID
}

// Dump writes SQL text that recreates the database (sqlite3's .dump, Python's iterdump) to W,
// from one consistent snapshot, and replies [*Ack]. The connection is busy while it writes.
type Dump struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	W        io.Writer
}

// Serialize replies [*BlobReply] with the bytes of the main database in Data.
type Serialize struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
}

// Deserialize replaces the main database with Data (the bytes of a database file) and
// replies [*Ack].
type Deserialize struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
	Data     []byte
}

// TotalChanges replies [*ExecReply] with the rows changed since the connection opened in
// Result.RowsAffected. https://sqlite.org/c3ref/total_changes.html
type TotalChanges struct {
	Ctx      context.Context
	ReplyTo  chan<- Reply
	ID       uint64    // echoed in the reply's ID
	Deadline time.Time // when set, the request ends then, as if Ctx ended
}

// BlobReply answers [OpenBlob], [BlobRead], [BlobWrite] and [Serialize].
type BlobReply struct {
	Blob BlobID
	Size int64
	Data []byte
	N    int
	Err  error
	ID   uint64 // the ID of the request it answers
}

// ReplyErr returns r.Err.
func (r *BlobReply) ReplyErr() error { return r.Err }

// ErrorReply returns &Ack{Err: err}.
func (*CreateAggregate) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*CreateCollation) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*SetAuthorizer) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*SetTrace) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*SetProgressHandler) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*SetUpdateHook) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &BlobReply{Err: err}.
func (*OpenBlob) ErrorReply(err error) Reply { return &BlobReply{Err: err} }

// ErrorReply returns &BlobReply{Err: err}.
func (m *BlobRead) ErrorReply(err error) Reply { return &BlobReply{Blob: m.Blob, Err: err} }

// ErrorReply returns &BlobReply{Err: err}.
func (m *BlobWrite) ErrorReply(err error) Reply { return &BlobReply{Blob: m.Blob, Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*CloseBlob) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Dump) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &BlobReply{Err: err}.
func (*Serialize) ErrorReply(err error) Reply { return &BlobReply{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Deserialize) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &ExecReply{Err: err}.
func (*TotalChanges) ErrorReply(err error) Reply { return &ExecReply{Err: err} }

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

// Ensure these implement Request.
var (
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
	_ Request = (*Dump)(nil)
	_ Request = (*Serialize)(nil)
	_ Request = (*Deserialize)(nil)
	_ Request = (*TotalChanges)(nil)
	_ Reply   = (*BlobReply)(nil)
)
