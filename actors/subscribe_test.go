package actors_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// The change feed as an actor outside this repo sees it: it subscribes by messaging a
// connection's PID (no handle), and receives one *messages.RowChanges per commit.

// subscriber is an actor that, when it starts, sends each connection in conns the
// SetUpdateHook that hook builds for it (with RequestFuture and ReenterAfter, staying
// non-blocking), reports each reply's error on acks, and forwards every *messages.RowChanges
// it receives to out. It answers a *feedSync with itself, once it forwarded what came before.
type subscriber struct {
	conns []*actor.PID
	hook  func(self *actor.PID) *messages.SetUpdateHook
	acks  chan<- error
	out   chan<- *messages.RowChanges
}

func (a *subscriber) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		for _, conn := range a.conns {
			f := ctx.RequestFuture(conn, a.hook(ctx.Self()), 10*time.Second)
			ctx.ReenterAfter(f, func(res any, err error) {
				if err == nil {
					err = res.(messages.Reply).ReplyErr()
				}
				a.acks <- err
			})
		}
	case *messages.RowChanges:
		a.out <- m
	case *feedSync:
		ctx.Respond(m)
	}
}

// feedSync asks a subscriber to answer once it handled the messages queued before it.
type feedSync struct{}

// feed is a subscriber's change feed, as a test reads it.
type feed struct {
	s   *supervisor.Supervisor
	pid *actor.PID
	ch  <-chan *messages.RowChanges
}

// subscribe spawns a subscriber in s's actor system (stopped when the test ends), waits
// for the connections' answers to its SetUpdateHook and returns them, with the channel its
// changes come on.
func subscribe(t testing.TB, s *supervisor.Supervisor, hook func(self *actor.PID) *messages.SetUpdateHook, conns ...*actors.Conn) ([]error, *feed) {
	t.Helper()
	acks := make(chan error, len(conns))
	out := make(chan *messages.RowChanges, 1024)
	sub := &subscriber{hook: hook, acks: acks, out: out}
	for _, c := range conns {
		sub.conns = append(sub.conns, c.PID())
	}
	root := s.System().Root
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return sub }))
	t.Cleanup(func() { root.StopFuture(pid).Wait() }) // before the supervisor's Stop
	ctx := testCtx(t)
	var errs []error
	for range conns {
		select {
		case err := <-acks:
			errs = append(errs, err)
		case <-ctx.Done():
			t.Fatalf("%d of %d connections answered SetUpdateHook", len(errs), len(conns))
		}
	}
	return errs, &feed{s: s, pid: pid, ch: out}
}

// bySubscriber is the message form of a subscription: the actor names itself.
func bySubscriber(self *actor.PID) *messages.SetUpdateHook {
	return &messages.SetUpdateHook{Subscriber: self}
}

// subscribed subscribes a new actor to conns with the message form; every subscription
// must succeed.
func subscribed(t testing.TB, s *supervisor.Supervisor, conns ...*actors.Conn) *feed {
	t.Helper()
	errs, f := subscribe(t, s, bySubscriber, conns...)
	for _, err := range errs {
		if err != nil {
			t.Fatalf("SetUpdateHook{Subscriber}: %v", err)
		}
	}
	return f
}

// nextCommit receives the next message of the change feed.
func nextCommit(t testing.TB, f *feed) *messages.RowChanges {
	t.Helper()
	select {
	case m := <-f.ch:
		return m
	case <-testCtx(t).Done():
		t.Fatal("no *messages.RowChanges came")
		return nil
	}
}

// noCommit checks that the subscriber received nothing more. The feed is sent before the
// reply of the request that committed, so once the subscriber answered a feedSync sent after
// that reply, whatever was sent is on f.ch.
func noCommit(t testing.TB, f *feed) {
	t.Helper()
	if _, err := f.s.System().Root.RequestFuture(f.pid, &feedSync{}, 10*time.Second).Result(); err != nil {
		t.Fatalf("sync with the subscriber: %v", err)
	}
	select {
	case m := <-f.ch:
		t.Fatalf("unexpected %+v", m)
	default:
	}
}

