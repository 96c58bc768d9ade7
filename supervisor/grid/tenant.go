package grid

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/messages/wire"
)

// noDeadlineWait is how long a call whose ctx has no deadline waits for its reply.
const noDeadlineWait = time.Minute

// Tenant is the handle of one tenant's database, wherever its owner is. Every call is one
// request to the tenant's activation (its virtual actor) on its owner, which runs them one
// at a time, in arrival order. A Tenant is safe for concurrent use; it holds no resources.
type Tenant struct {
	m    *Member
	name string
}

// Statement is one statement of a Batch.
type Statement struct {
	SQL  string
	Args []any
}

type idemKey struct{}

// WithIdempotencyKey returns a ctx whose writes (Exec, ExecMany, ExecScript, Batch,
// InsertEvents) run at most once per tenant: the tenant records key, with the first call's
// result, in the same transaction as the write, and answers a later call with the same key
// with that result, running nothing. Retry a write that timed out with the same key. Keys are
// kept 24 hours; a key is up to 256 bytes. Reads ignore it. A keyed write runs inside the
// tenant's transaction, so its SQL cannot hold BEGIN or COMMIT of its own: such a statement
// fails with an error wrapping messages.ErrBadArgument, and so does a keyed script that
// ended the transaction (its statements before that are kept, its key is not recorded).
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idemKey{}, key)
}

// Name returns the tenant's name.
func (t *Tenant) Name() string { return t.name }

// Exec runs one statement, as actors.Conn.Exec does, on the tenant's database.
func (t *Tenant) Exec(ctx context.Context, sql string, args ...any) (messages.Result, error) {
	wargs, err := wire.EncodeArgs(args)
	if err != nil {
		return messages.Result{}, fmt.Errorf("exec: %w", err)
	}
	rep, err := t.call(ctx, "exec", &wire.Request{Op: &wire.Request_Exec{Exec: &wire.Statement{Sql: []byte(sql), Args: wargs}}})
	return firstResult(rep), err
}

// ExecMany runs one statement once per argument row, in one transaction.
func (t *Tenant) ExecMany(ctx context.Context, sql string, args [][]any) (messages.Result, error) {
	rows := make([]*wire.ArgRow, len(args))
	for i, a := range args {
		v, err := wire.EncodeArgs(a)
		if err != nil {
			return messages.Result{}, fmt.Errorf("exec many: row %d: %w", i, err)
		}
		rows[i] = &wire.ArgRow{Values: v}
	}
	rep, err := t.call(ctx, "exec many", &wire.Request{Op: &wire.Request_ExecMany{ExecMany: &wire.ExecMany{Sql: []byte(sql), Rows: rows}}})
	return firstResult(rep), err
}

// ExecScript runs a script of statements, as actors.Conn.ExecScript does.
func (t *Tenant) ExecScript(ctx context.Context, script string) error {
	_, err := t.call(ctx, "exec script", &wire.Request{Op: &wire.Request_ExecScript{ExecScript: []byte(script)}})
	return err
}

// Batch runs stmts in one transaction (BEGIN IMMEDIATE … COMMIT) and returns one Result per
// statement. If one fails, nothing of the batch is kept, and the error names its index.
// Batch is the only transaction over the wire: a statement that would end or open it
// (BEGIN, COMMIT, END, ROLLBACK; SAVEPOINT, RELEASE and ROLLBACK TO nest, and are allowed)
// fails with an error wrapping messages.ErrBadArgument.
func (t *Tenant) Batch(ctx context.Context, stmts ...Statement) ([]messages.Result, error) {
	b := &wire.Batch{Statements: make([]*wire.Statement, len(stmts))}
	for i, s := range stmts {
		args, err := wire.EncodeArgs(s.Args)
		if err != nil {
			return nil, fmt.Errorf("batch: statement %d: %w", i, err)
		}
		b.Statements[i] = &wire.Statement{Sql: []byte(s.SQL), Args: args}
	}
	rep, err := t.call(ctx, "batch", &wire.Request{Op: &wire.Request_Batch{Batch: b}})
	if err != nil {
		return nil, err
	}
	out := make([]messages.Result, len(rep.GetResults()))
	for i, r := range rep.GetResults() {
		out[i] = messages.Result{LastInsertID: r.GetLastInsertId(), RowsAffected: r.GetRowsAffected()}
	}
	return out, nil
}

// QueryRow returns the first row of a query, or an error wrapping messages.ErrNoRows.
func (t *Tenant) QueryRow(ctx context.Context, sql string, args ...any) (messages.Row, error) {
	cur, err := t.query(ctx, "query row", sql, args, true)
	if err != nil {
		return messages.Row{}, err
	}
	if len(cur.buf) == 0 {
		return messages.Row{}, fmt.Errorf("query row: %w", messages.ErrNoRows)
	}
	return cur.buf[0], nil
}

// QueryAll returns every row of a query. The rows arrive in replies of about ReplyBytes each,
// so a result of any size arrives whole (memory: the whole result, on the caller's side).
func (t *Tenant) QueryAll(ctx context.Context, sql string, args ...any) ([]messages.Row, error) {
	cur, err := t.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	var all []messages.Row
	for row, err := range cur.All(ctx) {
		if err != nil {
			return nil, err
		}
		all = append(all, row)
	}
	return all, nil
}

