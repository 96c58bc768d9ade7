package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

func TestStopServesQueuedRequestsAndClosesEverything(t *testing.T) {
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, s)
	cur, err := c.Query(ctx, "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
	if err != nil {
		t.Fatal(err)
	}
	// Requests sent before Stop are served, not dropped.
	replies := make([]chan messages.Reply, 50)
	for i := range replies {
		replies[i] = make(chan messages.Reply, 1)
		s.System().Root.Send(c.PID(), &messages.Exec{SQL: "INSERT INTO t (v) VALUES (?)", Args: []any{i}, ReplyTo: replies[i]})
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i, ch := range replies {
		if err := (<-ch).ReplyErr(); err != nil {
			t.Fatalf("request %d sent before Stop: %v", i, err)
		}
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := c.Exec(ctx, "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("call after Stop: %v", err)
	}
	if _, err := cur.FetchOne(ctx); !errors.Is(err, messages.ErrCursorClosed) {
		t.Fatalf("cursor after Stop: %v", err)
	}
	if _, err := s.Open(ctx, filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("Open after Stop: %v", err)
	}
	if st := s.Stats(); st.OpenConns != 0 {
		t.Fatalf("stats after Stop: %+v", st)
	}
}

func TestStopWithBusyConnectionsAndWaitingCallers(t *testing.T) {
	s, err := supervisor.Start(context.Background(), supervisor.Config{MaxPending: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, s)
	started := startedFunc(t, c)
	ctx := deadline(t)
	busy := make(chan error, 1)
	go func() {
		_, err := c.QueryRow(ctx, longQuery)
		busy <- err
	}()
	<-started
	// Callers waiting for the only slot.
	waiting := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1)")
			waiting <- err
		}()
	}
	// Stop cannot wait for the long query: with a short ctx it interrupts it and still closes.
	sctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Stop(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a done ctx: %v, want its ctx error", err)
	}
	if err := <-busy; err == nil {
		t.Fatal("the long query finished")
	}
	wg.Wait()
	close(waiting)
	for err := range waiting {
		if !errors.Is(err, messages.ErrClosed) {
			t.Fatalf("waiting caller: %v, want ErrClosed", err)
		}
	}
	if err := s.Stop(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Stop returns the first one's result: %v", err)
	}
}

func TestStopConcurrentWithOpen(t *testing.T) {
	s, err := supervisor.Start(context.Background(), supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := deadline(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.Open(ctx, filepath.Join(dir, "c.db"))
			if err != nil {
				if !errors.Is(err, messages.ErrClosed) {
					t.Errorf("open %d: %v", i, err)
				}
				return
			}
			if _, err := c.Exec(ctx, "SELECT 1"); err != nil && !errors.Is(err, messages.ErrClosed) {
				t.Errorf("exec %d: %v", i, err)
			}
		}()
	}
	var stops sync.WaitGroup
	for range 2 {
		stops.Add(1)
		go func() {
			defer stops.Done()
			if err := s.Stop(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	stops.Wait()
	wg.Wait()
	if st := s.Stats(); st.OpenConns != 0 {
		t.Fatalf("%d connections left open", st.OpenConns)
	}
}

func TestStopLeavesCallersSystemRunning(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	s, err := supervisor.Start(context.Background(), supervisor.Config{System: sys})
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, s)
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sys.IsStopped() {
		t.Fatal("Stop shut down the caller's actor system")
	}
	if _, err := c.Exec(context.Background(), "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
		t.Fatal(err)
	}
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(string); ok {
			ctx.Respond("pong")
		}
	}))
	res, err := sys.Root.RequestFuture(pid, "ping", 5*time.Second).Result()
	if err != nil || res != "pong" {
		t.Fatalf("the caller's system no longer works: %v %v", res, err)
	}
	sys.Root.Stop(pid)
}

// TestCloseAndStopBeforeFirstRequest checks connections that never served a request (the
// actor adopts the database Open opened when its first message comes): Close of one, and Stop
// with others, close their databases and leave nothing running.
func TestCloseAndStopBeforeFirstRequest(t *testing.T) {
	s, err := supervisor.Start(context.Background(), supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := deadline(t)
	var conns []*actors.Conn
	for i := range 3 {
		c, err := s.Open(ctx, filepath.Join(dir, fmt.Sprintf("idle%d.db", i)))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if err := conns[0].Close(ctx); err != nil {
		t.Fatalf("Close before any request: %v", err)
	}
	select {
	case <-conns[0].Done():
	case <-ctx.Done():
		t.Fatal("the closed connection's actor did not stop")
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if _, err := c.Exec(ctx, "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
			t.Errorf("conn %d after Stop: %v, want ErrClosed", i, err)
		}
	}
}
