package supervisor_test

// Tests written from an actor's side: a program's own actor (a real actor with Receive) that
// messages connections with the requests of package messages, as the issue "Actor-native"
// describes it. Each test names the point it checks.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// caller is a program's actor: it runs the steps it is sent inside its own Receive, and
// reports every reply that comes to it as a message (the replies to ctx.Request) on out.
type caller struct{ out chan any }

// step runs inside the caller's Receive, with its context.
type step func(ctx actor.Context)

func (c *caller) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case step:
		m(ctx)
	case messages.Reply, *actor.DeadLetterResponse:
		c.out <- m
	}
}

// spawnCaller spawns a caller in s's actor system, stopped at the end of the test.
func spawnCaller(t testing.TB, sys *actor.ActorSystem) (pid *actor.PID, out chan any) {
	t.Helper()
	out = make(chan any, 4096)
	pid = sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &caller{out: out} }))
	t.Cleanup(func() { sys.Root.StopFuture(pid).Wait() })
	return pid, out
}

// within runs fn in the caller's Receive.
func within(sys *actor.ActorSystem, pid *actor.PID, fn func(ctx actor.Context)) {
	sys.Root.Send(pid, step(fn))
}

// recv returns the next value on ch, failing the test if none comes within 10 s.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s", what)
		panic("unreachable")
	}
}

// result is what an Ask's continuation reports.
type result[R any] struct {
	reply R
	err   error
}

// askFrom sends req from the caller with actors.Ask and returns a channel with its outcome.
func askFrom[R messages.Reply](sys *actor.ActorSystem, pid, to *actor.PID, req messages.Request, timeout time.Duration) <-chan result[R] {
	ch := make(chan result[R], 1)
	within(sys, pid, func(ctx actor.Context) {
		actors.Ask(ctx, to, req, timeout, func(r R, err error) { ch <- result[R]{r, err} })
	})
	return ch
}

// Point 1: what an actor left in a connection's mailbox at its close is answered, with the
// request's ID, never dropped; and a request behind a Close is refused at once, not after what
// runs now.
func TestActorRequestsLeftAtCloseAreAnswered(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	entered, release := gate(t, c)
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	go c.Exec(context.Background(), "SELECT wait_gate()") //nolint:errcheck // the gate holds the connection
	recv(t, entered, "gate entered")
	within(sys, pid, func(ctx actor.Context) {
		ctx.Request(c.PID(), &messages.Close{ID: 1})
		ctx.Request(c.PID(), &messages.Query{ID: 2, SQL: "SELECT 1"})
		ctx.Request(c.PID(), &messages.Exec{ID: 3, SQL: "INSERT INTO t (v) VALUES (1)"})
	})
	// Both are answered while the gate still holds the connection: nothing can change that
	// they run after the Close.
	for _, id := range []uint64{2, 3} {
		r := recv(t, out, "reply behind the Close").(messages.Reply)
		if !errors.Is(r.ReplyErr(), messages.ErrClosed) || idOf(r) != id {
			t.Fatalf("request %d behind a Close: %#v, want ErrClosed with its ID", id, r)
		}
	}
	close(release)
	if r := recv(t, out, "Close's reply").(*messages.Ack); r.Err != nil || r.ID != 1 {
		t.Fatalf("close: %#v", r)
	}
	<-c.Done()
}

// idOf returns the ID of a reply.
func idOf(r messages.Reply) uint64 {
	switch r := r.(type) {
	case *messages.ExecReply:
		return r.ID
	case *messages.Rows:
		return r.ID
	case *messages.Ack:
		return r.ID
	case *messages.TxStatusReply:
		return r.ID
	case *messages.EventsAck:
		return r.ID
	case *messages.BlobReply:
		return r.ID
	}
	return 0
}

