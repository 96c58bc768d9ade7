package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"sync"

	"github.com/actorlite/actorlite/messages"
)

// Cursor is the handle of a query's result: aiosqlite's Cursor. It buffers the chunk of rows
// that arrived with the query's reply and fetches more, a chunk per message, as they are read.
// It is closed automatically when its rows are exhausted, by Close, by its Conn's Close, and
// when the handle is garbage collected. Once its connection closed or crashed it returns an
// error ([messages.ErrCursorClosed], wrapping the reason) even for rows it had buffered. So
// does a cursor after a fetch failed, or was abandoned by its ctx once sent (its rows may have
// been read and lost): it never goes on as if no row were missing.
//
// Once read past its first chunk, a cursor reads ahead: it keeps two fetches in flight, which
// the connection serves on its own goroutine while the caller works through the rows it has,
// so that a scan runs on two cores. A wait for rows fetched ahead that the caller's ctx ends
// loses nothing (the next call gets them). Rows read ahead come from the statement's one read
// snapshot, as every chunk does; a write on the same connection between two fetches may or
// may not be seen by rows after it, as SQLite leaves it undefined for a table being scanned.
// The cursor's Close, its Conn's Close (and so Supervisor.Stop) and the cleanup of a collected
// cursor stop the fetches ahead: skipped if queued, interrupted if running.
//
// A Cursor is safe for concurrent use; concurrent fetches each get distinct rows.
type Cursor struct {
	conn      *Conn
	id        messages.CursorID
	cols      []messages.Column
	gen       int64
	fetchSize int

	mu      sync.Mutex
	buf     []messages.Row
	done    bool  // the actor has no more rows (its cursor is closed)
	closed  bool  // Close was called
	failed  error // a fetch failed: every later fetch returns this
	cleanup runtime.Cleanup

	// ahead holds the reply channels of the fetches sent ahead (see sendAhead), oldest first;
	// their rows come before any later fetch's. aheadCtx is the ctx of such fetches, made by
	// the first; Close, or the cleanup of a collected cursor, calls *stopAhead, and a Close of
	// the connection ends it too (see aheadContext).
	ahead     []chan messages.Reply
	aheadCtx  context.Context
	stopAhead *context.CancelFunc
}

// cursorRef is what the cleanup of a collected cursor needs: not the cursor itself.
type cursorRef struct {
	sh        *shared
	id        messages.CursorID
	stopAhead *context.CancelFunc // the cursor's, once it fetched ahead
}

func newCursor(c *Conn, rows *messages.Rows) *Cursor {
	cur := &Cursor{
		conn: c, id: rows.Cursor, cols: rows.Columns, gen: c.sh.gen.Load(),
		fetchSize: c.sh.cfg.fetchSize, buf: rows.Rows, done: rows.Done,
	}
	if !rows.Done {
		cur.stopAhead = new(context.CancelFunc)
		cur.cleanup = runtime.AddCleanup(cur, func(r cursorRef) {
			if stop := *r.stopAhead; stop != nil {
				stop()
			}
			// Straight to the mailbox, and only while the connection is open: a stopped
			// actor's PID would make it a dead letter.
			if r.sh.closedErr() == nil {
				r.sh.mailbox.PostUserMessage(&messages.CloseCursor{Cursor: r.id})
			}
		}, cursorRef{sh: c.sh, id: rows.Cursor, stopAhead: cur.stopAhead})
	}
	return cur
}

// Columns returns the result's columns: names and declared types (Python's
// cursor.description). The slice is shared: do not modify it.
func (cur *Cursor) Columns() []messages.Column { return cur.cols }

// ID returns the cursor's id inside its connection actor (0 when the first reply held every row).
func (cur *Cursor) ID() messages.CursorID { return cur.id }

