package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// Conn is the handle of one connection actor: aiosqlite's Connection, the Go way. Every method
// sends a request message to the actor and waits for its typed reply, honouring ctx while it
// waits for a slot (at most MaxPending requests in flight), while the request is queued (it is
// then skipped with no effect) and while it runs (SQLite is interrupted). A done ctx makes the
// call return at once with an error wrapping ctx.Err().
//
// A Conn is safe for concurrent use by many goroutines; their requests are served one at a
// time, in arrival order. When the connection is idle, a call runs its request on the
// caller's own goroutine (which would otherwise only wait), through the actor's mailbox and
// with all its guarantees; otherwise the connection's goroutine serves it. Cancellation
// interrupts SQLite either way; only a user function that blocks without returning can delay
// a cancelled call that is running on its caller's goroutine. Get one from [supervisor.Supervisor.Open]. Actors can message the
// connection directly: see [Conn.PID] and package messages.
type Conn struct {
	sh   *shared
	pid  *actor.PID
	root *actor.RootContext
}

var replyChans = sync.Pool{New: func() any { return make(chan messages.Reply, 1) }}

// Requests the handles' most frequent calls reuse. A request goes back to its pool only when
// its call got a reply without an error: the actor reads a request only until it answers it
// (serve reads nothing of it after Deliver), while a request whose caller gave up may still
// be queued, and one that crashed the actor goes on to its supervisor with the failure.
// Each carries room for a few arguments, which the call copies there: the caller's variadic
// slice then does not escape, and costs no allocation (boxing an argument still may).
var (
	queries = sync.Pool{New: func() any { return new(queryReq) }}
	execs   = sync.Pool{New: func() any { return new(execReq) }}
)

// inlineArgs is how many arguments a pooled request holds without an allocation.
const inlineArgs = 6

type queryReq struct {
	m    messages.Query
	args [inlineArgs]any
}

type execReq struct {
	m    messages.Exec
	args [inlineArgs]any
}

// orBackground returns ctx, or context.Background when it is nil: every call accepts a nil
// ctx, which then cancels nothing.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// call sends req and waits for the reply. replyTo is &req.ReplyTo: every request has the
// field, and call sets it to the channel the reply comes on.
func (c *Conn) call(ctx context.Context, op string, req messages.Request, replyTo *chan<- messages.Reply) (messages.Reply, error) {
	return c.send(ctx, op, req, replyTo, false)
}

// release sends req, a request that releases something the connection holds (a cursor, a
// blob, a transaction, the connection itself), and waits for its reply while ctx allows.
// The release never depends on ctx: the actor runs such a request whatever its ctx, and with
// ctx done (before or while waiting for a slot) it is sent without a reply to wait for. It
// then runs after every request sent before it and before any sent after it, and release
// returns an error wrapping ctx's.
func (c *Conn) release(ctx context.Context, op string, req messages.Request, replyTo *chan<- messages.Reply) error {
	r, err := c.send(ctx, op, req, replyTo, true)
	if err != nil {
		return err
	}
	return failed(op, r.ReplyErr())
}

// forget posts req with no reply to wait for: it takes no slot, and the actor's answer goes
// nowhere.
func (c *Conn) forget(op string, req messages.Request, ctxErr error) error {
	c.sh.mailbox.PostUserMessage(req)
	return fmt.Errorf("%s: sent, not confirmed: %w", op, ctxErr)
}