// Point 1: a request an actor sends while Stop closes the connection is answered, with rows
// (it got in before the Close) or ErrClosed, never left to its future's timeout.
func TestActorRequestDuringStopIsAnswered(t *testing.T) {
	for i := range 10 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
			defer sys.Shutdown()
			s, err := supervisor.Start(context.Background(), supervisor.Config{System: sys})
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Open(context.Background(), filepath.Join(t.TempDir(), "stop.db"))
			if err != nil {
				t.Fatal(err)
			}
			entered, release := gate(t, c)
			go c.Exec(context.Background(), "SELECT wait_gate()") //nolint:errcheck // the gate holds the connection
			recv(t, entered, "gate entered")
			pid, _ := spawnCaller(t, sys)
			stopped := make(chan error, 1)
			go func() { stopped <- s.Stop(context.Background()) }()
			res := askFrom[*messages.Rows](sys, pid, c.PID(), &messages.Query{ID: 7, SQL: "SELECT 1"}, time.Minute)
			close(release)
			r := recv(t, res, "query during Stop")
			if r.err != nil && !errors.Is(r.err, messages.ErrClosed) {
				t.Fatalf("query during Stop: %v, want rows or ErrClosed", r.err)
			}
			if r.err == nil && (r.reply.ID != 7 || len(r.reply.Rows) != 1) {
				t.Fatalf("query during Stop: %#v", r.reply)
			}
			if err := recv(t, stopped, "Stop"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Point 1: once a connection spent its restart budget, an actor's requests get ErrClosed and
// ErrCrashed, as the handle's calls do: those queued behind the crash, and those sent after the
// actor stopped (its PID still answers), until its owner closes the handle.
func TestActorRequestsAfterRestartBudget(t *testing.T) {
	s := start(t, supervisor.Config{MaxRestarts: -1})
	c := open(t, s)
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	within(sys, pid, func(ctx actor.Context) {
		ctx.Request(c.PID(), &messages.Exec{ID: 1, SQL: "SELECT boom()"})
		for id := uint64(2); id <= 4; id++ {
			ctx.Request(c.PID(), &messages.Query{ID: id, SQL: "SELECT 1"})
		}
	})
	if r := recv(t, out, "crash").(*messages.ExecReply); !errors.Is(r.Err, messages.ErrCrashed) || r.ID != 1 {
		t.Fatalf("crashing request: %#v", r)
	}
	for id := uint64(2); id <= 4; id++ {
		r := recv(t, out, "queued behind the crash").(messages.Reply)
		if !errors.Is(r.ReplyErr(), messages.ErrClosed) || !errors.Is(r.ReplyErr(), messages.ErrCrashed) || idOf(r) != id {
			t.Fatalf("request %d queued behind the last crash: %#v, want ErrClosed and ErrCrashed", id, r)
		}
	}
	<-c.Done()
	r := recv(t, askFrom[*messages.Rows](sys, pid, c.PID(), &messages.Query{SQL: "SELECT 1"}, 10*time.Second), "after the stop")
	if !errors.Is(r.err, messages.ErrClosed) || !errors.Is(r.err, messages.ErrCrashed) {
		t.Fatalf("request after the stop: %v, want ErrClosed and ErrCrashed", r.err)
	}
	if _, err := c.QueryRow(deadline(t), "SELECT 1"); !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("handle: %v", err)
	}
	if err := c.Close(deadline(t)); err != nil {
		t.Fatal(err)
	}
	// Closed by its owner: the PID is gone, as any stopped actor's.
	r = recv(t, askFrom[*messages.Rows](sys, pid, c.PID(), &messages.Query{SQL: "SELECT 1"}, 10*time.Second), "after Close")
	if !errors.Is(r.err, messages.ErrClosed) || errors.Is(r.err, messages.ErrCrashed) {
		t.Fatalf("request after Close: %v, want ErrClosed (a dead letter)", r.err)
	}
}

// parent is a program's own supervising actor: it spawns a connection child under its own
// strategy, and reports the reasons its decider saw.
type parent struct {
	child   *actors.Child
	spawned chan *actor.PID
}

func (p *parent) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		p.spawned <- ctx.Spawn(p.child.Props())
	}
}

