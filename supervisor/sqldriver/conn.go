package sqldriver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

// Conn is one of database/sql's connections: a session on its connector's pool, with the
// transaction it has open, if any. sql.Conn.Raw hands it over (see [Conn.ActorConn]). Like
// every driver connection, database/sql uses it from one goroutine at a time.
type Conn struct {
	ctr   *connector
	pool  *actors.Pool
	tx    *tx
	bad   bool       // a transaction's connection stopped: database/sql must drop this one
	owned *connector // Driver.Open's connector, closed with the Conn
}

var (
	_ driver.Conn               = (*Conn)(nil)
	_ driver.ConnBeginTx        = (*Conn)(nil)
	_ driver.ConnPrepareContext = (*Conn)(nil)
	_ driver.ExecerContext      = (*Conn)(nil)
	_ driver.QueryerContext     = (*Conn)(nil)
	_ driver.NamedValueChecker  = (*Conn)(nil)
	_ driver.Pinger             = (*Conn)(nil)
	_ driver.SessionResetter    = (*Conn)(nil)
	_ driver.Validator          = (*Conn)(nil)
)

// ActorConn returns the connection actor the Conn's statements run on now: inside a
// transaction, the transaction's (the writer, or a ReadOnly transaction's reader); otherwise
// the database's writer. Requests sent to the writer outside a transaction do not wait for
// other callers' transactions: use [Conn.Pool] for writes.
func (c *Conn) ActorConn() *actors.Conn {
	if c.tx != nil {
		return c.tx.ac
	}
	return c.pool.Writer()
}

// Pool returns the pool the Conn's statements are routed through.
func (c *Conn) Pool() *actors.Pool { return c.pool }

