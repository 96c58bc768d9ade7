package sqlitewasm_test

import (
	"context"
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