// check returns the error for a cursor that can no longer give rows. Callers hold mu.
func (cur *Cursor) check() error {
	if cur.closed {
		return messages.ErrCursorClosed
	}
	if cur.failed != nil {
		return cur.failed
	}
	if err := cur.conn.sh.gone(cur.gen); err != nil {
		return fmt.Errorf("%w: %w", messages.ErrCursorClosed, err)
	}
	return nil
}

// fill fetches until n rows are buffered (n < 0: all remaining) or the rows are exhausted.
// A fill that had to fetch sends the next fetch ahead (sendAhead) once it has its rows, unless
// n < 0 or the rows are exhausted. Callers hold mu.
func (cur *Cursor) fill(ctx context.Context, n int) error {
	fetched := false
	for !cur.done && (n < 0 || len(cur.buf) < n) {
		if err := ctx.Err(); err != nil { // nothing sent: the cursor stays usable
			return fmt.Errorf("fetch: %w", err)
		}
		var r messages.Reply
		var err error
		if len(cur.ahead) > 0 {
			if r, err = cur.takeAhead(ctx); err != nil {
				return err
			}
		} else {
			want := -1
			if n >= 0 {
				want = max(n-len(cur.buf), cur.fetchSize)
			}
			m := &messages.Fetch{Ctx: ctx, Cursor: cur.id, N: want}
			if r, err = cur.conn.call(ctx, "fetch", m, &m.ReplyTo); err != nil {
				// The fetch may have been served and its rows lost with the reply: going on
				// would silently skip them. Fail every later fetch, and free the statement.
				cur.abandoned(ctx, err)
				return err
			}
		}
		if err := cur.take(r.(*messages.Rows)); err != nil {
			return err
		}
		fetched = true
	}
	if fetched && n >= 0 && !cur.done {
		cur.sendAhead(max(n, cur.fetchSize))
	}
	return nil
}

// take appends a fetch's rows to the buffer, or fails the cursor with the fetch's error.
// Callers hold mu.
func (cur *Cursor) take(rows *messages.Rows) error {
	if rows.Err != nil { // the actor closed its cursor
		cur.fail(fmt.Errorf("%w: an earlier fetch failed: %w", messages.ErrCursorClosed, rows.Err))
		return failed("fetch", rows.Err)
	}
	if len(cur.buf) == 0 {
		cur.buf = rows.Rows // the reply's own slice: no copy of it
	} else {
		cur.buf = append(cur.buf, rows.Rows...)
	}
	if rows.Done {
		cur.markDone()
		cur.dropAhead() // sent before the end was known: they find the cursor closed
	}
	return nil
}

// abandoned fails the cursor after a fetch was sent and its reply not received (err), and
// frees the actor's statement. Callers hold mu.
func (cur *Cursor) abandoned(ctx context.Context, err error) {
	cause := "%w"
	if ctx.Err() != nil { // not the ctx of later calls: do not match context.Canceled
		cause = "%v"
	}
	cur.fail(fmt.Errorf("%w: an earlier fetch was abandoned before its reply ("+cause+"): its rows may be lost", messages.ErrCursorClosed, err))
	if cur.conn.sh.closedErr() == nil {
		cur.conn.sh.mailbox.PostUserMessage(&messages.CloseCursor{Cursor: cur.id})
	}
}

// aheadDepth is how many fetches a cursor keeps ahead: two, so that the connection finds the
// next one queued when it finishes one, and goes on at once rather than wait for the caller to
// take the chunk and ask again (a wake-up of its goroutine per chunk, on the scan's critical
// path).
const aheadDepth = 2