// send is call, and release when release is set.
func (c *Conn) send(ctx context.Context, op string, req messages.Request, replyTo *chan<- messages.Reply, release bool) (messages.Reply, error) {
	if c == nil {
		return nil, fmt.Errorf("%s: nil Conn: %w", op, messages.ErrClosed)
	}
	ctx = orBackground(ctx)
	sh := c.sh
	if err := sh.closedErr(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		if release {
			return nil, c.forget(op, req, err)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := sh.pending.acquire(ctx, 1, 0, sh.done); err != nil {
		switch {
		case errors.Is(err, messages.ErrClosed): // the connection stopped
			return nil, fmt.Errorf("%s: %w", op, sh.closedErr())
		case release:
			return nil, c.forget(op, req, err)
		}
		return nil, fmt.Errorf("%s: waiting for a slot: %w", op, err)
	}
	if w := sh.largeWeight(req); w > 0 {
		if err := sh.large.acquire(ctx, 0, w, sh.done); err != nil {
			sh.pending.release(1, 0)
			if errors.Is(err, messages.ErrClosed) {
				err = sh.closedErr()
			}
			return nil, fmt.Errorf("%s: waiting for room for its %d bytes: %w", op, w, err)
		}
	}
	ch := replyChans.Get().(chan messages.Reply)
	*replyTo = ch
	// When the connection is idle, the request runs right here, on this goroutine, which
	// would otherwise only park until the reply came: without queueing when nothing else is
	// queued, else through the mailbox itself.
	if r, served := sh.mailbox.serveIdle(req); r != nil {
		replyChans.Put(ch)
		return r, nil
	} else if !served {
		sh.mailbox.postInline(req, func() bool { return len(ch) > 0 })
	} // else it crashed the actor, and its reply is on ch
	// A reply that is in already wins over a ctx that ended meanwhile: the request did run,
	// and its caller must learn its outcome (a committed INSERT is not "cancelled").
	select {
	case r := <-ch:
		replyChans.Put(ch)
		return r, nil
	default:
	}
	select {
	case r := <-ch:
		replyChans.Put(ch)
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", op, ctx.Err())
	case <-sh.done:
		select {
		case r := <-ch:
			return r, nil
		default:
		}
		return nil, fmt.Errorf("%s: %w", op, sh.closedErr())
	}
}

// backlog returns the requests queued on the connection, plus one while it runs one: what a
// request sent now would wait for. It reads the mailbox's own state (which serving a request
// writes anyway) rather than a counter every caller would have to write.
func (c *Conn) backlog() int32 {
	m := c.sh.mailbox
	return m.userN.Load() + m.status.Load()
}

// ack runs a request answered by *messages.Ack.
func (c *Conn) ack(ctx context.Context, op string, req messages.Request, replyTo *chan<- messages.Reply) error {
	r, err := c.call(ctx, op, req, replyTo)
	if err != nil {
		return err
	}
	return failed(op, r.ReplyErr())
}

// failed returns err, the error a call's reply carried, wrapped with the call's operation as
// the errors of its transport (a ctx that ended, a closed connection) are: an error names its
// call whichever way it came ("exec: actorlite: constraint failed: …").
func failed(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Exec runs one statement with args bound to its parameters (aiosqlite's execute for a
// statement that returns no rows) and returns its last insert id and rows affected. Outside
// Begin/Commit it commits by itself. Args follow the value rules of package messages: nil,
// integers, floats, bool, string, []byte, time.Time, json.RawMessage and driver.Valuer.
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (messages.Result, error) {
	q := execs.Get().(*execReq)
	q.m = messages.Exec{Ctx: ctx, SQL: sql, Args: append(q.args[:0], args...)}
	r, err := c.call(ctx, "exec", &q.m, &q.m.ReplyTo)
	if err != nil {
		return messages.Result{}, err
	}
	rep := r.(*messages.ExecReply)
	if rep.Err != nil {
		return rep.Result, failed("exec", rep.Err)
	}
	*q = execReq{}
	execs.Put(q)
	return rep.Result, nil
}

// ExecInsert runs an INSERT and returns the new row's id (aiosqlite's execute_insert).
func (c *Conn) ExecInsert(ctx context.Context, sql string, args ...any) (int64, error) {
	res, err := c.Exec(ctx, sql, args...)
	return res.LastInsertID, err
}

// ExecMany runs sql once per element of args with one prepared statement, in one transaction
// unless one is open (aiosqlite's executemany). On an error nothing of it is kept (when it
// opened the transaction itself) and the error names the failing element.
func (c *Conn) ExecMany(ctx context.Context, sql string, args [][]any) (messages.Result, error) {
	m := &messages.ExecMany{Ctx: ctx, SQL: sql, Args: args}
	r, err := c.call(ctx, "exec many", m, &m.ReplyTo)
	if err != nil {
		return messages.Result{}, err
	}
	rep := r.(*messages.ExecReply)
	return rep.Result, failed("exec many", rep.Err)
}

// ExecScript runs statements separated by semicolons, without arguments (aiosqlite's
// executescript). Unlike Python's, it does not commit an open transaction first.
func (c *Conn) ExecScript(ctx context.Context, script string) error {
	m := &messages.ExecScript{Ctx: ctx, SQL: script}
	r, err := c.call(ctx, "exec script", m, &m.ReplyTo)
	if err != nil {
		return err
	}
	return failed("exec script", r.ReplyErr())
}

// ExecScriptResult runs a script as [Conn.ExecScript] does, and returns the last insert id
// and the rows changed by its last statement: what database/sql's Exec of several statements
// reports.
func (c *Conn) ExecScriptResult(ctx context.Context, script string) (messages.Result, error) {
	m := &messages.ExecScript{Ctx: ctx, SQL: script}
	r, err := c.call(ctx, "exec script", m, &m.ReplyTo)
	if err != nil {
		return messages.Result{}, err
	}
	rep := r.(*messages.ExecReply)
	return rep.Result, failed("exec script", rep.Err)
}

// Query runs a statement that returns rows and returns a cursor on them (aiosqlite's execute
// followed by fetches). The first chunk of rows (64, or [WithFetchSize]) rides on the reply, so
// a small result costs one round trip. Close the cursor, or read it to the end; an open cursor
// holds a read snapshot, which keeps WAL checkpoints from completing.
func (c *Conn) Query(ctx context.Context, sql string, args ...any) (*Cursor, error) {
	return c.query(ctx, &messages.Query{Ctx: ctx, SQL: sql, Args: args})
}

// query sends m and returns the cursor on its reply.
func (c *Conn) query(ctx context.Context, m *messages.Query) (*Cursor, error) {
	r, err := c.call(ctx, "query", m, &m.ReplyTo)
	if err != nil {
		return nil, err
	}
	rows := r.(*messages.Rows)
	if rows.Err != nil {
		return nil, failed("query", rows.Err)
	}
	return newCursor(c, rows), nil
}

// QueryRow runs a query and returns its first row, or an error wrapping [messages.ErrNoRows].
// It costs one round trip: the cursor is never left open.
func (c *Conn) QueryRow(ctx context.Context, sql string, args ...any) (messages.Row, error) {
	return c.queryRowOf(ctx, sql, args, false)
}

// queryRowOf is QueryRow with a pooled request; readOnly is the request's ReadOnly (a pool's
// reader sets it).
func (c *Conn) queryRowOf(ctx context.Context, sql string, args []any, readOnly bool) (messages.Row, error) {
	q := queries.Get().(*queryReq)
	q.m = messages.Query{Ctx: ctx, SQL: sql, Args: append(q.args[:0], args...), OneRow: true, ReadOnly: readOnly}
	row, err := c.queryRow(ctx, &q.m)
	if err == nil || err == messages.ErrNoRows {
		// Answered without an error (queryRow returns ErrNoRows itself, for a reply without one).
		*q = queryReq{}
		queries.Put(q)
	}
	return row, err
}

// queryRow sends m (a OneRow query) and returns the row on its reply.
func (c *Conn) queryRow(ctx context.Context, m *messages.Query) (messages.Row, error) {
	r, err := c.call(ctx, "query row", m, &m.ReplyTo)
	if err != nil {
		return messages.Row{}, err
	}
	rows := r.(*messages.Rows)
	if rows.Err != nil {
		return messages.Row{}, failed("query row", rows.Err)
	}
	return takeOneRow(rows)
}

// QueryAll runs a query and returns all its rows in one round trip (aiosqlite's
// execute_fetchall).
func (c *Conn) QueryAll(ctx context.Context, sql string, args ...any) ([]messages.Row, error) {
	return c.queryAll(ctx, &messages.Query{Ctx: ctx, SQL: sql, Args: args, FetchSize: -1})
}

func (c *Conn) queryAll(ctx context.Context, m *messages.Query) ([]messages.Row, error) {
	r, err := c.call(ctx, "query all", m, &m.ReplyTo)
	if err != nil {
		return nil, err
	}
	rows := r.(*messages.Rows)
	return rows.Rows, failed("query all", rows.Err)
}

// Begin opens a deferred transaction; an error wrapping [messages.ErrInTransaction] if one is
// open. Until Commit or Rollback, Exec does not commit by itself. The transaction belongs to
// the connection, not to the goroutine that began it: requests other goroutines send on the
// same Conn meanwhile run inside it. Give a transaction a connection of its own, or use a
// [Pool], whose Tx keeps other callers' writes out until it ends.
func (c *Conn) Begin(ctx context.Context) error { return c.begin(ctx, messages.Deferred) }

// BeginImmediate opens a transaction that takes the write lock at once.
func (c *Conn) BeginImmediate(ctx context.Context) error { return c.begin(ctx, messages.Immediate) }

// BeginExclusive opens an exclusive transaction.
func (c *Conn) BeginExclusive(ctx context.Context) error { return c.begin(ctx, messages.Exclusive) }

func (c *Conn) begin(ctx context.Context, mode string) error {
	m := &messages.Begin{Ctx: ctx, Mode: mode}
	return c.ack(ctx, "begin", m, &m.ReplyTo)
}

// Commit commits the open transaction (aiosqlite's commit); an error wrapping
// [messages.ErrNoTransaction] if none is open, or [messages.ErrTransactionLost] if a crash lost it.
func (c *Conn) Commit(ctx context.Context) error {
	m := &messages.Commit{Ctx: ctx}
	return c.ack(ctx, "commit", m, &m.ReplyTo)
}

// Rollback rolls back the open transaction (aiosqlite's rollback); an error wrapping
// [messages.ErrNoTransaction] if none is open. After a crash lost a transaction, Rollback
// acknowledges the loss and succeeds. The rollback never depends on ctx: with ctx done
// (`defer c.Rollback(ctx)` after it ended) it is still sent, runs before anything sent after
// it, and Rollback returns an error wrapping ctx's without waiting for it.
func (c *Conn) Rollback(ctx context.Context) error {
	m := &messages.Rollback{Ctx: ctx}
	return c.release(ctx, "rollback", m, &m.ReplyTo)
}

// InTransaction reports whether a transaction is open (aiosqlite's in_transaction).
func (c *Conn) InTransaction(ctx context.Context) (bool, error) {
	m := &messages.TxStatus{Ctx: ctx}
	r, err := c.call(ctx, "in transaction", m, &m.ReplyTo)
	if err != nil {
		return false, err
	}
	rep := r.(*messages.TxStatusReply)
	return rep.InTransaction, failed("in transaction", rep.Err)
}

// TotalChanges returns the rows changed since the connection opened (Python's total_changes;
// a restart after a crash starts it again from zero).
func (c *Conn) TotalChanges(ctx context.Context) (int64, error) {
	m := &messages.TotalChanges{Ctx: ctx}
	r, err := c.call(ctx, "total changes", m, &m.ReplyTo)
	if err != nil {
		return 0, err
	}
	rep := r.(*messages.ExecReply)
	return rep.Result.RowsAffected, failed("total changes", rep.Err)
}

// Close closes the connection: requests sent before it are served first, open cursors are
// closed, an open transaction is rolled back, and the actor stops. Later calls return an error
// wrapping [messages.ErrClosed]. Close is idempotent: closing a closed Conn returns nil. The
// close never depends on ctx: with ctx done it is still sent and happens, and Close returns
// an error wrapping ctx's without waiting for it ([Conn.Done] tells when it has).
func (c *Conn) Close(ctx context.Context) error {
	if c == nil {
		return nil
	}
	if c.sh.closing.Load() {
		err := c.waitStopped(ctx)
		if err == nil {
			c.sh.bury() // a crash stopped it: its PID answered for it until now
		}
		return err
	}
	m := &messages.Close{Ctx: ctx}
	c.sh.closeSent.Store(true)
	err := c.release(ctx, "close", m, &m.ReplyTo)
	if errors.Is(err, messages.ErrClosed) {
		err = nil
	}
	if werr := c.waitStopped(ctx); werr != nil {
		if err != nil && ctx.Err() != nil {
			return err // already says the ctx ended
		}
		return errors.Join(err, werr)
	}
	return err
}

func (c *Conn) waitStopped(ctx context.Context) error {
	ctx = orBackground(ctx)
	select {
	case <-c.sh.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close: %w", ctx.Err())
	}
}

// PID returns the connection actor's PID, for actors that message it directly with the
// requests of package messages (see [Ask]). Keep the Conn (and Close it when done) for as long
// as actors use its PID: a Conn that is garbage collected closes its connection. A connection
// that actors open by message (supervisor.OpenConn) has no Conn, and lives until a Close
// message.
func (c *Conn) PID() *actor.PID { return c.pid }

// DSN returns the DSN the connection was opened with.
func (c *Conn) DSN() string { return c.sh.dsn }

// Done returns a channel closed when the connection actor has stopped.
func (c *Conn) Done() <-chan struct{} { return c.sh.done }