// Point 2: under a program's own parent, the request that crashes the connection is answered
// by the connection, to a handle and to an actor; the parent's strategy then restarts it (or
// stops it: calls then get ErrClosed and ErrCrashed).
func TestCrashAnsweredUnderAProgramsOwnParent(t *testing.T) {
	for _, directive := range []actor.Directive{actor.RestartDirective, actor.StopDirective} {
		t.Run(directive.String(), func(t *testing.T) {
			sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
			defer sys.Shutdown()
			reasons := make(chan any, 16)
			strategy := actor.NewOneForOneStrategy(10, time.Minute, func(reason any) actor.Directive {
				reasons <- reason
				return directive
			})
			child := actors.NewChild(actors.ChildConfig{System: sys}, filepath.Join(t.TempDir(), "own.db"))
			p := &parent{child: child, spawned: make(chan *actor.PID, 1)}
			ppid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }, actor.WithSupervisor(strategy)))
			defer func() { sys.Root.StopFuture(ppid).Wait() }()
			child.Bind(recv(t, p.spawned, "spawn"))
			c := child.NewHandle()
			defer c.Close(context.Background())
			ctx := context.Background()
			if err := c.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom!") }); err != nil {
				t.Fatal(err)
			}
			// A handle's call with a ctx that never ends must still return.
			crashed := make(chan error, 1)
			go func() { _, err := c.Exec(ctx, "SELECT boom()"); crashed <- err }()
			if err := recv(t, crashed, "handle's crashing call"); !errors.Is(err, messages.ErrCrashed) {
				t.Fatalf("handle's crashing call: %v", err)
			}
			if c, ok := recv(t, reasons, "decider").(*actors.Crash); !ok || !errors.Is(c.Err, messages.ErrCrashed) {
				t.Fatalf("decider's reason: %#v", c)
			}
			if directive == actor.StopDirective {
				<-c.Done()
				if _, err := c.QueryRow(ctx, "SELECT 1"); !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
					t.Fatalf("after the parent stopped it: %v", err)
				}
				return
			}
			pid, _ := spawnCaller(t, sys)
			r := recv(t, askFrom[*messages.ExecReply](sys, pid, c.PID(), &messages.Exec{ID: 5, SQL: "SELECT boom()"}, time.Minute), "actor's crashing request")
			if !errors.Is(r.err, messages.ErrCrashed) {
				t.Fatalf("actor's crashing request: %v", r.err)
			}
			if _, err := c.QueryRow(ctx, "SELECT 1"); err != nil {
				t.Fatalf("after the restart: %v", err)
			}
		})
	}
}

// Point 3: a request's Deadline is honoured as a handle's ctx: a request queued past it has no
// effect, one running at it is interrupted, and the connection is free for the next caller.
func TestActorDeadline(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	sys := s.System()
	pid, _ := spawnCaller(t, sys)
	// Running: a query that never ends by itself, whose asker gives up after 50 ms.
	forever := "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
	r := recv(t, askFrom[*messages.Rows](sys, pid, c.PID(), &messages.Query{SQL: forever}, 50*time.Millisecond), "endless query")
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("endless query: %v, want DeadlineExceeded", r.err)
	}
	if _, err := c.QueryRow(deadline(t), "SELECT 1"); err != nil {
		t.Fatalf("the connection was not freed: %v", err)
	}
	// Queued: past its deadline before its turn, it has no effect.
	within(sys, pid, func(ctx actor.Context) {
		ctx.Request(c.PID(), &messages.Exec{SQL: "INSERT INTO t (v) VALUES (1)", Deadline: time.Now().Add(-time.Second)})
	})
	if n := count(t, c); n != 0 {
		t.Fatalf("an expired request ran: %d rows", n)
	}
	res := recv(t, askFrom[*messages.ExecReply](sys, pid, c.PID(), &messages.Exec{SQL: "INSERT INTO t (v) VALUES (1)", Deadline: time.Now().Add(-time.Second)}, time.Minute), "expired")
	if !errors.Is(res.err, context.DeadlineExceeded) {
		t.Fatalf("expired request: %v", res.err)
	}
}

