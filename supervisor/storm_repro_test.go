package supervisor_test

// Minimal reproductions of failures TestStorm found, one per invariant it broke. Each states
// what the docs promise and checks it on one connection, without the storm's randomness.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// stormReproConn opens a file database with the storm's schema and maybe_boom.
func stormReproConn(t *testing.T, s *supervisor.Supervisor, dsn string, opts ...actors.Option) *actors.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := s.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := stormRegister(ctx, c.CreateFunction); err != nil {
		t.Fatal(err)
	}
	return c
}

// The storm's "caller-panic" violations: a Cursor's fetches panic with a nil ctx, which every
// call of a Conn accepts (as context.Background).
func TestStormReproCursorNilCtx(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := stormReproConn(t, s, filepath.Join(t.TempDir(), "r.db"), actors.WithFetchSize(1))
	var nilCtx context.Context // what a caller passing no ctx passes
	if err := c.ExecScript(nilCtx, stormSchema+"INSERT INTO t VALUES (1, 1, 1), (2, 2, 1), (3, 3, 1);"); err != nil {
		t.Fatal(err)
	}
	for _, fetch := range []struct {
		name string
		fn   func(*actors.Cursor) error
	}{
		{"FetchOne", func(cur *actors.Cursor) error { _, err := cur.FetchOne(nilCtx); return err }},
		{"FetchMany", func(cur *actors.Cursor) error { _, err := cur.FetchMany(nilCtx, 2); return err }},
		{"FetchAll", func(cur *actors.Cursor) error { _, err := cur.FetchAll(nilCtx); return err }},
		{"All", func(cur *actors.Cursor) error {
			for _, err := range cur.All(nilCtx) {
				if err != nil {
					return err
				}
				break // closes the cursor
			}
			return nil
		}},
	} {
		t.Run(fetch.name, func(t *testing.T) {
			cur, err := c.Query(nilCtx, "SELECT k FROM t ORDER BY k")
			if err != nil {
				t.Fatal(err)
			}
			defer cur.Close(context.Background())
			// Past the first row (which rode on the query's reply), so that the cursor fetches.
			if _, err := cur.FetchOne(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s with a nil ctx panicked: %v", fetch.name, p)
				}
			}()
			if err := fetch.fn(cur); err != nil {
				t.Fatalf("%s with a nil ctx: %v", fetch.name, err)
			}
		})
	}
}

