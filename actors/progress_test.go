package actors_test

import (
	"errors"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// With steps at go-sqlite3's granularity (1,000 instructions), only SQLite's progress
// callbacks count, not go-sqlite3's check before each prepare and step: a handler that always
// aborts lets a short statement through and stops a long one.
func TestProgressHandlerCountsOnlyInstructions(t *testing.T) {
	c := newConn(t)
	ctx := t.Context()
	calls := 0
	if err := c.SetProgressHandler(ctx, 1000, func() bool { calls++; return true }); err != nil {
		t.Fatal(err)
	}
	if row, err := c.QueryRow(ctx, "SELECT 1"); err != nil || row.Index(0) != int64(1) || calls != 0 {
		t.Fatalf("SELECT 1 with an aborting handler: %v %v, %d calls", row, err, calls)
	}
	_, err := c.QueryRow(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000) SELECT count(*) FROM c")
	if !errors.Is(err, messages.ErrInterrupted) || calls != 1 {
		t.Fatalf("long query with an aborting handler: %v, %d calls", err, calls)
	}
}

// aiosqlite's test_set_progress_handler (after CPython's test_sqlite3): with steps 1, SQLite
// calls the handler within any statement, so one that aborts fails even a CREATE TABLE, which
// then creates nothing; one that does not abort lets every statement run, and is called.
func TestProgressHandlerAbortsAnyStatement(t *testing.T) {
	c := newConn(t)
	ctx := t.Context()
	calls := 0
	if err := c.SetProgressHandler(ctx, 1, func() bool { calls++; return true }); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, "CREATE TABLE progress (i INTEGER PRIMARY KEY, k INTEGER)")
	if !errors.Is(err, messages.ErrInterrupted) || calls < 1 {
		t.Fatalf("CREATE TABLE with an aborting handler: %v, %d calls; want ErrInterrupted", err, calls)
	}
	calls = 0
	if err := c.SetProgressHandler(ctx, 1, func() bool { calls++; return false }); err != nil {
		t.Fatal(err)
	}
	row, err := c.QueryRow(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'progress'")
	if err != nil || row.Index(0) != int64(0) {
		t.Fatalf("the aborted CREATE TABLE left %v tables (%v)", row.Index(0), err)
	}
	if calls < 1 {
		t.Fatalf("a handler that lets statements run was called %d times by a query", calls)
	}
	calls = 0
	exec(t, c, "CREATE TABLE progress (i INTEGER PRIMARY KEY, k INTEGER)")
	if calls < 1 {
		t.Fatalf("a handler that lets statements run was called %d times by CREATE TABLE", calls)
	}
	exec(t, c, "INSERT INTO progress (k) VALUES (?), (?)", 1, 2)
	if row, err := c.QueryRow(ctx, "SELECT sum(k) FROM progress"); err != nil || row.Index(0) != int64(3) {
		t.Fatalf("sum(k) = %v, %v; want 3", row.Index(0), err)
	}
	// nil removes it: an aborting handler set before no longer runs.
	if err := c.SetProgressHandler(ctx, 1, func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := c.SetProgressHandler(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "DROP TABLE progress")
}