// sendAhead sends fetches of the next n rows each, without waiting for them, until aheadDepth
// are in flight: the connection reads them (on its own goroutine) while the caller works
// through the rows it has. A cursor read past its first chunk thus has at most aheadDepth
// chunks in flight, each at most n rows and about sqlitewasm.ChunkBytes. Each takes one of the
// connection's MaxPending slots, and only from the half nobody uses (tryTakeSpare): no call
// waits, and no actor's request is refused, for a fetch ahead. Their ctx is the
// cursor's own, which Close cancels: not the ctx of the call that sent them, whose end must
// not fail a cursor that call no longer reads. Callers hold mu.
func (cur *Cursor) sendAhead(n int) {
	sh := cur.conn.sh
	for len(cur.ahead) < aheadDepth {
		if cur.stopAhead == nil || sh.closedErr() != nil || !sh.pending.tryTakeSpare(1) {
			return // (a cursor without stopAhead had every row in its first reply)
		}
		if cur.aheadCtx == nil {
			var ctx context.Context
			ctx, *cur.stopAhead = context.WithCancel(context.Background())
			cur.aheadCtx = aheadContext{ctx, sh}
		}
		ch := replyChans.Get().(chan messages.Reply)
		cur.ahead = append(cur.ahead, ch)
		// Not inline: the point is that the connection's goroutine runs it. A closed mailbox
		// answers it with an error and gives the slot back; serve gives it back otherwise.
		sh.mailbox.PostUserMessage(&messages.Fetch{Ctx: cur.aheadCtx, Cursor: cur.id, N: n, ReplyTo: ch})
	}
}

// aheadContext is the ctx of the fetches a cursor sends ahead: cancelled by the cursor's Close
// (or the cleanup of a collected cursor), and ended as well once a Close of the connection was
// sent. That Close closes the cursor, which then fails its fetches: the rows of a fetch ahead
// are wasted, and a slow one (rows that are expensive to step) would keep the connection busy,
// and the Close queued behind it waiting, for as long as it takes, though nobody waits for it
// (a caller's own fetch ends with its caller's ctx). serve skips such a fetch still queued,
// and interrupts one that runs (it asks Err); the cursor then fails with ErrClosed.
type aheadContext struct {
	context.Context
	sh *shared
}

// Err returns the cursor's ctx's error, or [messages.ErrClosed] once a Close of the
// connection was sent.
func (c aheadContext) Err() error {
	if c.sh.closeSent.Load() {
		return messages.ErrClosed
	}
	return c.Context.Err()
}

// takeAhead waits for the reply of the oldest fetch sent ahead. When ctx ends first, the fetch
// stays ahead, for a later call to take: the cursor loses no row. Callers hold mu.
func (cur *Cursor) takeAhead(ctx context.Context) (messages.Reply, error) {
	sh := cur.conn.sh
	ch := cur.ahead[0]
	select {
	case r := <-ch:
		replyChans.Put(ch)
		cur.popAhead()
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("fetch: %w", ctx.Err())
	case <-sh.done:
		select {
		case r := <-ch:
			cur.popAhead()
			return r, nil
		default:
		}
		err := fmt.Errorf("fetch: %w", sh.closedErr())
		cur.fail(fmt.Errorf("%w: %w", messages.ErrCursorClosed, sh.closedErr()))
		return nil, err
	}
}

// popAhead drops the oldest fetch sent ahead, once its reply was taken.
func (cur *Cursor) popAhead() {
	n := copy(cur.ahead, cur.ahead[1:])
	cur.ahead[n] = nil
	cur.ahead = cur.ahead[:n]
}

// dropAhead forgets the fetches still ahead (their replies, if they come, go unread): the cursor
// is done, by its last rows, a failure, or Close. Those the connection answered already go
// back to the pool. Callers hold mu.
func (cur *Cursor) dropAhead() {
	for _, ch := range cur.ahead {
		select {
		case <-ch:
			replyChans.Put(ch)
		default:
		}
	}
	clear(cur.ahead)
	cur.ahead = cur.ahead[:0]
}

// fail makes every later fetch return err (instead of io.EOF or later rows, as if nothing was
// missing). Callers hold mu.
func (cur *Cursor) fail(err error) {
	cur.failed = err
	cur.buf = nil
	cur.markDone()
	cur.dropAhead()
}

func (cur *Cursor) markDone() {
	cur.done = true
	cur.cleanup.Stop()
}