// Query runs a query and returns a cursor over its rows; its first rows arrive with the
// reply. A statement that returns no columns (an INSERT, say) runs to its end; its cursor
// has no columns and no rows, and Result says what it changed. The cursor lives on the tenant's owner, holding a read snapshot, until it is
// exhausted or closed (or evicted: see the package doc): close it.
func (t *Tenant) Query(ctx context.Context, sql string, args ...any) (*Cursor, error) {
	return t.query(ctx, "query", sql, args, false)
}

func (t *Tenant) query(ctx context.Context, op, sql string, args []any, one bool) (*Cursor, error) {
	wargs, err := wire.EncodeArgs(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	q := &wire.Query{Statement: &wire.Statement{Sql: []byte(sql), Args: wargs}, OneRow: one}
	rep, err := t.call(ctx, op, &wire.Request{Op: &wire.Request_Query{Query: q}})
	if err != nil {
		return nil, err
	}
	cur := &Cursor{t: t, id: rep.GetCursor(), cols: wire.DecodeColumns(rep.GetColumns()), done: rep.GetDone(), res: firstResult(rep)}
	if cur.buf, err = wire.DecodeRows(cur.cols, rep.GetRows()); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return cur, nil
}

// InsertEvents stores events in the tenant's own "events" table (the schema of DESIGN §4,
// created on first use) and returns once they are committed. Events sent to a tenant by
// concurrent calls are committed in groups; a call with an idempotency key is committed
// alone, with its key. A bad event (empty UserID or Name, invalid JSON Properties) rejects the
// whole call with an error wrapping messages.ErrBadEvent, naming its index; nothing is stored.
func (t *Tenant) InsertEvents(ctx context.Context, events ...messages.Event) error {
	evs := make([]*wire.Event, len(events))
	for i, ev := range events {
		if err := ev.Validate(); err != nil {
			return fmt.Errorf("insert events: event %d: %w", i, err)
		}
		evs[i] = wire.EncodeEvent(ev)
	}
	_, err := t.call(ctx, "insert events", &wire.Request{Op: &wire.Request_InsertEvents{InsertEvents: &wire.InsertEvents{Events: evs}}})
	return err
}

func firstResult(rep *wire.Reply) messages.Result {
	if r := rep.GetResults(); len(r) > 0 {
		return messages.Result{LastInsertID: r[0].GetLastInsertId(), RowsAffected: r[0].GetRowsAffected()}
	}
	return messages.Result{}
}

func isWrite(req *wire.Request) bool {
	switch req.GetOp().(type) {
	case *wire.Request_Exec, *wire.Request_ExecMany, *wire.Request_ExecScript, *wire.Request_Batch, *wire.Request_InsertEvents:
		return true
	}
	return false
}

// call sends req to the tenant's activation and returns its reply, or an error wrapped with
// op (the reply's error included). It sets the request's deadline from ctx and its
// idempotency key. A request that reached no activation (a dead letter: the activation
// stopped, or its member is gone), or that an activation refused with ErrTenantUnavailable
// while the tenant now resolves elsewhere, is sent again, at most twice: it never ran.
// A request that got no reply in time is not: its error wraps ErrTenantUnavailable.
func (t *Tenant) call(ctx context.Context, op string, req *wire.Request) (*wire.Reply, error) {
	if err := checkName(t.name); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	wait := setDeadline(ctx, req, time.Now())
	if key, _ := ctx.Value(idemKey{}).(string); key != "" && isWrite(req) {
		if len(key) > 256 {
			return nil, fmt.Errorf("%s: idempotency key of %d bytes: %w", op, len(key), messages.ErrBadArgument)
		}
		req.IdempotencyKey = []byte(key)
	}
	if n := proto.Size(req); n > MaxRequestBytes {
		return nil, fmt.Errorf("%s: a request of %d bytes (at most %d cross the wire): %w", op, n, MaxRequestBytes, messages.ErrBadArgument)
	}
	for range 3 {
		pid, err := t.m.resolve(ctx, t.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		f := t.m.sys.Root.RequestFuture(pid, req, wait)
		res, err := t.m.waitFuture(ctx, f)
		switch {
		case errors.Is(err, actor.ErrDeadLetter):
			t.m.forget(t.name, pid)
			continue
		case errors.Is(err, actor.ErrTimeout):
			t.m.forget(t.name, pid)
			return nil, fmt.Errorf("%s: %w: %q: no reply from %s within %v", op, ErrTenantUnavailable, t.name, pid.Address, wait)
		case err != nil:
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		rep, ok := res.(*wire.Reply)
		if !ok {
			return nil, fmt.Errorf("%s: %w: a reply of type %T", op, messages.ErrUnknownRequest, res)
		}
		if err := wire.DecodeError(rep.GetError(), userErrors); err != nil {
			if errors.Is(err, ErrTenantUnavailable) {
				// An activation answers ErrTenantUnavailable before running anything (no
				// file; stopping, as its tenant moves or its member leaves): once the tenant
				// resolves to another activation, the request is safe to send there.
				t.m.forget(t.name, pid)
				if next, rerr := t.m.resolve(ctx, t.name); rerr == nil && !next.Equal(pid) {
					continue
				}
			}
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return rep, nil
	}
	return nil, fmt.Errorf("%s: %w: %q: its activation kept stopping", op, ErrTenantUnavailable, t.name)
}

// setDeadline sets req's deadline, ctx's or, without one, noDeadlineWait from now (a
// statement nobody waits for any more must not hold its tenant: one that never ends would
// hold it for good), and returns how long to wait for its reply.
func setDeadline(ctx context.Context, req *wire.Request, now time.Time) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = now.Add(noDeadlineWait)
	}
	req.Deadline = wire.EncodeTime(dl)
	return dl.Sub(now) + time.Second // the reply of a request ended by its deadline
}

// waitFuture waits for f's result, for ctx to be done or for the member to leave the
// cluster (an error wrapping messages.ErrClosed: whether the request ran is unknown).
// protoactor's Future has no ctx: a goroutine waits for it, and outlives the call by at most
// the future's timeout (or the member's leaving).
func (m *Member) waitFuture(ctx context.Context, f *actor.Future) (any, error) {
	type result struct {
		v   any
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f.Result()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-m.gone:
		// Its reply may never come (remote stops): once remote stopped, end the future, so
		// that the goroutine waiting for it ends too, rather than at its timeout.
		go func() {
			<-m.stopped
			m.sys.Root.Send(f.PID(), &actor.DeadLetterResponse{})
		}()
		return nil, fmt.Errorf("grid: %w: the member left the cluster before the reply (whether the request ran is unknown)", messages.ErrClosed)
	}
}

// Cursor is a query's result, read in chunks from the tenant's owner: FetchMany and All.
// Safe for concurrent use. Close it when done with it before its end.
type Cursor struct {
	t    *Tenant
	cols []messages.Column
	res  messages.Result

	mu     sync.Mutex
	id     uint64
	buf    []messages.Row
	done   bool
	closed bool
	err    error
}

// Columns returns the result's columns: names and declared types.
func (c *Cursor) Columns() []messages.Column { return c.cols }

// Result returns what the cursor's statement changed, when it returns no columns (an INSERT,
// an UPDATE, a CREATE run through Query): its RowsAffected and LastInsertID, as Exec would.
// It is the zero Result for a statement that returns columns.
func (c *Cursor) Result() messages.Result { return c.res }

// FetchMany returns up to n rows (fewer when a reply's ReplyBytes are reached), and an empty
// slice at the end of the rows. n must be positive.
func (c *Cursor) FetchMany(ctx context.Context, n int) ([]messages.Row, error) {
	if n <= 0 {
		return nil, fmt.Errorf("fetch many: n = %d: %w", n, messages.ErrBadArgument)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next(ctx, n)
}

func (c *Cursor) next(ctx context.Context, n int) ([]messages.Row, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.closed {
		return nil, fmt.Errorf("fetch: %w", messages.ErrCursorClosed)
	}
	if len(c.buf) == 0 && !c.done {
		rep, err := c.t.call(ctx, "fetch", &wire.Request{Op: &wire.Request_Fetch{Fetch: &wire.Fetch{Cursor: c.id, MaxRows: int32(min(n, 1<<30))}}})
		if err == nil {
			c.buf, err = wire.DecodeRows(c.cols, rep.GetRows())
			c.done = rep.GetDone()
		}
		if err != nil {
			// The rows of that reply may be lost: never go on as if none were missing.
			c.err = err
			return nil, err
		}
	}
	k := min(n, len(c.buf))
	rows := c.buf[:k:k]
	c.buf = c.buf[k:]
	if len(rows) == 0 {
		return []messages.Row{}, nil
	}
	return rows, nil
}

// All returns an iterator over the remaining rows, fetched a reply at a time. It stops at the
// first error (yielded once). Breaking out of the loop closes the cursor.
func (c *Cursor) All(ctx context.Context) iter.Seq2[messages.Row, error] {
	return func(yield func(messages.Row, error) bool) {
		for {
			c.mu.Lock()
			rows, err := c.next(ctx, 1<<30)
			c.mu.Unlock()
			if err != nil {
				yield(messages.Row{}, err)
				return
			}
			if len(rows) == 0 {
				return
			}
			for _, r := range rows {
				if !yield(r, nil) {
					_ = c.Close(ctx)
					return
				}
			}
		}
	}
}

// Close releases the cursor on the tenant's owner. It is idempotent, and nil on a cursor
// read to its end. It does not depend on ctx being alive: a done ctx still sends the close
// (waiting at most 5 s for its answer).
func (c *Cursor) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed, c.buf = true, nil
	open := !c.done && c.id != 0
	c.mu.Unlock()
	if !open {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := c.t.call(cctx, "close cursor", &wire.Request{Op: &wire.Request_CloseCursor{CloseCursor: c.id}})
	return err
}