// Point 4: replies carry the ID of their request, successes, failures and crashes alike, and
// actors.Ask types the reply.
func TestActorRepliesCarryTheirID(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	reqs := []messages.Request{
		&messages.Exec{ID: 11, SQL: "INSERT INTO t (v) VALUES (1)"},
		&messages.Query{ID: 12, SQL: "SELECT v FROM t"},
		&messages.Exec{ID: 13, SQL: "SELECT nonsense"},
		&messages.Exec{ID: 14, SQL: "SELECT boom()"},
		&messages.TxStatus{ID: 15},
		&messages.Fetch{ID: 16, Cursor: 999},
	}
	within(sys, pid, func(ctx actor.Context) {
		for _, r := range reqs {
			ctx.Request(c.PID(), r)
		}
	})
	for i, want := range []uint64{11, 12, 13, 14, 15, 16} {
		r := recv(t, out, "reply").(messages.Reply)
		if idOf(r) != want {
			t.Fatalf("reply %d (%T, err %v) has ID %d, want %d", i, r, r.ReplyErr(), idOf(r), want)
		}
	}
	row := recv(t, askFrom[*messages.Rows](sys, pid, c.PID(), &messages.Query{SQL: "SELECT 42 AS n", OneRow: true}, 10*time.Second), "ask")
	if row.err != nil || row.reply.Rows[0].Index(0) != int64(42) {
		t.Fatalf("ask: %v %#v", row.err, row.reply)
	}
	wrong := recv(t, askFrom[*messages.Ack](sys, pid, c.PID(), &messages.Query{SQL: "SELECT 1"}, 10*time.Second), "ask, wrong type")
	if !errors.Is(wrong.err, messages.ErrUnknownRequest) {
		t.Fatalf("ask with the wrong reply type: %v", wrong.err)
	}
	bad := recv(t, askFrom[*messages.Rows](sys, pid, c.PID(), &messages.Query{SQL: "SELECT 1"}, 0), "ask, no timeout")
	var ae *messages.ArgError
	if !errors.As(bad.err, &ae) {
		t.Fatalf("ask without a timeout: %v", bad.err)
	}
}

// Point 5: an actor's requests are bounded as a handle's are, by count and by bytes: past the
// bound they are answered at once with ErrOverloaded, and have no effect.
func TestActorBackPressure(t *testing.T) {
	const maxPending = 8
	s := start(t, supervisor.Config{MaxPending: maxPending, MaxPendingBytes: 1 << 20})
	c := open(t, s)
	entered, release := gate(t, c)
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	go c.Exec(context.Background(), "SELECT wait_gate()") //nolint:errcheck // the gate holds one slot
	recv(t, entered, "gate entered")
	const sent = 20
	within(sys, pid, func(ctx actor.Context) {
		for i := range sent {
			ctx.Request(c.PID(), &messages.Exec{ID: uint64(i + 1), SQL: "INSERT INTO t (v) VALUES (?)", Args: []any{i}})
		}
	})
	// The gate holds one slot: 7 are admitted, and the other 13 are refused at once, while the
	// gate still holds the connection.
	for i := maxPending; i <= sent; i++ {
		r := recv(t, out, "overloaded").(*messages.ExecReply)
		if !errors.Is(r.Err, messages.ErrOverloaded) || r.ID != uint64(i) {
			t.Fatalf("request %d past the bound: %#v, want ErrOverloaded", i, r)
		}
	}
	close(release)
	for range maxPending - 1 {
		if r := recv(t, out, "admitted").(*messages.ExecReply); r.Err != nil || r.ID >= maxPending {
			t.Fatalf("admitted request: %#v", r)
		}
	}
	if n := count(t, c); n != maxPending-1 {
		t.Fatalf("%d rows, want %d: a refused request ran", n, maxPending-1)
	}

}