// expectCommit receives the next commit's message and checks it came from c with want.
func expectCommit(t testing.TB, f *feed, c *actors.Conn, want ...messages.RowChange) {
	t.Helper()
	m := nextCommit(t, f)
	pid, ok := m.Conn.(*actor.PID)
	if !ok || !pid.Equal(c.PID()) {
		t.Fatalf("Conn %v, want the connection's PID %v", m.Conn, c.PID())
	}
	if m.DSN != c.DSN() {
		t.Fatalf("DSN %q, want %q", m.DSN, c.DSN())
	}
	if !reflect.DeepEqual(m.Changes, want) {
		t.Fatalf("changes %+v, want %+v", m.Changes, want)
	}
}

func rowChange(op, table string, id int64) messages.RowChange {
	return messages.RowChange{Op: op, Database: "main", Table: table, RowID: id}
}

func TestSubscriberGetsOneMessagePerCommit(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	ch := subscribed(t, s, c)
	rc := func(op string, id int64) messages.RowChange { return rowChange(op, "t", id) }

	// Autocommit: each statement is a commit.
	exec(t, c, "INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")
	expectCommit(t, ch, c, rc("INSERT", 1), rc("INSERT", 2))
	exec(t, c, "UPDATE t SET v = 'B' WHERE id = 2")
	expectCommit(t, ch, c, rc("UPDATE", 2))

	// A transaction is one message, sent after its commit, its rows in the order changed.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (3, 'c')")
	exec(t, c, "DELETE FROM t WHERE id = 1")
	noCommit(t, ch)
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	expectCommit(t, ch, c, rc("INSERT", 3), rc("DELETE", 1))

	// Rolled back: never sent, whichever way it was rolled back.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (10, 'x')")
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecMany(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", [][]any{{20, "y"}, {20, "dup"}}); !errors.Is(err, messages.ErrConstraint) {
		t.Fatalf("ExecMany: %v, want a constraint error", err)
	}
	noCommit(t, ch)

	// A request that commits several times sends one message per commit, in order.
	execScript(t, c, `INSERT INTO t (id, v) VALUES (4, 'd');
		BEGIN; DELETE FROM t WHERE id = 4; ROLLBACK;
		BEGIN; UPDATE t SET v = 'D' WHERE id = 4; INSERT INTO t (id, v) VALUES (5, 'e'); COMMIT;
		DELETE FROM t WHERE id = 2`)
	expectCommit(t, ch, c, rc("INSERT", 4))
	expectCommit(t, ch, c, rc("UPDATE", 4), rc("INSERT", 5))
	expectCommit(t, ch, c, rc("DELETE", 2))

	// ExecMany's transaction: one message for all its rows.
	args := make([][]any, 100)
	want := make([]messages.RowChange, len(args))
	for i := range args {
		args[i] = []any{100 + i, "many"}
		want[i] = rc("INSERT", int64(100+i))
	}
	if _, err := c.ExecMany(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", args); err != nil {
		t.Fatal(err)
	}
	expectCommit(t, ch, c, want...)

	// A commit that changed no row sends nothing.
	execScript(t, c, "BEGIN; SELECT 1; COMMIT")
	exec(t, c, "UPDATE t SET v = 'none' WHERE id < 0")
	noCommit(t, ch)

	// A nil Subscriber (and nil Fn) removes the hook.
	if errs, _ := subscribe(t, s, func(*actor.PID) *messages.SetUpdateHook { return &messages.SetUpdateHook{} }, c); errs[0] != nil {
		t.Fatal(errs[0])
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (6, 'f')")
	noCommit(t, ch)
	noCrash(t, s)
}

func TestSubscriberTellsConnectionsApart(t *testing.T) {
	dir := t.TempDir()
	s := newSupervisor(t, supervisor.Config{})
	ctx := testCtx(t)
	var conns [2]*actors.Conn
	for i, name := range []string{"a.db", "b.db"} {
		c, err := s.Open(ctx, filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	}
	a, b := conns[0], conns[1]
	ch := subscribed(t, s, a, b)
	exec(t, a, "INSERT INTO t (id) VALUES (1)")
	exec(t, b, "INSERT INTO t (id) VALUES (2)")
	exec(t, a, "DELETE FROM t WHERE id = 1")
	// One subscriber, one mailbox: each connection's messages come in its commit order; a
	// and b's interleave as their commits did, since each was acknowledged before the next.
	expectCommit(t, ch, a, rowChange("INSERT", "t", 1))
	expectCommit(t, ch, b, rowChange("INSERT", "t", 2))
	expectCommit(t, ch, a, rowChange("DELETE", "t", 1))
	noCommit(t, ch)
}

func TestSubscriberSurvivesRestart(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	ch := subscribed(t, s, c)
	exec(t, c, "INSERT INTO t (id) VALUES (1)")
	expectCommit(t, ch, c, rowChange("INSERT", "t", 1))

	// A transaction lost in the crash is never sent.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id) VALUES (2)")
	if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("SELECT boom(): %v, want ErrCrashed", err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	noCommit(t, ch)

	// The new incarnation sends to the same subscriber, as the same connection.
	for i := int64(3); i < 5; i++ {
		crashAndRestart(t, s, c)
		exec(t, c, "INSERT INTO t (id) VALUES (?)", i)
		expectCommit(t, ch, c, rowChange("INSERT", "t", i))
	}
}

// otherPID is a messages.PID that is not a *actor.PID: a subscriber named by address and id.
type otherPID struct{ address, id string }

func (p otherPID) GetAddress() string { return p.address }
func (p otherPID) GetId() string      { return p.id }

func TestSubscriberAnyPID(t *testing.T) {
	s, c := newBoomConn(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	errs, ch := subscribe(t, s, func(self *actor.PID) *messages.SetUpdateHook {
		return &messages.SetUpdateHook{Subscriber: otherPID{self.GetAddress(), self.GetId()}}
	}, c)
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	exec(t, c, "INSERT INTO t (id) VALUES (1)")
	expectCommit(t, ch, c, rowChange("INSERT", "t", 1))

	// A nil *actor.PID is no subscriber: it removes the hook, as the handle's nil does.
	if errs, _ := subscribe(t, s, func(*actor.PID) *messages.SetUpdateHook {
		return &messages.SetUpdateHook{Subscriber: (*actor.PID)(nil)}
	}, c); errs[0] != nil {
		t.Fatal(errs[0])
	}
	exec(t, c, "INSERT INTO t (id) VALUES (2)")
	noCommit(t, ch)

	// One without an id names nothing.
	errs, _ = subscribe(t, s, func(*actor.PID) *messages.SetUpdateHook {
		return &messages.SetUpdateHook{Subscriber: otherPID{address: "nonhost"}}
	}, c)
	isArgError(t, "SetUpdateHook with an empty subscriber id", errs[0])
	noCrash(t, s)
}

func TestSetUpdateHookSubscriberAndFn(t *testing.T) {
	s, c := newBoomConn(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	ch := subscribed(t, s, c)
	fn := make(chan []messages.RowChange, 1)
	errs, _ := subscribe(t, s, func(self *actor.PID) *messages.SetUpdateHook {
		return &messages.SetUpdateHook{Subscriber: self, Fn: func(rc []messages.RowChange) { fn <- rc }}
	}, c)
	var ae *messages.ArgError
	if !errors.As(errs[0], &ae) || !errors.Is(errs[0], messages.ErrBadArgument) {
		t.Fatalf("SetUpdateHook with Subscriber and Fn: %v, want an *ArgError", errs[0])
	}
	// Refused: the hook in place stays.
	exec(t, c, "INSERT INTO t (id) VALUES (1)")
	expectCommit(t, ch, c, rowChange("INSERT", "t", 1))
	select {
	case rc := <-fn:
		t.Fatalf("the refused Fn got %+v", rc)
	default:
	}

	// Fn alone still works, and replaces the subscriber: it gets each commit's rows.
	errs, _ = subscribe(t, s, func(*actor.PID) *messages.SetUpdateHook {
		return &messages.SetUpdateHook{Fn: func(rc []messages.RowChange) { fn <- rc }}
	}, c)
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	exec(t, c, "INSERT INTO t (id) VALUES (2)")
	select {
	case rc := <-fn:
		if want := []messages.RowChange{rowChange("INSERT", "t", 2)}; !reflect.DeepEqual(rc, want) {
			t.Fatalf("Fn got %+v, want %+v", rc, want)
		}
	case <-testCtx(t).Done():
		t.Fatal("Fn not called")
	}
	noCommit(t, ch)
	noCrash(t, s)
}
