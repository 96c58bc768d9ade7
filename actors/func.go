package actors

import (
	"context"
	"fmt"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// FuncOption qualifies a user function ([Conn.CreateFunction], [Conn.CreateAggregate],
// [Conn.CreateWindowFunction]).
type FuncOption func(*funcOpts)

type funcOpts struct {
	flags      messages.FuncFlags
	innocuous  bool
	directOnly bool
}

// Deterministic declares that the function gives the same result for the same arguments
// (Python's deterministic=True): SQLite may then factor calls out, and the function can be used
// in index expressions and generated columns. Since go-sqlite3's SQLite runs with
// trusted_schema off, a function used in the schema must also be innocuous: Deterministic
// marks it innocuous too, unless [DirectOnly] is given.
func Deterministic() FuncOption {
	return func(o *funcOpts) { o.flags |= messages.FuncDeterministic }
}

// DirectOnly forbids calling the function from triggers, views, CHECK constraints, generated
// columns and index expressions: only top-level SQL may call it. Use it for functions with
// side effects.
func DirectOnly() FuncOption {
	return func(o *funcOpts) { o.directOnly = true }
}

// Innocuous declares that the function has no side effects and leaks nothing, so the schema
// may use it although trusted_schema is off.
func Innocuous() FuncOption {
	return func(o *funcOpts) { o.innocuous = true }
}

func funcFlags(opts []FuncOption) messages.FuncFlags {
	var o funcOpts
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	f := o.flags
	if o.directOnly {
		f |= messages.FuncDirectOnly
	} else if o.innocuous || f&messages.FuncDeterministic != 0 {
		f |= messages.FuncInnocuous
	}
	return f
}

// CreateFunction registers a scalar SQL function of nargs arguments (-1: any number), as
// aiosqlite's create_function. fn gets int64, float64, string, []byte or nil arguments and
// returns a bindable value; its error fails the statement. It runs on the connection's
// goroutine: a panic in it is a crash of the connection, which answers the call with an error
// wrapping [messages.ErrCrashed] and is restarted (with the function registered again). Without [Deterministic] SQLite calls it for
// every row; see also [DirectOnly] and [Innocuous].
func (c *Conn) CreateFunction(ctx context.Context, name string, nargs int, fn func(args []any) (any, error), opts ...FuncOption) error {
	if fn == nil {
		return &messages.ArgError{Reason: "nil function"}
	}
	m := &messages.CreateFunction{Ctx: ctx, Name: name, NArgs: nargs, Fn: fn, Flags: funcFlags(opts)}
	return c.ack(ctx, "create function", m, &m.ReplyTo)
}

// Aggregate is a user aggregate function (see [Conn.CreateAggregate]).
type Aggregate = messages.Aggregate

// WindowAggregate is an aggregate that can also be a window function (see
// [Conn.CreateWindowFunction]).
type WindowAggregate = messages.WindowAggregate

// CreateAggregate registers an aggregate SQL function of nargs arguments (-1: any number),
// as Python's create_aggregate; newAgg makes the state of one group. Like a scalar function,
// it runs on the connection's goroutine, a panic in it is a crash of the connection, and it
// is registered again after a restart. As in SQLite, it can also be used with OVER (...) as
// long as the window frame only grows; a frame that slides (ROWS n PRECEDING) fails the
// statement: register such functions with [Conn.CreateWindowFunction].
func (c *Conn) CreateAggregate(ctx context.Context, name string, nargs int, newAgg func() Aggregate, opts ...FuncOption) error {
	if newAgg == nil {
		return &messages.ArgError{Reason: "nil aggregate constructor"}
	}
	m := &messages.CreateAggregate{Ctx: ctx, Name: name, NArgs: nargs, New: newAgg, Flags: funcFlags(opts)}
	return c.ack(ctx, "create aggregate", m, &m.ReplyTo)
}

// CreateWindowFunction registers an aggregate window function, as Python's
// create_window_function: usable with OVER (...), and as a plain aggregate. All its results,
// without OVER too, come from Value (see [messages.WindowAggregate]); Final is not called.
func (c *Conn) CreateWindowFunction(ctx context.Context, name string, nargs int, newAgg func() WindowAggregate, opts ...FuncOption) error {
	if newAgg == nil {
		return &messages.ArgError{Reason: "nil aggregate constructor"}
	}
	m := &messages.CreateAggregate{Ctx: ctx, Name: name, NArgs: nargs, Window: true, Flags: funcFlags(opts),
		New: func() messages.Aggregate { return newAgg() }}
	return c.ack(ctx, "create window function", m, &m.ReplyTo)
}

// windowOf returns agg as a WindowAggregate. One sent by message (CreateAggregate with
// Window set) may lack Inverse and Value: then every statement using it fails with an
// *ArgError, instead of a failed type assertion crashing the connection.
func windowOf(agg messages.Aggregate) messages.WindowAggregate {
	if w, ok := agg.(messages.WindowAggregate); ok {
		return w
	}
	return notWindow{agg}
}

type notWindow struct{ messages.Aggregate }

func (n notWindow) err() error {
	return &messages.ArgError{Reason: fmt.Sprintf("%T is not a WindowAggregate (no Inverse and Value): register it with CreateAggregate", n.Aggregate)}
}

func (n notWindow) Inverse([]any) error { return n.err() }

func (n notWindow) Value() (any, error) { return nil, n.err() }

// CreateCollation registers a collating sequence, as Python's create_collation: cmp returns
// <0, 0 or >0 as a sorts before, with, or after b. A panic in cmp is a crash of the connection.
func (c *Conn) CreateCollation(ctx context.Context, name string, cmp func(a, b string) int) error {
	if cmp == nil {
		return &messages.ArgError{Reason: "nil collation"}
	}
	m := &messages.CreateCollation{Ctx: ctx, Name: name, Cmp: cmp}
	return c.ack(ctx, "create collation", m, &m.ReplyTo)
}

func checkFunc(name string, nargs int) error {
	if name == "" || nargs < -1 || nargs > 127 {
		return &messages.ArgError{Reason: fmt.Sprintf("bad function name %q or argument count %d", name, nargs)}
	}
	return nil
}

// createFunction registers a scalar function, replayed after a restart.
func (a *connActor) createFunction(m *messages.CreateFunction) messages.Reply {
	if err := checkFunc(m.Name, m.NArgs); err != nil {
		return &messages.Ack{Err: err}
	}
	if m.Fn == nil {
		return &messages.Ack{Err: &messages.ArgError{Reason: "nil function"}}
	}
	flags := sqlitewasm.FuncFlag(m.Flags)
	return a.apply(fmt.Sprintf("function %s/%d", m.Name, m.NArgs), false, func(db *sqlitewasm.Conn) error {
		return db.CreateFunction(m.Name, m.NArgs, m.Fn, flags)
	})
}

// createAggregate registers an aggregate or window function, replayed after a restart.
func (a *connActor) createAggregate(m *messages.CreateAggregate) messages.Reply {
	if err := checkFunc(m.Name, m.NArgs); err != nil {
		return &messages.Ack{Err: err}
	}
	if m.New == nil {
		return &messages.Ack{Err: &messages.ArgError{Reason: "nil aggregate constructor"}}
	}
	flags := sqlitewasm.FuncFlag(m.Flags)
	return a.apply(fmt.Sprintf("function %s/%d", m.Name, m.NArgs), false, func(db *sqlitewasm.Conn) error {
		if m.Window {
			return db.CreateWindowFunction(m.Name, m.NArgs, func() sqlitewasm.WindowAggregate {
				return windowOf(m.New())
			}, flags)
		}
		return db.CreateAggregate(m.Name, m.NArgs, m.New, flags)
	})
}

// createCollation registers a collation (nil Cmp: removes it), replayed after a restart.
func (a *connActor) createCollation(m *messages.CreateCollation) messages.Reply {
	if m.Name == "" {
		return &messages.Ack{Err: &messages.ArgError{Reason: "empty collation name"}}
	}
	return a.apply("collation "+m.Name, m.Cmp == nil, func(db *sqlitewasm.Conn) error {
		return db.CreateCollation(m.Name, m.Cmp)
	})
}