// Prepare is PrepareContext without a ctx.
func (c *Conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext returns a statement for query. The actor that runs it prepares it and keeps
// it in its statement cache (by SQL text), so running it again costs no parse; SQL errors
// show when it first runs. Its NumInput is -1: SQLite checks the arguments.
func (c *Conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &stmt{c: c, query: query}, nil
}

// Close ends the session, rolling back a transaction database/sql left open.
func (c *Conn) Close() error {
	var err error
	if c.tx != nil {
		err = c.tx.Rollback()
	}
	if c.owned != nil {
		err = errors.Join(err, c.owned.Close())
		c.owned = nil
	}
	return err
}

// Begin is BeginTx with the default options.
//
// Deprecated: use BeginTx (database/sql does).
func (c *Conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a transaction: on the writer, held until it ends, or for a ReadOnly one on a
// reader of its own (see the package doc for the modes).
func (c *Conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.tx != nil {
		return nil, fmt.Errorf("begin: %w", messages.ErrInTransaction)
	}
	var mode string
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault, sql.LevelSerializable:
		mode = messages.Immediate
	case sql.LevelLinearizable:
		mode = messages.Exclusive
	default:
		return nil, &messages.ArgError{Reason: fmt.Sprintf("unsupported isolation level %v (use the default, serializable or linearizable)", sql.IsolationLevel(opts.Isolation))}
	}
	if opts.ReadOnly && mode == messages.Immediate && len(c.pool.ReaderPIDs()) > 0 {
		return c.beginSnapshot(ctx)
	}
	w, release, err := c.pool.Hold(ctx)
	if err != nil {
		return nil, c.convErr(err)
	}
	if opts.ReadOnly {
		mode = messages.Deferred
		if sql.IsolationLevel(opts.Isolation) == sql.LevelLinearizable {
			mode = messages.Exclusive
		}
	}
	t := &tx{c: c, ac: w, done: release}
	if err := begin(ctx, w, mode); err != nil {
		t.abort()
		return nil, c.convErr(err)
	}
	if opts.ReadOnly {
		if _, err := w.Exec(ctx, "PRAGMA query_only = ON"); err != nil {
			t.abort()
			return nil, c.convErr(err)
		}
		t.queryOnly = true
	}
	c.tx = t
	return t, nil
}

// begin begins a transaction in mode on w.
func begin(ctx context.Context, w *actors.Conn, mode string) error {
	switch mode {
	case messages.Immediate:
		return w.BeginImmediate(ctx)
	case messages.Exclusive:
		return w.BeginExclusive(ctx)
	}
	return w.Begin(ctx)
}

// beginSnapshot begins a ReadOnly transaction on a query-only connection of its own.
func (c *Conn) beginSnapshot(ctx context.Context) (driver.Tx, error) {
	sc, err := c.ctr.snapshot(ctx, c.pool)
	if err != nil {
		return nil, c.convErr(err)
	}
	r := sc.c
	t := &tx{c: c, ac: r, done: func() { c.ctr.putSnapshot(sc) }}
	if err := r.Begin(ctx); err != nil {
		t.abort()
		return nil, c.convErr(err)
	}
	c.tx = t
	return t, nil
}

// tx is a transaction open on ac, which it holds until it ends (done gives it back).
type tx struct {
	c         *Conn
	ac        *actors.Conn
	done      func()
	queryOnly bool // query_only was set on the writer for a ReadOnly transaction
	ended     bool
}

var _ driver.Tx = (*tx)(nil)

// Commit commits; if COMMIT fails, the transaction is rolled back. Either way it ends.
func (t *tx) Commit() error {
	if t.ended {
		return fmt.Errorf("commit: %w", messages.ErrNoTransaction)
	}
	ctx := context.Background()
	err := t.ac.Commit(ctx)
	if err != nil {
		if in, ierr := t.ac.InTransaction(ctx); ierr != nil || in {
			t.ac.Rollback(ctx)
		}
	}
	t.end()
	return t.c.convTxErr(err)
}

// Rollback rolls back. It never depends on a ctx: database/sql calls it when the
// transaction's ctx ends.
func (t *tx) Rollback() error {
	if t.ended {
		return fmt.Errorf("rollback: %w", messages.ErrNoTransaction)
	}
	err := t.ac.Rollback(context.Background())
	t.end()
	return t.c.convTxErr(err)
}

// abort ends a transaction whose BEGIN may or may not have run.
func (t *tx) abort() {
	err := t.ac.Rollback(context.Background())
	_ = err // ErrNoTransaction when BEGIN did not run: nothing to undo
	t.end()
}

// end gives the connection back: every request of the transaction, its ROLLBACK included,
// is queued on it before any of the next holder's.
func (t *tx) end() {
	if t.queryOnly {
		t.ac.Exec(context.Background(), "PRAGMA query_only = OFF")
	}
	if stopped(t.ac) {
		t.c.bad = true
	}
	t.ended = true
	t.c.tx = nil
	t.done()
}

// guard refuses, in a ReadOnly transaction held on the writer with query_only on, a statement
// that names the query_only pragma: SQLite applies a pragma while it prepares it, so PRAGMA
// query_only = OFF would turn the guard off before anything could refuse it, and the
// transaction could then write. (An SQL identifier has no escapes: every way of naming the
// pragma holds its name.)
func (t *tx) guard(query string) error {
	if t.queryOnly && strings.Contains(strings.ToLower(query), "query_only") {
		return fmt.Errorf("read-only transaction: %w: the query_only pragma is the transaction's", messages.ErrNotReadOnly)
	}
	return nil
}

// args turns database/sql's arguments into actorlite's: a named one becomes a sql.NamedArg.
func args(nv []driver.NamedValue) []any {
	if len(nv) == 0 {
		return nil
	}
	out := make([]any, len(nv))
	for i, a := range nv {
		if a.Name != "" {
			out[i] = sql.Named(a.Name, a.Value)
		} else {
			out[i] = a.Value
		}
	}
	return out
}

// ExecContext runs a statement: in the transaction, or on the writer. Without arguments,
// query may hold several statements.
func (c *Conn) ExecContext(ctx context.Context, query string, nv []driver.NamedValue) (driver.Result, error) {
	a := args(nv)
	var res messages.Result
	var err error
	if c.tx != nil {
		if err := c.tx.guard(query); err != nil {
			return nil, err
		}
		res, err = c.tx.ac.Exec(ctx, query, a...)
		if len(a) == 0 && errors.Is(err, messages.ErrMultipleStatements) {
			res, err = c.tx.ac.ExecScriptResult(ctx, query)
		}
		if err != nil {
			return nil, c.convTxErr(err)
		}
		return result{res}, nil
	}
	res, err = c.pool.Exec(ctx, query, a...)
	if len(a) == 0 && errors.Is(err, messages.ErrMultipleStatements) {
		res, err = c.script(ctx, query)
	}
	if err != nil {
		return nil, c.convErr(err)
	}
	return result{res}, nil
}

// script runs a script of several statements on the writer, held meanwhile.
func (c *Conn) script(ctx context.Context, query string) (messages.Result, error) {
	w, release, err := c.pool.Hold(ctx)
	if err != nil {
		return messages.Result{}, err
	}
	defer release()
	return w.ExecScriptResult(ctx, query)
}

// QueryContext runs a query: in the transaction, or on a reader (on the writer if it writes).
func (c *Conn) QueryContext(ctx context.Context, query string, nv []driver.NamedValue) (driver.Rows, error) {
	a := args(nv)
	if c.tx != nil {
		if err := c.tx.guard(query); err != nil {
			return nil, err
		}
		cur, err := c.tx.ac.Query(ctx, query, a...)
		if err != nil {
			return nil, c.convTxErr(err)
		}
		return newRows(ctx, cur), nil
	}
	cur, err := c.pool.Query(ctx, query, a...)
	if err != nil {
		return nil, c.convErr(err)
	}
	return newRows(ctx, cur), nil
}

// Ping checks that the database answers, with a query on a reader (or in the transaction).
func (c *Conn) Ping(ctx context.Context) error {
	rows, err := c.QueryContext(ctx, "SELECT 1", nil)
	if err != nil {
		return err
	}
	return rows.Close()
}

// ResetSession tells database/sql, before it reuses the Conn, whether it still can be.
func (c *Conn) ResetSession(ctx context.Context) error {
	if !c.IsValid() {
		return driver.ErrBadConn
	}
	return nil
}

// IsValid reports whether the Conn can serve: its pool's writer is alive, and no transaction
// of it lost its connection for good.
func (c *Conn) IsValid() bool {
	return !c.bad && c.tx == nil && c.ctr.cur.Load() == c.pool && !stopped(c.pool.Writer())
}

// convErr turns an error of a call outside a transaction into database/sql's: a call that
// nothing ran for because the connection had stopped for good is driver.ErrBadConn, which
// database/sql retries on a new Conn (and the connector opens a new pool); anything that ran
// keeps its error.
func (c *Conn) convErr(err error) error {
	if err == nil {
		return nil
	}
	// The connection that refused it stopped for good: ErrClosed (with ErrCrashed), never
	// answered by a request that ran (the call that crashed it gets the crash error alone).
	if errors.Is(err, messages.ErrClosed) && !c.ctr.isClosed() {
		c.bad = true
		c.ctr.lost(c.pool)
		return fmt.Errorf("%w (%w)", driver.ErrBadConn, err)
	}
	return err
}

// convTxErr marks the Conn bad when its transaction's connection stopped for good; the error
// stays what it is: database/sql does not retry inside a transaction.
func (c *Conn) convTxErr(err error) error {
	if err != nil && errors.Is(err, messages.ErrClosed) {
		c.bad = true
	}
	return err
}

func (ctr *connector) isClosed() bool {
	ctr.mu.Lock()
	defer ctr.mu.Unlock()
	return ctr.closed
}

// result is a statement's driver.Result.
type result struct{ r messages.Result }

func (r result) LastInsertId() (int64, error) { return r.r.LastInsertID, nil }
func (r result) RowsAffected() (int64, error) { return r.r.RowsAffected, nil }

// stmt is a prepared statement: its SQL, run through its Conn (see Conn.PrepareContext).
type stmt struct {
	c     *Conn
	query string
}

var (
	_ driver.Stmt             = (*stmt)(nil)
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return -1 }

// Exec is ExecContext without a ctx.
//
// Deprecated: database/sql calls ExecContext.
func (s *stmt) Exec(vals []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(vals))
}

// Query is QueryContext without a ctx.
//
// Deprecated: database/sql calls QueryContext.
func (s *stmt) Query(vals []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(vals))
}

func (s *stmt) ExecContext(ctx context.Context, nv []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, nv)
}

func (s *stmt) QueryContext(ctx context.Context, nv []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, nv)
}

func named(vals []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(vals))
	for i, v := range vals {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}
