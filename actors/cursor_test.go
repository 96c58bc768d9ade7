package actors_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

func TestCursorFetchOne(t *testing.T) {
	ctx := t.Context()
	var fetches atomic.Int64
	c := newConn(t, actors.WithFetchSize(3), countRequests[*messages.Fetch](&fetches))
	seed(t, c, 10)
	cur, err := c.Query(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	var got []messages.Row
	for {
		row, err := cur.FetchOne(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row)
	}
	if g := ints(t, got); !reflect.DeepEqual(g, seq(1, 10)) {
		t.Errorf("rows = %v", g)
	}
	if _, err := cur.FetchOne(ctx); err != io.EOF {
		t.Errorf("FetchOne after the end: err = %v, want io.EOF", err)
	}
	// 10 rows by 3: 3 ride on the query's reply, the other 7 take at least 3 fetches.
	if n := fetches.Load(); n < 3 {
		t.Errorf("%d fetches, want at least 3 with a fetch size of 3", n)
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("Close on an exhausted cursor: %v", err)
	}
}

func TestCursorFetchMany(t *testing.T) {
	ctx := t.Context()
	var fetches atomic.Int64
	c := newConn(t, actors.WithFetchSize(3), countRequests[*messages.Fetch](&fetches))
	seed(t, c, 10)
	cur, err := c.Query(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID() == 0 {
		t.Fatal("a cursor with rows left has no id")
	}
	rows, err := cur.FetchMany(ctx, 2) // from the first chunk
	if err != nil {
		t.Fatal(err)
	}
	if g := ints(t, rows); !reflect.DeepEqual(g, seq(1, 2)) {
		t.Errorf("FetchMany(2) = %v", g)
	}
	if n := fetches.Load(); n != 0 {
		t.Errorf("%d fetches for rows of the first chunk", n)
	}
	rows, err = cur.FetchMany(ctx, 5) // 1 buffered + more than one chunk's worth
	if err != nil {
		t.Fatal(err)
	}
	if g := ints(t, rows); !reflect.DeepEqual(g, seq(3, 7)) {
		t.Errorf("FetchMany(5) = %v", g)
	}
	rows, err = cur.FetchMany(ctx, 100) // n larger than the fetch size and than what is left
	if err != nil {
		t.Fatal(err)
	}
	if g := ints(t, rows); !reflect.DeepEqual(g, seq(8, 10)) {
		t.Errorf("FetchMany(100) = %v", g)
	}
	if n := fetches.Load(); n < 2 {
		t.Errorf("%d fetches, want at least 2", n)
	}
	for range 2 {
		rows, err = cur.FetchMany(ctx, 3)
		if err != nil || len(rows) != 0 {
			t.Errorf("FetchMany at the end = %v, %v; want no rows and no error", rows, err)
		}
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("Close on an exhausted cursor: %v", err)
	}

	// n < 1 means the fetch size.
	cur, err = c.Query(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	rows, err = cur.FetchMany(ctx, 0)
	if err != nil || len(rows) != 3 {
		t.Errorf("FetchMany(0) = %d rows, %v; want 3 (the fetch size)", len(rows), err)
	}
}

func TestCursorFetchAll(t *testing.T) {
	ctx := t.Context()
	var fetches atomic.Int64
	c := newConn(t, actors.WithFetchSize(3), countRequests[*messages.Fetch](&fetches))
	seed(t, c, 50)
	cur, err := c.Query(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	first, err := cur.FetchOne(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := cur.FetchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := ints(t, append([]messages.Row{first}, rows...)); !reflect.DeepEqual(g, seq(1, 50)) {
		t.Errorf("FetchOne + FetchAll = %v", g)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("FetchAll took %d fetches, want 1 (the rest in one message)", n)
	}
	rows, err = cur.FetchAll(ctx)
	if err != nil || len(rows) != 0 {
		t.Errorf("FetchAll at the end = %v, %v", rows, err)
	}
	// The cursor's statement is released: the table can be dropped.
	exec(t, c, "DROP TABLE t")
	if err := cur.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestCursorAll(t *testing.T) {
	ctx := t.Context()
	c := newConn(t, actors.WithFetchSize(4))
	seed(t, c, 25)

	cur, err := c.Query(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	var got []messages.Row
	for row, err := range cur.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row)
	}
	if g := ints(t, got); !reflect.DeepEqual(g, seq(1, 25)) {
		t.Errorf("All = %v", g)
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("Close after All: %v", err)
	}

	// Breaking out early closes the cursor.
	cur, err = c.Query(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for row, err := range cur.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row)
		if len(got) == 6 {
			break
		}
	}
	if g := ints(t, got); !reflect.DeepEqual(g, seq(1, 6)) {
		t.Errorf("All until break = %v", g)
	}
	if _, err := cur.FetchOne(ctx); !errors.Is(err, messages.ErrCursorClosed) {
		t.Errorf("FetchOne after breaking out of All: err = %v, want ErrCursorClosed", err)
	}
	exec(t, c, "DROP TABLE t") // its statement was released in the actor too

	// An error is yielded once, as the last pair.
	cur, err = c.Query(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var errs int
	for _, err := range cur.All(ctx) {
		if !errors.Is(err, messages.ErrCursorClosed) {
			t.Errorf("All on a closed cursor yielded err = %v", err)
		}
		errs++
	}
	if errs != 1 {
		t.Errorf("All on a closed cursor yielded %d pairs, want 1", errs)
	}
}

func TestCursorClose(t *testing.T) {
	ctx := t.Context()
	c := newConn(t, actors.WithFetchSize(2))
	seed(t, c, 10)

	// Closing an open cursor frees its statement in the actor.
	cur, err := c.Query(ctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "DROP TABLE t"); !errors.Is(err, messages.ErrBusy) {
		t.Fatalf("DROP TABLE under an open cursor: err = %v, want ErrBusy (table locked)", err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, fetch := range map[string]func() error{
		"FetchOne":  func() error { _, err := cur.FetchOne(ctx); return err },
		"FetchMany": func() error { _, err := cur.FetchMany(ctx, 5); return err },
		"FetchAll":  func() error { _, err := cur.FetchAll(ctx); return err },
	} {
		if err := fetch(); !errors.Is(err, messages.ErrCursorClosed) {
			t.Errorf("%s on a closed cursor: err = %v, want ErrCursorClosed", name, err)
		}
	}
	exec(t, c, "DROP TABLE t")

	// A cursor whose rows all came with the reply is exhausted from the start.
	cur, err = c.Query(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID() != 0 {
		t.Errorf("a cursor exhausted on its first reply has id %d", cur.ID())
	}
	if _, err := cur.FetchAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("Close on an exhausted cursor: %v", err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("second Close on an exhausted cursor: %v", err)
	}
}

// openAbandonedCursor opens a cursor with rows left in the actor and drops the handle.
func openAbandonedCursor(t *testing.T, c *actors.Conn) {
	t.Helper()
	cur, err := c.Query(t.Context(), "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID() == 0 {
		t.Fatal("the cursor is exhausted already")
	}
	// The open statement is observable: it keeps the table from being dropped.
	if _, err := c.Exec(t.Context(), "DROP TABLE t"); !errors.Is(err, messages.ErrBusy) {
		t.Fatalf("DROP TABLE under an open cursor: err = %v, want ErrBusy (table locked)", err)
	}
	runtime.KeepAlive(cur)
}

func TestCursorGarbageCollected(t *testing.T) {
	c := newConn(t, actors.WithFetchSize(2))
	seed(t, c, 10)
	openAbandonedCursor(t, c)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dropWhenCollected(ctx, t, c)
}

// dropWhenCollected drops table t on c once an abandoned cursor on it was collected: its
// cleanup sends CloseCursor and the actor frees the statement, so DROP TABLE then succeeds.
// It collects garbage between tries, until ctx ends.
func dropWhenCollected(ctx context.Context, t *testing.T, c *actors.Conn) {
	t.Helper()
	for tries := 1; ; tries++ {
		runtime.GC()
		_, err := c.Exec(ctx, "DROP TABLE t")
		if err == nil {
			t.Logf("the collected cursor was closed after %d collections", tries)
			return
		}
		if !errors.Is(err, messages.ErrBusy) {
			t.Fatalf("DROP TABLE: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatal("a garbage-collected cursor was never closed")
		}
	}
}

func TestUnknownCursorByMessage(t *testing.T) {
	s, c := newConnSup(t)
	seed(t, c, 3)
	root := s.System().Root

	res, err := root.RequestFuture(c.PID(), &messages.Fetch{Cursor: 999, N: 10}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	rows, ok := res.(*messages.Rows)
	if !ok {
		t.Fatalf("reply is %T, want *messages.Rows", res)
	}
	if !errors.Is(rows.Err, messages.ErrUnknownCursor) || !rows.Done || rows.Cursor != 999 || len(rows.Rows) != 0 {
		t.Errorf("reply = %+v, want Err ErrUnknownCursor, Done, Cursor 999, no rows", rows)
	}

	res, err = root.RequestFuture(c.PID(), &messages.CloseCursor{Cursor: 999}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ack, ok := res.(*messages.Ack); !ok || !errors.Is(ack.Err, messages.ErrUnknownCursor) {
		t.Errorf("CloseCursor{999}: reply %#v, want *Ack with ErrUnknownCursor", res)
	}
	if n := count(t, c, "t"); n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
}

// TestCursorFetchCancelledWhileServed cancels a fetch while the actor serves it: the actor
// reads the rows, the caller gets only its ctx error. Going on must not silently skip those
// rows: later fetches fail with ErrCursorClosed, and the statement is freed.
func TestCursorFetchCancelledWhileServed(t *testing.T) {
	c := newConn(t, actors.WithFetchSize(3))
	seed(t, c, 20)
	var cancelAt6 atomic.Pointer[context.CancelFunc]
	err := c.CreateFunction(t.Context(), "f", 1, func(args []any) (any, error) {
		if p := cancelAt6.Load(); p != nil && args[0] == int64(6) {
			(*p)() // while the actor steps the fetch's last row
		}
		return args[0], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := c.Query(t.Context(), "SELECT f(x) FROM t ORDER BY id") // rowid order: f runs as rows are stepped
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(t.Context())
	got, err := cur.FetchMany(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancelAt6.Store(&cancel)
	rows, err := cur.FetchMany(ctx, 3)
	if err == nil {
		got = append(got, rows...) // the reply won the race: no row is lost
	} else if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: err = %v, want context.Canceled", err)
	}
	rest, err := cur.FetchAll(t.Context())
	switch {
	case errors.Is(err, messages.ErrCursorClosed):
	case err != nil:
		t.Fatalf("FetchAll: %v", err)
	default:
		if g := ints(t, append(got, rest...)); !reflect.DeepEqual(g, seq(1, 20)) {
			t.Errorf("rows read around a cancelled fetch = %v, want 1..20 or an error", g)
		}
	}
	exec(t, c, "DROP TABLE t") // the cursor's statement was freed
}

// TestCursorErrorIsSticky checks that a cursor whose fetch failed does not then report a
// normal end (io.EOF, no rows) as if no row were missing.
func TestCursorErrorIsSticky(t *testing.T) {
	ctx := t.Context()
	c := newConn(t, actors.WithFetchSize(3), actors.WithConverter("CHECKED", func(v any) (any, error) {
		if v == int64(5) {
			return nil, errors.New("five is not allowed")
		}
		return v, nil
	}))
	exec(t, c, "CREATE TABLE n (v CHECKED)")
	if _, err := c.ExecMany(ctx, "INSERT INTO n VALUES (?)", [][]any{{1}, {2}, {3}, {4}, {5}, {6}, {7}}); err != nil {
		t.Fatal(err)
	}
	cur, err := c.Query(ctx, "SELECT v FROM n ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	rows, err := cur.FetchAll(ctx)
	if !errors.Is(err, messages.ErrConvert) {
		t.Fatalf("FetchAll = %d rows, %v; want ErrConvert", len(rows), err)
	}
	if _, err := cur.FetchOne(ctx); err == nil || err == io.EOF {
		t.Errorf("FetchOne after a failed fetch: err = %v, want an error, not a normal end", err)
	}
	if rows, err := cur.FetchMany(ctx, 10); err == nil {
		t.Errorf("FetchMany after a failed fetch: %v rows and no error", rows)
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := count(t, c, "n"); n != 7 {
		t.Errorf("count = %d", n)
	}
}

// TestQueryWhoseCtxEndsAsItOpensLeaksNoCursor: a query whose ctx ends while its first chunk is
// read, too late for SQLite to interrupt it, fails with the ctx's error and leaves no cursor
// open. Served on the connection's goroutine (when the call does not run inline), its reply
// would come after its caller returned with the ctx's error, and the cursor nobody would close
// would keep its read snapshot: the connection's next write fails with SQLITE_BUSY_SNAPSHOT
// once another connection wrote (TestStorm's "busy" violations). Here the call runs inline,
// where the old code handed the caller the cursor instead.
func TestQueryWhoseCtxEndsAsItOpensLeaksNoCursor(t *testing.T) {
	s, c := newConnSup(t, actors.WithFetchSize(4))
	seed(t, c, 40)
	var cancel context.CancelFunc
	if err := c.CreateFunction(t.Context(), "cancel_at", 1, func(args []any) (any, error) {
		if args[0].(int64) == 3 {
			cancel()
		}
		return args[0], nil
	}); err != nil {
		t.Fatal(err)
	}
	var ctx context.Context
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	cur, err := c.Query(ctx, "SELECT cancel_at(x) FROM t ORDER BY x")
	if err == nil {
		t.Fatalf("Query returned a cursor (%d) after its ctx ended while it ran", cur.ID())
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Query: %v, want context.Canceled", err)
	}
	other, err := s.Open(t.Context(), c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	exec(t, other, "INSERT INTO t (x) VALUES (0)")
	exec(t, c, "INSERT INTO t (x) VALUES (-1)") // SQLITE_BUSY_SNAPSHOT with the cursor left open
	if v := queryValues(t, other, "PRAGMA wal_checkpoint(TRUNCATE)"); v[0][0] != int64(0) {
		t.Errorf("checkpoint: %v, want it completed (busy 0)", v)
	}
}
