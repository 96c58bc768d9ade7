package messages

import (
	"context"
	"time"
)

// FuncFlags qualify a user function, for [CreateFunction] and [CreateAggregate]; combine them
// with |. Their values are SQLite's (SQLITE_DETERMINISTIC and so on), written out because
// this package imports only the standard library; a test of package sqlitewasm checks them
// against go-sqlite3's. https://sqlite.org/c3ref/c_deterministic.html
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

// CreateAggregate registers an aggregate (or, with Window set, an aggregate window) SQL
// function and replies [*Ack]. New makes the state of one group; for a window function it
// must return a [WindowAggregate].
type CreateAggregate struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Name     string
	NArgs    int
	New      func() Aggregate
	Window   bool
	Flags    FuncFlags
}

// CreateCollation registers a collating sequence and replies [*Ack]; nil Cmp removes it.
type CreateCollation struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Name     string
	Cmp      func(a, b string) int
}

// ErrorReply returns &Ack{Err: err}.
func (*CreateFunction) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*CreateAggregate) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*CreateCollation) ErrorReply(err error) Reply { return &Ack{Err: err} }