// FetchOne returns the next row (aiosqlite's fetchone), or [io.EOF] when the rows are exhausted.
func (cur *Cursor) FetchOne(ctx context.Context) (messages.Row, error) {
	ctx = orBackground(ctx)
	cur.mu.Lock()
	defer cur.mu.Unlock()
	if err := cur.check(); err != nil {
		return messages.Row{}, err
	}
	if len(cur.buf) == 0 {
		if err := cur.fill(ctx, 1); err != nil {
			return messages.Row{}, err
		}
	}
	if len(cur.buf) == 0 {
		return messages.Row{}, io.EOF
	}
	row := cur.buf[0]
	cur.buf = cur.buf[1:]
	return row, nil
}

// FetchMany returns at most n next rows (aiosqlite's fetchmany; n < 1 means the fetch size),
// fetching as many chunks as it needs. It returns an empty slice when the rows are exhausted.
func (cur *Cursor) FetchMany(ctx context.Context, n int) ([]messages.Row, error) {
	ctx = orBackground(ctx)
	if n < 1 {
		n = cur.fetchSize
	}
	cur.mu.Lock()
	defer cur.mu.Unlock()
	if err := cur.check(); err != nil {
		return nil, err
	}
	if err := cur.fill(ctx, n); err != nil {
		return nil, err
	}
	n = min(n, len(cur.buf))
	rows := cur.buf[:n:n]
	cur.buf = cur.buf[n:]
	return rows, nil
}

// FetchAll returns every remaining row (aiosqlite's fetchall) and closes the cursor. The rows
// still in the actor come in one message.
func (cur *Cursor) FetchAll(ctx context.Context) ([]messages.Row, error) {
	ctx = orBackground(ctx)
	cur.mu.Lock()
	defer cur.mu.Unlock()
	if err := cur.check(); err != nil {
		return nil, err
	}
	if err := cur.fill(ctx, -1); err != nil {
		return nil, err
	}
	rows := cur.buf
	cur.buf = nil
	return rows, nil
}

// All iterates over the remaining rows (aiosqlite's async for). An error is yielded once, as
// the last pair. Breaking out of the loop closes the cursor.
func (cur *Cursor) All(ctx context.Context) iter.Seq2[messages.Row, error] {
	ctx = orBackground(ctx)
	return func(yield func(messages.Row, error) bool) {
		for {
			rows, err := cur.FetchMany(ctx, cur.fetchSize)
			if err != nil {
				yield(messages.Row{}, err)
				return
			}
			if len(rows) == 0 {
				return
			}
			for _, r := range rows {
				if !yield(r, nil) {
					cur.Close(context.WithoutCancel(ctx))
					return
				}
			}
		}
	}
}

// Close closes the cursor and frees its statement in the actor (aiosqlite's close). It is
// idempotent and returns nil on an exhausted cursor without sending anything. The close never
// depends on ctx: with ctx done (`defer cur.Close(ctx)` after it ended) it is still sent, and
// frees the statement and its read snapshot before anything sent after it runs.
func (cur *Cursor) Close(ctx context.Context) error {
	cur.mu.Lock()
	defer cur.mu.Unlock()
	if cur.closed {
		return nil
	}
	cur.closed = true
	cur.buf = nil
	if cur.aheadCtx != nil {
		(*cur.stopAhead)() // a fetch sent ahead stops, if it runs still
	}
	if cur.done && len(cur.ahead) == 0 {
		return nil
	}
	cur.markDone()
	if cur.conn.sh.gone(cur.gen) != nil {
		return nil // its connection closed it, or a crash did
	}
	m := &messages.CloseCursor{Ctx: ctx, Cursor: cur.id}
	err := cur.conn.release(ctx, "close cursor", m, &m.ReplyTo)
	cur.dropAhead() // answered before the close, when the close got its reply
	if errors.Is(err, messages.ErrClosed) || errors.Is(err, messages.ErrCursorClosed) || (err != nil && orBackground(ctx).Err() != nil) {
		return nil // closed already, or sure to be before anything sent after it
	}
	return err
}
