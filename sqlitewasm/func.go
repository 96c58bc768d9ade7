package sqlitewasm

import (
	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// FuncFlag qualifies a user function. https://sqlite.org/c3ref/c_deterministic.html
type FuncFlag uint32

// Function flags.
const (
	// Deterministic: the same arguments always give the same result, so SQLite may factor
	// calls out and the function is allowed in index expressions and generated columns.
	Deterministic = FuncFlag(sqlite3.DETERMINISTIC)
	// DirectOnly: the function may be called only from top-level SQL, never from triggers,
	// views, CHECK constraints, generated columns or index expressions.
	DirectOnly = FuncFlag(sqlite3.DIRECTONLY)
	// Innocuous: the function has no side effects and may be used in the schema even with
	// trusted_schema off (go-sqlite3's default).
	Innocuous = FuncFlag(sqlite3.INNOCUOUS)
)

// CreateFunction registers a scalar SQL function (nargs -1: any count). Without
// [Deterministic] in flags SQLite calls it for every row, as Python's default
// deterministic=False. A panic in fn propagates to the caller of the statement that called
// it; nil fn removes the function.
func (c *Conn) CreateFunction(name string, nargs int, fn func(args []any) (any, error), flags ...FuncFlag) error {
	if fn == nil {
		return wrapErr(c.db.CreateFunction(name, nargs, 0, nil), "")
	}
	err := c.db.CreateFunction(name, nargs, sqlite3.FunctionFlag(orFlags(flags)), func(ctx sqlite3.Context, arg ...sqlite3.Value) {
		if c.quiet > 0 {
			defer c.recoverQuiet("function "+name, &ctx)
		}
		res, err := fn(argValues(arg))
		if err == nil {
			err = setResult(ctx, res)
		}
		if err != nil {
			ctx.ResultError(err)
		}
	})
	return wrapErr(err, "")
}

func orFlags(flags []FuncFlag) FuncFlag {
	var f FuncFlag
	for _, x := range flags {
		f |= x
	}
	return f
}

func argValues(arg []sqlite3.Value) []any {
	args := make([]any, len(arg))
	for i, v := range arg {
		args[i] = valueOf(v)
	}
	return args
}

// Aggregate is a user aggregate function (see [messages.Aggregate]).
type Aggregate = messages.Aggregate

// WindowAggregate is an aggregate that can also be a window function (see
// [messages.WindowAggregate]).
type WindowAggregate = messages.WindowAggregate

// aggregateFunc adapts an Aggregate to go-sqlite3.
type aggregateFunc struct {
	c      *Conn
	agg    Aggregate
	window bool // registered as a window function: Value gives each result
	err    error
}

func (a *aggregateFunc) Step(ctx sqlite3.Context, arg ...sqlite3.Value) {
	if a.c.quiet > 0 {
		defer a.c.recoverQuiet("aggregate", &ctx)
	}
	if a.err == nil {
		a.err = a.agg.Step(argValues(arg))
	}
}

// Inverse is only a windowFunc's: go-sqlite3 tells a plain aggregate used over a sliding
// frame by its lack of Inverse, and fails that statement ("may not be used as a window function").
func (a *windowFunc) Inverse(ctx sqlite3.Context, arg ...sqlite3.Value) {
	if a.c.quiet > 0 {
		defer a.c.recoverQuiet("aggregate", &ctx)
	}
	if a.err == nil {
		a.err = a.agg.(WindowAggregate).Inverse(argValues(arg))
	}
}

func (a *aggregateFunc) Value(ctx sqlite3.Context) {
	if a.c.quiet > 0 {
		defer a.c.recoverQuiet("aggregate", &ctx)
	}
	if a.err != nil {
		ctx.ResultError(a.err)
		return
	}
	var res any
	var err error
	if w, ok := a.agg.(WindowAggregate); ok && a.window {
		res, err = w.Value()
	} else {
		res, err = a.agg.Final()
	}
	if err == nil {
		err = setResult(ctx, res)
	}
	if err != nil {
		ctx.ResultError(err)
	}
}

// CreateAggregate registers an aggregate SQL function; newAgg makes the state of one group.
// A panic in it propagates as in [Conn.CreateFunction].
func (c *Conn) CreateAggregate(name string, nargs int, newAgg func() Aggregate, flags ...FuncFlag) error {
	if newAgg == nil {
		return wrapErr(c.db.CreateWindowFunction(name, nargs, 0, nil), "")
	}
	return wrapErr(c.db.CreateWindowFunction(name, nargs, sqlite3.FunctionFlag(orFlags(flags)), func() sqlite3.AggregateFunction {
		return &aggregateFunc{agg: newAgg(), c: c}
	}), "")
}

// CreateWindowFunction registers an aggregate that can also be used as a window function.
func (c *Conn) CreateWindowFunction(name string, nargs int, newAgg func() WindowAggregate, flags ...FuncFlag) error {
	if newAgg == nil {
		return wrapErr(c.db.CreateWindowFunction(name, nargs, 0, nil), "")
	}
	return wrapErr(c.db.CreateWindowFunction(name, nargs, sqlite3.FunctionFlag(orFlags(flags)), func() sqlite3.AggregateFunction {
		return &windowFunc{aggregateFunc{agg: newAgg(), window: true, c: c}}
	}), "")
}

type windowFunc struct{ aggregateFunc }

var (
	_ sqlite3.AggregateFunction = (*aggregateFunc)(nil)
	_ sqlite3.WindowFunction    = (*windowFunc)(nil)
)

// CreateCollation registers a collating sequence; cmp returns <0, 0 or >0 as a sorts before,
// with, or after b. nil removes it.
func (c *Conn) CreateCollation(name string, cmp func(a, b string) int) error {
	if cmp == nil {
		return wrapErr(c.db.CreateCollation(name, nil), "")
	}
	return wrapErr(c.db.CreateCollation(name, func(a, b []byte) (r int) {
		if c.quiet > 0 {
			defer c.recoverQuiet("collation "+name, nil)
		}
		return cmp(string(a), string(b))
	}), "")
}