// The storm's "transaction-lost" violations on the pool: when Pool.Tx's own Rollback crashes
// the writer (fn returned an error), the transaction dies with the crashed instance, but the
// pool never acknowledges the loss, so every later write through the pool, by any caller, gets
// ErrTransactionLost, and nothing they can do through the pool clears it.
func TestStormReproPoolTxRollbackCrash(t *testing.T) {
	s := start(t, supervisor.Config{})
	var fired atomic.Bool
	crashFirstRollback := actors.WithFaultHook(func(req messages.Request) {
		if _, ok := req.(*messages.Rollback); ok && fired.CompareAndSwap(false, true) {
			panic("crash in Rollback")
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := s.OpenPool(ctx, filepath.Join(t.TempDir(), "r.db"), 1, crashFirstRollback)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.ExecScript(ctx, stormSchema); err != nil {
		t.Fatal(err)
	}
	errFn := errors.New("fn fails: roll back")
	err = p.Tx(ctx, func(c *actors.Conn) error {
		if _, err := c.Exec(ctx, "INSERT INTO t VALUES (1, 1, 1)"); err != nil {
			return err
		}
		return errFn
	})
	if !errors.Is(err, errFn) {
		t.Fatalf("Tx: %v, want fn's error", err)
	}
	if _, err := p.Exec(ctx, "INSERT INTO t VALUES (2, 2, 2)"); err != nil {
		t.Fatalf("a pool write after Tx rolled back (its Rollback crashed): %v", err)
	}
	if err := p.Tx(ctx, func(c *actors.Conn) error { _, err := c.Exec(ctx, "INSERT INTO t VALUES (3, 3, 3)"); return err }); err != nil {
		t.Fatalf("a later Tx: %v", err)
	}
}

// The storm's "hang" and "close-leak" violations: a crash while the connection serves Close
// (the fault hook panics on *messages.Close, as a panic anywhere in serving it would). The
// supervisor restarts the connection as after any crash, and Close then waits for a stop that
// never comes: with context.Background it never returns, with a deadline it returns only then,
// and the connection stays open (Stats.OpenConns counts it) until Stop.
func TestStormReproCrashInClose(t *testing.T) {
	s := start(t, supervisor.Config{})
	var fired atomic.Bool
	crashFirstClose := actors.WithFaultHook(func(req messages.Request) {
		if _, ok := req.(*messages.Close); ok && fired.CompareAndSwap(false, true) {
			panic("crash in Close")
		}
	})
	c := stormReproConn(t, s, filepath.Join(t.TempDir(), "r.db"), crashFirstClose)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	begin := time.Now()
	err := c.Close(ctx)
	took := time.Since(begin)
	t.Logf("Close: %v after %v", err, took)
	if ctx.Err() != nil {
		t.Errorf("Close waited for its ctx to end (%v): with context.Background it would never return", took)
	}
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Errorf("the connection did not stop after Close returned (Stats %+v)", s.Stats())
	}
}

// The storm's "ledger" violations on shared connections (ACKED writes absent at the end): while
// one caller holds a write blob open on a connection, SQLite defers the commit of every
// autocommit statement run on that connection (an open write statement keeps the implicit
// transaction open). Another caller's Exec returns nil, as committed, but is not: other
// connections do not see it, and when a third caller's ExecMany then fails, its ROLLBACK
// discards it along with the blob's writes.
func TestStormReproWriteBlobDefersOthersCommits(t *testing.T) {
	s := start(t, supervisor.Config{})
	dsn := filepath.Join(t.TempDir(), "r.db")
	c := stormReproConn(t, s, dsn)
	other := stormReproConn(t, s, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ExecScript(ctx, stormSchema); err != nil {
		t.Fatal(err)
	}
	blob, err := c.OpenBlob(ctx, "blobs", "b", 1, true) // caller 1
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, stormInsert, 1, 1, 0, 1); err != nil { // caller 2: acknowledged
		t.Fatal(err)
	}
	if row, err := other.QueryRow(ctx, "SELECT count(*) FROM t"); err != nil || row.Index(0) != int64(1) {
		t.Errorf("another connection sees %v rows (%v) right after an Exec returned nil", row, err)
	}
	// Caller 3: a failing ExecMany (a duplicate key), all or nothing.
	if _, err := c.ExecMany(ctx, stormInsert, [][]any{{2, 2, 0, 2}, {2, 2, 0, 2}}); !errors.Is(err, messages.ErrConstraint) {
		t.Fatalf("ExecMany: %v, want ErrConstraint", err)
	}
	blob.Close()
	if row, err := other.QueryRow(ctx, "SELECT count(*) FROM t"); err != nil || row.Index(0) != int64(1) {
		t.Fatalf("%v rows (%v): the acknowledged Exec's row is gone", row, err)
	}
}

// stormReproCollected reports whether the value a cleanup was added to was collected within 3 s
// of garbage collections.
func stormReproCollected(done *atomic.Bool) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for limit := time.Now().Add(3 * time.Second); !done.Load() && time.Now().Before(limit); {
		runtime.GC()
		<-tick.C // cleanups run on a goroutine of their own
	}
	return done.Load()
}

// The storm's check that its supervisors are garbage collected once stopped (and its heap
// check, in long storms: 34 MiB kept after 20,000 crashes): a Supervisor that opened a pool is
// never collected after Stop, nor its actor system (with its process registry, which grew with
// every future), connections' state and queues: about 2.8 MiB per Start, OpenPool, Stop with a
// few reads. Each Conn handle gets a runtime.AddCleanup whose argument reaches the connection's
// actor system, hence the supervisor, whose list of pools holds the pool, which holds the
// handle: a cleanup whose argument reaches its object never runs, and keeps both alive. (The
// same holds whenever something the connection or supervisor keeps, a user function or a
// fault hook, references a Conn handle: it is then never closed by the GC either.)
func TestStormReproPoolKeepsSupervisor(t *testing.T) {
	ctx := context.Background()
	for _, pool := range []bool{false, true} {
		done := &atomic.Bool{}
		func() {
			s, err := supervisor.Start(ctx, supervisor.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if pool {
				p, err := s.OpenPool(ctx, filepath.Join(t.TempDir(), "r.db"), 2)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Close(ctx); err != nil {
					t.Fatal(err)
				}
			} else {
				c, err := s.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			runtime.AddCleanup(s, func(d *atomic.Bool) { d.Store(true) }, done)
		}()
		if !stormReproCollected(done) {
			t.Errorf("pool %v: the Supervisor was not garbage collected after Stop", pool)
		}
	}
}

// The storm's "checkpoint" violations (and calls on other connections stalled for tens of
// seconds) once its workers closed, or crashed, connections with a cursor half-way through a
// window whose aggregate's Final panics: the panic, now guarded, leaves the closed instance's
// locks on the database. Its read lock keeps PRAGMA wal_checkpoint(TRUNCATE) from any other
// connection busy for as long as the process lives (the WAL can never be reset); if it was
// inside a write transaction, every other connection's writes fail with ErrBusy forever.
func TestStormReproFinalPanicWhileClosingKeepsLock(t *testing.T) {
	for _, how := range []string{"close", "close in a transaction", "crash", "crash in a transaction", "crash in Close in a transaction"} {
		t.Run(how, func(t *testing.T) {
			s := start(t, supervisor.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dsn := filepath.Join(t.TempDir(), "r.db")
			var crashClose atomic.Bool // a crash while serving Close, as the storm's fault hook does
			c := stormReproConn(t, s, dsn, actors.WithFetchSize(1), actors.WithFaultHook(func(req messages.Request) {
				if _, ok := req.(*messages.Close); ok && crashClose.CompareAndSwap(true, false) {
					panic("crash in Close")
				}
			}))
			other := stormReproConn(t, s, dsn, actors.WithBusyTimeout(time.Second))
			if err := c.ExecScript(ctx, stormSchema+"INSERT INTO t VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3);"); err != nil {
				t.Fatal(err)
			}
			var armed atomic.Bool
			if err := c.CreateAggregate(ctx, "storm_total", 1, func() actors.Aggregate { return &stormFinal{armed: &armed} }); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Query(ctx, "SELECT k, storm_total(k) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) FROM t ORDER BY k"); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(how, "in a transaction") {
				if err := c.BeginImmediate(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Exec(ctx, "INSERT INTO t VALUES (4, 4, 4)"); err != nil {
					t.Fatal(err)
				}
			}
			armed.Store(true) // closing the cursor now panics in Final
			var err error
			switch how {
			case "close", "close in a transaction":
				err = c.Close(ctx)
			case "crash in Close in a transaction":
				crashClose.Store(true)
				err = c.Close(ctx)
			case "crash", "crash in a transaction": // the restart closes the cursor
				_, err = c.QueryRow(ctx, "SELECT maybe_boom(1, 7)")
			}
			t.Logf("%s: %v", how, err)
			armed.Store(false)
			if _, err := other.Exec(ctx, "INSERT INTO t VALUES (5, 5, 5)"); err != nil {
				t.Errorf("a write from another connection: %v", err)
			}
			row, err := other.QueryRow(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
			if err != nil || row.Index(0) != int64(0) {
				t.Errorf("wal_checkpoint(TRUNCATE) from another connection: %v, %v; want busy = 0", row, err)
			}
		})
	}
}

// The actor-sender storm's "actor-id" and "actor-deadline" violations: an actor's
// InsertEvents, sent to the supervisor's PID, was answered with an EventsAck whose ID was 0
// (every reply carries its request's ID), and its Deadline was not honoured: one already past
// when it was sent, or passing while its events waited behind a batch, was still written and
// acknowledged (a Deadline is honoured as Ctx: a request still queued at it has no effect).
func TestStormReproActorEventsIDAndDeadline(t *testing.T) {
	s, dsn, entered, release := startHeldEvents(t)
	t.Cleanup(func() { s.Stop(context.Background()) }) // after the caller's stop
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	held := make(chan error, 1)
	go func() { held <- s.InsertEvent(context.Background(), event("held", 0)) }()
	<-entered
	within(sys, pid, func(ctx actor.Context) {
		ctx.Request(s.PID(), &messages.InsertEvents{ID: 7, Events: []messages.Event{event("ok", 1)}})
		ctx.Request(s.PID(), &messages.InsertEvents{ID: 8, Deadline: time.Now().Add(-time.Second), Events: []messages.Event{event("past", 1)}})
		ctx.Request(s.PID(), &messages.InsertEvents{ID: 9, Deadline: time.Now().Add(20 * time.Millisecond), Events: []messages.Event{event("queued", 1)}})
		ctx.Request(s.PID(), &messages.InsertEvents{ID: 10, Events: []messages.Event{{Name: "no user"}}})
	})
	time.Sleep(50 * time.Millisecond) // past the deadline of 9, still behind the held batch
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	acks := map[uint64]*messages.EventsAck{}
	for range 4 {
		r := recv(t, out, "an EventsAck").(*messages.EventsAck)
		acks[r.ID] = r
	}
	for _, want := range []struct {
		id  uint64
		err error // nil: acked
	}{{7, nil}, {8, context.DeadlineExceeded}, {9, context.DeadlineExceeded}, {10, messages.ErrBadEvent}} {
		ack := acks[want.id]
		switch {
		case ack == nil:
			t.Errorf("no EventsAck with ID %d (acks by ID: %v)", want.id, acks)
		case want.err == nil && ack.Err != nil, want.err != nil && !errors.Is(ack.Err, want.err):
			t.Errorf("EventsAck %d: %v, want %v", want.id, ack.Err, want.err)
		}
	}
	c := reader(t, s, dsn)
	defer c.Close(context.Background())
	got := stored(t, c)
	for k, want := range map[string]int{key("ok", 1): 1, key("past", 1): 0, key("queued", 1): 0} {
		if got[k] != want {
			t.Errorf("event %s stored %d times, want %d", k, got[k], want)
		}
	}
}

// The actor-sender storm's supervisors were never freed: storm_hold(), registered on an
// actor's connection, reached the actor and through it the connection's handle. A Conn's
// cleanup (which closes a connection whose handle was dropped) holds the connection's state,
// registrations included, for as long as the Conn lives: a registered function that reaches
// its own Conn kept both, and whatever the function reached, reachable for good, even once
// the connection was closed and its supervisor stopped.
func TestStormReproFunctionKeepsItsConn(t *testing.T) {
	collected := &atomic.Bool{}
	func() {
		s := start(t, supervisor.Config{})
		ctx := context.Background()
		c, err := s.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
		if err != nil {
			t.Fatal(err)
		}
		// A program's state that holds the handle, and that its function reads.
		type app struct {
			conn  *actors.Conn
			calls atomic.Int64
		}
		a := &app{conn: c}
		if err := c.CreateFunction(ctx, "count_call", 0, func([]any) (any, error) { return a.calls.Add(1), nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := c.QueryRow(ctx, "SELECT count_call()"); err != nil {
			t.Fatal(err)
		}
		runtime.AddCleanup(a, func(b *atomic.Bool) { b.Store(true) }, collected)
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	for range 100 {
		runtime.GC()
		if collected.Load() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("a closed connection's handle, reached from its own registered function, is never collected, nor what the function reaches")
}

// NARROWED, NOT CLOSED (skipped unless ACTORLITE_KNOWN_BUGS is set): found probing what the
// actor-sender storm's doomed actors check.
//
// The PID of a connection stopped after a crash answers, through a tombstone, ErrClosed with
// ErrCrashed until its handle is closed. But protoactor removes a stopping actor's PID from
// its registry (finalizeStop) before the actor's Stopped handler runs. The handler used to
// refuse every request left in the mailbox before it registered the tombstone, and meanwhile
// requests sent to the PID were dead letters (3,996 in 100 cycles under load). It now
// registers the tombstone first: what is left is the instant between protoactor's removal and
// the handler's first statement, which this test no longer hits (25 runs, 5 with -race), but
// which only a change to protoactor's stop order could close; hence still skipped by default:
// a single dead letter in that instant would fail CI.
func TestStormReproTombstoneGap(t *testing.T) {
	if os.Getenv("ACTORLITE_KNOWN_BUGS") == "" {
		t.Skip("a known gap, narrowed to an instant but not closed (see the comment above); ACTORLITE_KNOWN_BUGS=1 runs it")
	}
	s := start(t, supervisor.Config{MaxRestarts: -1, MaxPending: 1 << 20})
	c := open(t, s)
	entered, release := gate(t, c)
	sys := s.System()
	sink := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	defer sys.Root.StopFuture(sink).Wait()
	crashed := make(chan error, 1)
	go func() { _, err := c.Exec(context.Background(), "SELECT wait_gate() + boom()"); crashed <- err }()
	<-entered
	// Requests queued behind the crash, each refused (a reply sent to sink) once it stops.
	for range 100000 {
		sys.Root.RequestWithCustomSender(c.PID(), &messages.Query{SQL: "SELECT 1"}, sink)
	}
	// Requests sent while it stops, until it has stopped.
	var probes []*actor.Future
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for {
			select {
			case <-c.Done():
				return
			default:
			}
			probes = append(probes, sys.Root.RequestFuture(c.PID(), &messages.Query{SQL: "SELECT 1"}, 10*time.Second))
			time.Sleep(time.Microsecond)
		}
	}()
	close(release)
	if err := <-crashed; !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("the crash: %v", err)
	}
	<-sent
	dead := 0
	for _, f := range probes {
		r, err := f.Result()
		switch {
		case errors.Is(err, actor.ErrDeadLetter):
			dead++
		case err != nil:
			t.Fatal(err)
		case !errors.Is(r.(messages.Reply).ReplyErr(), messages.ErrClosed) || !errors.Is(r.(messages.Reply).ReplyErr(), messages.ErrCrashed):
			t.Errorf("a request sent while the connection stopped after a crash: %v, want ErrClosed and ErrCrashed", r.(messages.Reply).ReplyErr())
		}
	}
	if dead > 0 {
		t.Errorf("%d of %d requests sent to the PID of a connection stopping after a crash, before its handle was closed, were dead letters (for an Ask: ErrClosed without ErrCrashed; for a Request: a DeadLetterResponse without its ID)", dead, len(probes))
	}
}
