package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// start starts a supervisor stopped at the end of the test.
func start(t testing.TB, cfg supervisor.Config) *supervisor.Supervisor {
	t.Helper()
	// The test's temporary directory is removed by a cleanup registered at its first use; use
	// it now, so that its removal runs after Stop has closed every database file in it.
	t.TempDir()
	s, err := supervisor.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

// open opens a file database with a table t(id, v) and a function boom() that panics.
func open(t testing.TB, s *supervisor.Supervisor, opts ...actors.Option) *actors.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := s.Open(ctx, filepath.Join(t.TempDir(), "crash.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ExecScript(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom!") }); err != nil {
		t.Fatal(err)
	}
	return c
}

// deadline is the bound within which a crashed or cancelled caller must return.
func deadline(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func count(t testing.TB, c *actors.Conn) int64 {
	t.Helper()
	row, err := c.QueryRow(deadline(t), "SELECT count(*) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	return row.Index(0).(int64)
}

func TestCrashIsAnsweredAndConnectionRestarts(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, "SELECT boom()")
	if !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("crashed call: %v, want ErrCrashed", err)
	}
	var ce *messages.CrashError
	if !errors.As(err, &ce) || ce.Panic != "boom!" || ce.DSN != c.DSN() {
		t.Fatalf("crash error %#v, want the panic value and DSN", ce)
	}
	if ctx.Err() != nil {
		t.Fatal("the crashed caller was not answered before its deadline")
	}
	if n := count(t, c); n != 2 {
		t.Fatalf("after restart: %d rows, want the 2 committed", n)
	}
	// The function is registered again in the new incarnation.
	if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("second crash: %v", err)
	}
	st := s.Stats()
	if st.Crashes != 2 || st.Restarts != 2 || st.OpenConns != 1 {
		t.Fatalf("stats %+v, want 2 crashes, 2 restarts, 1 open", st)
	}
}

