package supervisor_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// longQuery counts to a billion: minutes of work unless interrupted. started() reports when it runs.
const longQuery = `WITH RECURSIVE c(x) AS (SELECT started() UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)
	SELECT count(*) FROM c`

// startedFunc registers started(), which reports on the returned channel each time it runs.
func startedFunc(t testing.TB, c *actors.Conn) <-chan struct{} {
	t.Helper()
	ch := make(chan struct{}, 16)
	err := c.CreateFunction(context.Background(), "started", 0, func([]any) (any, error) {
		ch <- struct{}{}
		return int64(1), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestCancelRunningQuery(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	started := startedFunc(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.QueryRow(ctx, longQuery)
		done <- err
	}()
	<-started
	cancel()
	cancelled := time.Now()
	var err error
	select {
	case err = <-done:
	case <-time.After(100 * time.Millisecond):
		t.Fatal("the cancelled call did not return within 100 ms of cancel")
	}
	t.Logf("cancel to return: %v", time.Since(cancelled))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled query: %v, want context.Canceled", err)
	}
	// The statement itself was interrupted: the connection answers at once, not after the count.
	next, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if row, err := c.QueryRow(next, "SELECT 42"); err != nil || row.Index(0) != int64(42) {
		t.Fatalf("query after cancel: %v %v", row, err)
	}
}

func TestCancelQueuedInsertHasNoEffect(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	entered, release := gate(t, c)
	ctx := deadline(t)
	blocked := make(chan error, 1)
	go func() {
		_, err := c.QueryRow(ctx, "SELECT wait_gate()")
		blocked <- err
	}()
	<-entered
	// Queued behind the gate, by message, so that it is certainly in the mailbox before cancel.
	qctx, cancel := context.WithCancel(context.Background())
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.Exec{Ctx: qctx, SQL: "INSERT INTO t (v) VALUES (1)", ReplyTo: reply})
	// And through the handle: whether or not it was sent yet, it must not insert.
	hctx, hcancel := context.WithCancel(context.Background())
	handle := make(chan error, 1)
	go func() {
		_, err := c.Exec(hctx, "INSERT INTO t (v) VALUES (2)")
		handle <- err
	}()
	cancel()
	hcancel()
	if err := <-handle; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled handle call: %v", err)
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := (<-reply).ReplyErr(); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued request: %v, want context.Canceled", err)
	}
	if n := count(t, c); n != 0 {
		t.Fatalf("%d rows: a cancelled queued INSERT ran", n)
	}
}

func TestMaxPendingBoundsRequestsInFlight(t *testing.T) {
	s := start(t, supervisor.Config{MaxPending: 2})
	c := open(t, s)
	entered, release := gate(t, c)
	ctx := deadline(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := c.QueryRow(ctx, "SELECT wait_gate()")
		errs <- err
	}()
	<-entered
	// The second slot: a request that stays queued behind the gate.
	second := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1)")
		second <- err
	}()
	// A third caller waits for a slot and honours its ctx while it waits. Whether the second
	// took its slot yet or not, at most two are in flight: retry until one waits.
	for {
		wctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := c.Exec(wctx, "INSERT INTO t (v) VALUES (2)")
		cancel()
		if err == nil {
			t.Fatal("a third request ran while the gate held the connection")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		select {
		case err := <-second:
			t.Fatalf("second request returned while the connection was held: %v", err)
		default:
		}
		if strings.Contains(err.Error(), "waiting for a slot") {
			break
		}
	}
	close(release)
	wg.Wait()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if n := count(t, c); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// TestOpenHonoursCtx checks that Open, which opens the database on the caller's goroutine,
// returns the ctx error (matched with errors.Is, with no connection left behind) when ctx is
// done before it opens, and that a connection opened with a ctx later cancelled is unaffected
// by that. (A ctx that ends during the open interrupts SQLite; the error then wraps both.)
func TestOpenHonoursCtx(t *testing.T) {
	s := start(t, supervisor.Config{})
	path := filepath.Join(t.TempDir(), "open.db")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline", expired, context.DeadlineExceeded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.Open(tt.ctx, path)
			if c != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, %v; want nil, %v", c, err, tt.want)
			}
		})
	}
	if st := s.Stats(); st.OpenConns != 0 {
		t.Fatalf("%d connections open after failed opens", st.OpenConns)
	}
	ctx, cancel3 := context.WithCancel(context.Background())
	c, err := s.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	cancel3()
	if row, err := c.QueryRow(deadline(t), "SELECT 41 + 1"); err != nil || row.Index(0) != int64(42) {
		t.Fatalf("query after the open's ctx ended: %v, %v", row, err)
	}
	if err := c.Close(deadline(t)); err != nil {
		t.Fatal(err)
	}
}
