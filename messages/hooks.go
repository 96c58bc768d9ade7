package messages

import (
	"context"
	"time"
)

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

// SetAuthorizer installs (nil Fn: removes) the statement authorizer and replies [*Ack].
type SetAuthorizer struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Fn       func(AuthRequest) AuthResult
}

// SetTrace installs (nil Fn: removes) the statement trace and replies [*Ack].
type SetTrace struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Fn       func(sql string, d time.Duration)
}

// SetProgressHandler installs (nil Fn: removes) a progress handler called about every Steps
// virtual-machine instructions while a statement runs (from 1,000 on, rounded to go-sqlite3's
// check interval of 1,000; below it, also before each step of a statement, so that it can abort
// any statement); returning true aborts the statement with [ErrInterrupted]. It replies [*Ack].
type SetProgressHandler struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
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
	Ctx        context.Context // the caller's context; may be nil
	ReplyTo    chan<- Reply    // set by handles; actors leave it nil
	ID         uint64          // echoed in the reply's ID
	Deadline   time.Time       // when set, the request ends then, as if Ctx ended
	Subscriber PID
	Fn         func([]RowChange)
}

// RowChange is one row changed by a committed transaction, as the update hook gives it.
type RowChange struct {
	Op       string // "INSERT", "UPDATE" or "DELETE"
	Database string // "main", "temp" or an attached database
	Table    string
	RowID    int64
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

// PID names an actor. protoactor's *actor.PID satisfies it (with its generated getters); this
// package imports only the standard library, so it cannot name that type. A connection actor
// turns any other implementation into a *actor.PID of the same address and id.
type PID interface {
	GetAddress() string
	GetId() string
}

// ErrorReply returns &Ack{Err: err}.
func (*SetAuthorizer) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*SetTrace) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*SetProgressHandler) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*SetUpdateHook) ErrorReply(err error) Reply { return &Ack{Err: err} }
