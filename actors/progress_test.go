package actors_test

import (
	"errors"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// Only SQLite's progress callbacks count, not go-sqlite3's check before each prepare and step:
// a handler that always aborts lets a short statement through and stops a long one.
func TestProgressHandlerCountsOnlyInstructions(t *testing.T) {
	c := newConn(t)
	ctx := t.Context()
	calls := 0
	if err := c.SetProgressHandler(ctx, 1, func() bool { calls++; return true }); err != nil {
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