// Point 5, by bytes: 400 KiB requests against MaxPendingBytes 1 MiB.
func TestActorBackPressureBytes(t *testing.T) {
	s := start(t, supervisor.Config{MaxPendingBytes: 1 << 20})
	c := open(t, s)
	entered, release := gate(t, c)
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	go c.Exec(context.Background(), "SELECT wait_gate()") //nolint:errcheck // the gate holds the connection
	recv(t, entered, "gate entered")
	big := strings.Repeat("x", 400<<10)
	within(sys, pid, func(ctx actor.Context) {
		for i := range 4 {
			ctx.Request(c.PID(), &messages.Exec{ID: uint64(i + 1), SQL: "INSERT INTO t (v) VALUES (?)", Args: []any{big}})
		}
	})
	for _, id := range []uint64{3, 4} {
		if r := recv(t, out, "overloaded by bytes").(*messages.ExecReply); !errors.Is(r.Err, messages.ErrOverloaded) || r.ID != id {
			t.Fatalf("request past the byte bound: %#v", r)
		}
	}
	close(release)
	for range 2 {
		if r := recv(t, out, "admitted").(*messages.ExecReply); r.Err != nil {
			t.Fatalf("admitted request: %#v", r)
		}
	}
	if n := count(t, c); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// Point 8: crashes, restarts and stops are published on the system's EventStream, and a
// supervisor joining a system logs to the system's logger when Config.Logger is nil.
func TestCrashesOnTheEventStreamAndSystemLogger(t *testing.T) {
	logs := &logRecords{}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(logs) }))
	defer sys.Shutdown()
	events := make(chan *actor.SupervisorEvent, 16)
	sub := sys.EventStream.Subscribe(func(evt any) {
		if e, ok := evt.(*actor.SupervisorEvent); ok {
			events <- e
		}
	})
	defer sys.EventStream.Unsubscribe(sub)
	s := start(t, supervisor.Config{System: sys, MaxRestarts: 1})
	c := open(t, s)
	for range 2 {
		if _, err := c.Exec(deadline(t), "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
			t.Fatal(err)
		}
	}
	for _, want := range []actor.Directive{actor.RestartDirective, actor.StopDirective} {
		e := recv(t, events, "supervisor event")
		if e.Directive != want || e.Child.Id != c.PID().Id {
			t.Fatalf("event %+v, want %v for %v", e, want, c.PID())
		}
		if cr, ok := e.Reason.(*actors.Crash); !ok || !errors.Is(cr.Err, messages.ErrCrashed) {
			t.Fatalf("event reason %#v", e.Reason)
		}
	}
	<-c.Done()
	logs.mu.Lock()
	defer logs.mu.Unlock()
	n := 0
	for _, r := range logs.records {
		if r.Message == "actorlite: connection crashed" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("the system's logger got %d crash records, want 2", n)
	}
}

// Point 1, with point 6: an actor that closes a connection whose crash stopped it for good
// (the Close queued behind the crash) gets success, and the PID is gone afterwards, as any
// closed connection's: no tombstone outlives a Close.
func TestActorCloseBehindTheLastCrash(t *testing.T) {
	s := start(t, supervisor.Config{MaxRestarts: -1})
	c := open(t, s)
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	within(sys, pid, func(ctx actor.Context) {
		ctx.Request(c.PID(), &messages.Exec{ID: 1, SQL: "SELECT boom()"})
		ctx.Request(c.PID(), &messages.Close{ID: 2})
	})
	if r := recv(t, out, "crash").(*messages.ExecReply); !errors.Is(r.Err, messages.ErrCrashed) {
		t.Fatalf("crashing request: %#v", r)
	}
	if r := recv(t, out, "close").(*messages.Ack); r.Err != nil || r.ID != 2 {
		t.Fatalf("close behind the last crash: %#v", r)
	}
	<-c.Done()
	r := recv(t, askFrom[*messages.Rows](sys, pid, c.PID(), &messages.Query{SQL: "SELECT 1"}, 10*time.Second), "after Close")
	if !errors.Is(r.err, messages.ErrClosed) || errors.Is(r.err, messages.ErrCrashed) {
		t.Fatalf("request after the Close: %v, want ErrClosed (a dead letter)", r.err)
	}
}

// Points 3 and 4 for events: an actor's InsertEvents gets its ID back, and one whose Deadline
// passed before its turn stores nothing.
func TestActorInsertEventsIDAndDeadline(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "events.db")
	s := start(t, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn}})
	sys := s.System()
	pid, _ := spawnCaller(t, sys)
	ev := []messages.Event{{UserID: "u1", Name: "signup"}}
	ok := recv(t, askFrom[*messages.EventsAck](sys, pid, s.PID(), &messages.InsertEvents{ID: 9, Events: ev}, 10*time.Second), "insert")
	if ok.err != nil || ok.reply.ID != 9 || ok.reply.Count != 1 {
		t.Fatalf("insert: %v %#v", ok.err, ok.reply)
	}
	late := recv(t, askFrom[*messages.EventsAck](sys, pid, s.PID(), &messages.InsertEvents{ID: 10, Events: ev, Deadline: time.Now().Add(-time.Second)}, 10*time.Second), "late insert")
	if !errors.Is(late.err, context.DeadlineExceeded) {
		t.Fatalf("insert past its deadline: %v", late.err)
	}
	if got := s.Stats().EventsCommitted; got != 1 {
		t.Fatalf("%d events committed, want 1", got)
	}
}