func TestCrashInTransaction(t *testing.T) {
	for _, end := range []string{"rollback", "commit"} {
		t.Run(end, func(t *testing.T) {
			s := start(t, supervisor.Config{})
			// Crash on demand between two statements of a transaction.
			var crashNext sync.Mutex
			armed := false
			c := open(t, s, actors.WithFaultHook(func(req messages.Request) {
				crashNext.Lock()
				defer crashNext.Unlock()
				if e, ok := req.(*messages.Exec); ok && armed && e.SQL == "INSERT INTO t (v) VALUES (2)" {
					armed = false
					panic("injected fault")
				}
			}))
			ctx := deadline(t)
			if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (0)"); err != nil {
				t.Fatal(err)
			}
			if err := c.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			crashNext.Lock()
			armed = true
			crashNext.Unlock()
			if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (2)"); !errors.Is(err, messages.ErrCrashed) {
				t.Fatalf("crash: %v", err)
			}
			// Never autocommit what was meant to be inside the lost transaction.
			if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (3)"); !errors.Is(err, messages.ErrTransactionLost) {
				t.Fatalf("exec after crash: %v, want ErrTransactionLost", err)
			}
			if _, err := c.QueryRow(ctx, "SELECT 1"); !errors.Is(err, messages.ErrTransactionLost) {
				t.Fatalf("query after crash: %v, want ErrTransactionLost", err)
			}
			if _, err := c.InTransaction(ctx); !errors.Is(err, messages.ErrTransactionLost) {
				t.Fatalf("in transaction after crash: %v, want ErrTransactionLost", err)
			}
			switch end {
			case "rollback":
				if err := c.Rollback(ctx); err != nil {
					t.Fatalf("rollback after lost transaction: %v", err)
				}
			case "commit":
				if err := c.Commit(ctx); !errors.Is(err, messages.ErrTransactionLost) {
					t.Fatalf("commit after lost transaction: %v", err)
				}
			}
			if n := count(t, c); n != 1 {
				t.Fatalf("%d rows, want only the one committed before the transaction", n)
			}
			if in, err := c.InTransaction(ctx); err != nil || in {
				t.Fatalf("in transaction: %v %v", in, err)
			}
			if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (4)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// gate registers wait_gate(), which blocks the connection's goroutine until release is
// closed, and reports on entered when it starts.
func gate(t testing.TB, c *actors.Conn) (entered chan struct{}, release chan struct{}) {
	t.Helper()
	entered, release = make(chan struct{}, 16), make(chan struct{})
	err := c.CreateFunction(context.Background(), "wait_gate", 0, func([]any) (any, error) {
		entered <- struct{}{}
		<-release
		return int64(1), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return entered, release
}

func TestCrashWithRequestsQueuedBehindIt(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	if err := c.CreateFunction(ctx, "boom_after_gate", 0, nil); err == nil {
		t.Fatal("nil function accepted")
	}
	entered, release := gate(t, c)
	crashed := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "SELECT wait_gate() + boom()")
		crashed <- err
	}()
	<-entered
	// 100 requests queued behind the crash, sent in order by message.
	const n = 100
	replies := make([]chan messages.Reply, n)
	for i := range replies {
		replies[i] = make(chan messages.Reply, 1)
		s.System().Root.Send(c.PID(), &messages.Exec{SQL: "INSERT INTO t (v) VALUES (?)", Args: []any{i}, ReplyTo: replies[i]})
	}
	close(release)
	if err := <-crashed; !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("crashing call: %v", err)
	}
	for i, ch := range replies {
		select {
		case r := <-ch:
			if err := r.ReplyErr(); err != nil {
				t.Fatalf("queued request %d: %v", i, err)
			}
		case <-ctx.Done():
			t.Fatalf("queued request %d never answered", i)
		}
	}
	cur, err := c.Query(ctx, "SELECT v FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := cur.FetchAll(ctx)
	if err != nil || len(rows) != n {
		t.Fatalf("%d rows, %v; want %d", len(rows), err, n)
	}
	for i, r := range rows {
		if r.Index(0) != int64(i) {
			t.Fatalf("row %d holds %v: queued requests ran out of order or twice", i, r.Index(0))
		}
	}
}

func TestCrashInvalidatesCursors(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s, actors.WithFetchSize(2))
	ctx := deadline(t)
	if _, err := c.ExecMany(ctx, "INSERT INTO t (v) VALUES (?)", [][]any{{1}, {2}, {3}, {4}, {5}, {6}}); err != nil {
		t.Fatal(err)
	}
	cur, err := c.Query(ctx, "SELECT v FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cur.FetchOne(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatal(err)
	}
	// Even the row it had buffered is refused.
	_, err = cur.FetchOne(ctx)
	if !errors.Is(err, messages.ErrCursorClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("fetch after crash: %v, want ErrCursorClosed wrapping ErrCrashed", err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Fatalf("close after crash: %v", err)
	}
	// An actor asking for the old cursor by id gets the same answer.
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.Fetch{Cursor: cur.ID(), N: 1, ReplyTo: reply})
	err = (<-reply).ReplyErr()
	if !errors.Is(err, messages.ErrCursorClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("fetch by id after crash: %v", err)
	}
	// New cursors work.
	cur, err = c.Query(ctx, "SELECT v FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := cur.FetchAll(ctx); err != nil || len(rows) != 6 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
}

func TestRestartBudget(t *testing.T) {
	s := start(t, supervisor.Config{MaxRestarts: 2, RestartWindow: time.Hour})
	c := open(t, s)
	ctx := deadline(t)
	for i := range 3 {
		if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
			t.Fatalf("crash %d: %v", i, err)
		}
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("connection not stopped after its budget")
	}
	for _, call := range []func() error{
		func() error { _, err := c.Exec(ctx, "SELECT 1"); return err },
		func() error { _, err := c.QueryRow(ctx, "SELECT 1"); return err },
		func() error { return c.Begin(ctx) },
	} {
		if err := call(); !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
			t.Fatalf("call on a stopped connection: %v, want ErrClosed and ErrCrashed", err)
		}
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("close of a stopped connection: %v", err)
	}
	if st := s.Stats(); st.Crashes != 3 || st.Restarts != 2 || st.Stopped != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCrashLoopLeavesOtherConnectionsAlone(t *testing.T) {
	crashes := 1000
	if testing.Short() {
		crashes = 100
	}
	s := start(t, supervisor.Config{MaxRestarts: 2 * crashes, RestartWindow: time.Hour})
	// A crash and restart cost about 3 ms on a quiet 2-core machine; -race and a loaded
	// machine multiply that, so this loop gets a bound of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	crasher := open(t, s)
	others := make([]*actors.Conn, 8)
	for i := range others {
		others[i] = open(t, s)
		if _, err := others[i].Exec(ctx, "INSERT INTO t (v) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	errs := make(chan error, len(others))
	served := make([]int, len(others))
	var wg sync.WaitGroup
	for i, c := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				row, err := c.QueryRow(ctx, "SELECT v FROM t")
				if err != nil || row.Index(0) != int64(i) {
					errs <- fmt.Errorf("connection %d: %v %v", i, row, err)
					return
				}
				served[i]++
			}
		}()
	}
	for i := range crashes {
		if _, err := crasher.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
			t.Fatalf("crash %d: %v", i, err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, n := range served {
		if n == 0 {
			t.Errorf("connection %d served nothing during the crash loop", i)
		}
	}
	if _, err := crasher.Exec(ctx, "INSERT INTO t (v) VALUES (1)"); err != nil {
		t.Fatalf("crasher after its loop: %v", err)
	}
	if st := s.Stats(); st.Crashes != int64(crashes) || st.Restarts != int64(crashes) {
		t.Fatalf("stats %+v, want %d crashes and restarts", st, crashes)
	}
}

// logRecords is a slog handler that keeps every record.
type logRecords struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

func TestCrashIsLoggedWithDSNAndStack(t *testing.T) {
	logs := &logRecords{}
	s := start(t, supervisor.Config{Logger: slog.New(logs)})
	c := open(t, s)
	if _, err := c.Exec(deadline(t), "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatal(err)
	}
	// The restart is logged before the restarted connection serves anything.
	if _, err := c.QueryRow(deadline(t), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	// Once: one record, with its DSN, panic, stack and what followed; not also protoactor's
	// "Recovering" (Start gave protoactor the same logger).
	var crashes []map[string]string
	for _, r := range logs.records {
		attrs := map[string]string{"level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		if strings.Contains(r.Message, "crash") || strings.Contains(r.Message, "Recovering") || strings.Contains(r.Message, "restart") {
			attrs["msg"] = r.Message
			crashes = append(crashes, attrs)
		}
	}
	if len(crashes) != 1 {
		t.Fatalf("crash logged %d times, want once: %v", len(crashes), crashes)
	}
	a := crashes[0]
	if a["msg"] != "actorlite: connection crashed" || a["dsn"] != c.DSN() || a["panic"] != "boom!" ||
		!strings.Contains(a["stack"], "panic") || a["level"] != "ERROR" || a["then"] != "restarting" {
		t.Fatalf("crash record %v: want the DSN, the panic, its stack and then=restarting, at ERROR", a)
	}
}
