package sqlitewasm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
)

func TestSetInterrupt(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(x)")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	old := c.SetInterrupt(ctx)
	if old == nil || old.Err() != nil {
		t.Fatalf("initial interrupt context = %v", old)
	}
	_, err := c.QueryRow("SELECT 1", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	_, err = c.Exec("INSERT INTO t VALUES (1)", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	_, err = c.Query("SELECT x FROM t", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if got := c.SetInterrupt(old); got != ctx {
		t.Errorf("SetInterrupt returned %v, want the cancelled ctx", got)
	}
	if got := count(t, c, "t"); got != 0 {
		t.Errorf("%d rows inserted while interrupted", got)
	}
	// nil means Background.
	var none context.Context
	c.SetInterrupt(none)
	if got := value(t, c, "SELECT 2"); got != int64(2) {
		t.Errorf("after SetInterrupt(nil): %v", got)
	}
}

func TestInterruptRunningQuery(t *testing.T) {
	c := memConn(t)
	const countTo = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)
		SELECT count(*) FROM c`
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	old := c.SetInterrupt(ctx)
	start := time.Now()
	_, err := c.QueryRow(countTo, nil)
	elapsed := time.Since(start)
	c.SetInterrupt(old)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if elapsed > 10*time.Second {
		t.Errorf("interrupt took %v", elapsed)
	}
	// Also while stepping a result set that was opened before the deadline.
	ctx2, cancel2 := context.WithCancel(t.Context())
	old = c.SetInterrupt(ctx2)
	r, err := c.Query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := messages.NewRowsBuilder(r.Columns(), 10)
	if done, err := r.Next(&b, 10); done || err != nil {
		t.Fatalf("Next = %v, %v", done, err)
	}
	cancel2()
	b = messages.NewRowsBuilder(r.Columns(), 10)
	done, err := r.Next(&b, 10)
	c.SetInterrupt(old)
	if !done || !r.Done() {
		t.Error("an interrupted result set is not closed")
	}
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	// The connection works again once the context is restored.
	if got := value(t, c, "SELECT 3"); got != int64(3) {
		t.Errorf("after the interrupt: %v", got)
	}
}

// TestSetProgressHandler checks the handler's granularity: below 1,000 steps it is called
// before each step of a statement too, so that it can abort any statement (a CREATE TABLE
// with steps 1, as in Python); from 1,000 on, only SQLite's progress (every 1,000
// instructions) calls it.
func TestSetProgressHandler(t *testing.T) {
	c := memConn(t)
	calls, abort := 0, true
	handler := func() bool { calls++; return abort }
	c.SetProgressHandler(1, handler)
	_, err := c.Exec("CREATE TABLE t (i INTEGER PRIMARY KEY, k INTEGER)", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if !strings.Contains(err.Error(), "aborted by the progress handler") || calls != 1 {
		t.Fatalf("CREATE TABLE with an aborting handler: %v, %d calls; want the handler's abort, 1 call", err, calls)
	}
	abort = false
	if got := value(t, c, "SELECT count(*) FROM sqlite_schema"); got != int64(0) {
		t.Fatalf("the aborted CREATE TABLE left %v tables", got)
	}
	calls = 0
	script(t, c, "CREATE TABLE t (i INTEGER PRIMARY KEY, k INTEGER); INSERT INTO t (k) VALUES (1), (2), (3)")
	if calls < 2 {
		t.Fatalf("a script of two statements called the handler %d times, want one call each at least", calls)
	}
	// Below 1,000 steps, once per row read.
	calls = 0
	if rows := queryAll(t, c, "SELECT k FROM t"); len(rows) != 3 || calls < 3 {
		t.Fatalf("reading %d rows called the handler %d times, want once per row at least", len(rows), calls)
	}
	// From 1,000 on, a short statement never calls it, a long one does.
	abort = true
	c.SetProgressHandler(1000, handler)
	calls = 0
	if got := value(t, c, "SELECT sum(k) FROM t"); got != int64(6) || calls != 0 {
		t.Fatalf("short query with an aborting handler every 1,000 steps: %v, %d calls", got, calls)
	}
	const long = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT count(*) FROM c"
	_, err = c.QueryRow(long, nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if calls != 1 {
		t.Fatalf("long query: %d calls, want 1 (the one that aborted)", calls)
	}
	// A panic in it aborts the statement, with the panic in its error.
	c.SetProgressHandler(1, func() bool { panic("progress exploded") })
	_, err = c.Exec("INSERT INTO t (k) VALUES (4)", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if !strings.Contains(err.Error(), "progress exploded") {
		t.Fatalf("panicking handler: %v, want the panic in the error", err)
	}
	// nil removes it.
	c.SetProgressHandler(0, nil)
	if got := value(t, c, long); got != int64(100000) {
		t.Fatalf("after removing the handler: %v", got)
	}
	if got := count(t, c, "t"); got != 3 {
		t.Fatalf("%d rows, want 3: the aborted INSERT added one", got)
	}
}

// TestInterruptWithinAChunk: a ctx that ends while Next reads a chunk of rows stops it within
// a few rows (the ctx is asked before the chunk's first row, every few rows after, and by
// SQLite's progress checks), and one that ended before Next stops it before any row.
func TestInterruptWithinAChunk(t *testing.T) {
	c := memConn(t)
	ctx, cancel := context.WithCancel(t.Context())
	const cancelAt = 20
	if err := c.CreateFunction("cancel_at", 1, func(args []any) (any, error) {
		if args[0].(int64) == cancelAt {
			cancel()
		}
		return args[0], nil
	}); err != nil {
		t.Fatal(err)
	}
	old := c.SetInterrupt(ctx)
	defer c.SetInterrupt(old)
	r, err := c.Query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT cancel_at(x) FROM c", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := messages.NewRowsBuilder(r.Columns(), 1000)
	done, err := r.Next(&b, 1000)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if !done {
		t.Error("an interrupted result set is not done")
	}
	if n := b.Len(); n < cancelAt-1 || n > cancelAt+8 {
		t.Errorf("%d rows read, want the %d before the ctx ended and at most 8 after", n, cancelAt-1)
	}
	r2, err := c.Query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", nil)
	if err == nil {
		b = messages.NewRowsBuilder(r2.Columns(), 1000)
		_, err = r2.Next(&b, 1000)
		if b.Len() != 0 {
			t.Errorf("%d rows read with the ctx already done", b.Len())
		}
	}
	wantSQLiteErr(t, err, messages.ErrInterrupted)
}