// A Query that opens a cursor, or an OpenBlob, completed only after its Deadline closes what it
// opened and fails: its asker no longer waits, and would never close it.
func TestActorLateCursorIsClosed(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	if _, err := c.ExecMany(deadline(t), "INSERT INTO t (v) VALUES (?)", [][]any{{1}, {2}, {3}}); err != nil {
		t.Fatal(err)
	}
	sys := s.System()
	pid, out := spawnCaller(t, sys)
	// The query starts in time, and its first row comes after its deadline: sleep_past waits
	// for it, inside the query.
	err := c.CreateFunction(deadline(t), "sleep_past", 1, func(args []any) (any, error) {
		<-time.After(time.Until(time.Unix(0, args[0].(int64))))
		return int64(1), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dl := time.Now().Add(200 * time.Millisecond)
	within(sys, pid, func(ctx actor.Context) {
		ctx.Request(c.PID(), &messages.Query{ID: 1, SQL: "SELECT v, sleep_past(?) FROM t", Args: []any{dl.UnixNano()}, FetchSize: 1, Deadline: dl})
	})
	r := recv(t, out, "late query").(*messages.Rows)
	if !errors.Is(r.Err, context.DeadlineExceeded) || r.Cursor != 0 {
		t.Fatalf("query done after its deadline: %#v, want DeadlineExceeded and no cursor", r)
	}
	if ok := checkpointed(t, c); !ok {
		t.Fatal("a cursor is still open: the WAL cannot be checkpointed")
	}
}

// TestAskReplyMeetsItsTimeout: Asks whose replies come about when their timeouts fire, many
// times over. Each continuation runs exactly once, with the reply or DeadlineExceeded, and
// (under -race) nothing races: protoactor's own future timeout reads a reply written without
// its lock, which this test caught through Ask before Ask stopped using it.
func TestAskReplyMeetsItsTimeout(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	sys := s.System()
	pid, _ := spawnCaller(t, sys)
	const waves, wave = 40, 50
	outcomes := make(chan error, wave)
	replied, timedOut := 0, 0
	for range waves {
		within(sys, pid, func(ctx actor.Context) {
			for i := range wave {
				// 20 µs to 1 ms: about what a point select takes from an actor, under -race
				// or not, so that some replies meet their timeouts.
				timeout := time.Duration(1+i) * 20 * time.Microsecond
				actors.Ask(ctx, c.PID(), &messages.Query{SQL: "SELECT 1", OneRow: true}, timeout, func(r *messages.Rows, err error) {
					outcomes <- err
				})
			}
		})
		for range wave {
			switch err := recv(t, outcomes, "an Ask's outcome"); {
			case err == nil:
				replied++
			case errors.Is(err, context.DeadlineExceeded):
				timedOut++
			default:
				t.Fatalf("an Ask: %v, want its reply or DeadlineExceeded", err)
			}
		}
	}
	select {
	case err := <-outcomes:
		t.Fatalf("a continuation ran twice: %v", err)
	default:
	}
	t.Logf("%d replied, %d timed out", replied, timedOut)
	// Nobody at the PID: ErrClosed, at once (not after the timeout).
	dead := actor.NewPID(sys.Address(), "nobody-here")
	r := recv(t, askFrom[*messages.Rows](sys, pid, dead, &messages.Query{SQL: "SELECT 1"}, time.Hour), "an Ask of nobody")
	if !errors.Is(r.err, messages.ErrClosed) {
		t.Fatalf("an Ask of nobody: %v, want ErrClosed", r.err)
	}
}
