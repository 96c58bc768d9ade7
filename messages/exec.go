package messages

import (
	"context"
	"time"
)

// Result is the outcome of a statement that changes rows.
type Result struct {
	LastInsertID int64 // rowid of the most recent successful INSERT on the connection
	RowsAffected int64 // rows changed by the statement (by all of them, for ExecMany)
}

// Exec runs one statement and replies [*ExecReply]. Args bind its parameters in order
// (named parameters by position too), except a database/sql NamedArg, which binds by name. Rows the statement returns are discarded.
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

// ExecReply answers [Exec], [ExecMany] and [ExecScript].
type ExecReply struct {
	Result Result
	Err    error
	ID     uint64 // the ID of the request it answers
}

// ErrorReply returns &ExecReply{Err: err}.
func (*Exec) ErrorReply(err error) Reply { return &ExecReply{Err: err} }

// ErrorReply returns &ExecReply{Err: err}.
func (*ExecMany) ErrorReply(err error) Reply { return &ExecReply{Err: err} }

// ErrorReply returns &ExecReply{Err: err}.
func (*ExecScript) ErrorReply(err error) Reply { return &ExecReply{Err: err} }

// ReplyErr returns r.Err.
func (r *ExecReply) ReplyErr() error { return r.Err }
