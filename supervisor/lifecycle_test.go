package supervisor_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// startWithSystem starts a supervisor in an actor system of the test's own, as a program
// that runs its own actors would (Config.System): Stop leaves it running, and the test shuts
// it down after. Its dead letters with a sender are answered (a future then fails with
// actor.ErrDeadLetter) but not logged: these tests provoke them on purpose, and logging them
// would start protoactor's dead-letter throttle (see TestMain).
func startWithSystem(t testing.TB, cfg supervisor.Config) *supervisor.Supervisor {
	t.Helper()
	sys := actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithDeadLetterRequestLogging(false),
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) })))
	t.Cleanup(sys.Shutdown) // after start's cleanup, which stops the supervisor
	cfg.System = sys
	return start(t, cfg)
}

// asker is an actor of a program's own: it asks other actors (the supervisor, connections)
// with RequestFuture and ReenterAfter, so its Receive never blocks on an answer, and passes
// each answer on to the test.
type asker struct{}

type askMsg struct {
	to  *actor.PID
	msg any
	out chan<- answer
}

type answer struct {
	reply any
	err   error // the future's own error: a timeout, a dead letter
}

func (a *asker) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*askMsg); ok {
		f := ctx.RequestFuture(m.to, m.msg, 10*time.Second)
		ctx.ReenterAfter(f, func(res any, err error) { m.out <- answer{res, err} })
	}
}

// client drives an asker from a test.
type client struct {
	t   testing.TB
	s   *supervisor.Supervisor
	pid *actor.PID
}

// newClient spawns an asker in s's actor system, stopped before s is (cleanups run last
// registered first, and s was started before).
func newClient(t testing.TB, s *supervisor.Supervisor) *client {
	t.Helper()
	root := s.System().Root
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &asker{} }))
	t.Cleanup(func() { root.StopFuture(pid).Wait() })
	return &client{t: t, s: s, pid: pid}
}

// send makes the asker ask msg of to, and returns where its answer will come.
func (c *client) send(to *actor.PID, msg any) <-chan answer {
	out := make(chan answer, 1)
	c.s.System().Root.Send(c.pid, &askMsg{to: to, msg: msg, out: out})
	return out
}

func (c *client) ask(to *actor.PID, msg any) answer {
	c.t.Helper()
	return recv(c.t, c.send(to, msg), "answer")
}

// open asks the supervisor to open a connection and returns its answer.
func (c *client) open(m *supervisor.OpenConn) *supervisor.ConnOpened {
	c.t.Helper()
	a := c.ask(c.s.PID(), m)
	if a.err != nil {
		c.t.Fatalf("OpenConn: %v", a.err)
	}
	r, ok := a.reply.(*supervisor.ConnOpened)
	if !ok {
		c.t.Fatalf("OpenConn answered %T %+v", a.reply, a.reply)
	}
	return r
}

// mustOpen opens a connection by message and fails the test on an error.
func (c *client) mustOpen(m *supervisor.OpenConn) *actor.PID {
	c.t.Helper()
	r := c.open(m)
	if r.Err != nil || r.PID == nil {
		c.t.Fatalf("OpenConn %s: %v (PID %v)", m.DSN, r.Err, r.PID)
	}
	return r.PID
}

// exec asks pid to run sql: the error of the future or of the reply.
func (c *client) exec(pid *actor.PID, sql string, args ...any) error {
	c.t.Helper()
	a := c.ask(pid, &messages.Exec{SQL: sql, Args: args})
	if a.err != nil {
		return a.err
	}
	r, ok := a.reply.(*messages.ExecReply)
	if !ok {
		c.t.Fatalf("Exec answered %T %+v", a.reply, a.reply)
	}
	return r.Err
}

// query asks pid for every row of q.
func (c *client) query(pid *actor.PID, q *messages.Query) ([]messages.Row, error) {
	c.t.Helper()
	q.FetchSize = -1
	a := c.ask(pid, q)
	if a.err != nil {
		return nil, a.err
	}
	r, ok := a.reply.(*messages.Rows)
	if !ok {
		c.t.Fatalf("Query answered %T %+v", a.reply, a.reply)
	}
	return r.Rows, r.Err
}

func (c *client) count(pid *actor.PID) int64 {
	c.t.Helper()
	rows, err := c.query(pid, &messages.Query{SQL: "SELECT count(*) FROM t", ReadOnly: true})
	if err != nil || len(rows) != 1 {
		c.t.Fatalf("count: %v, %v", rows, err)
	}
	return rows[0].Index(0).(int64)
}

// closeConn sends Close and returns the Ack's error.
func (c *client) closeConn(pid *actor.PID) error {
	c.t.Helper()
	a := c.ask(pid, &messages.Close{})
	if a.err != nil {
		return a.err
	}
	ack, ok := a.reply.(*messages.Ack)
	if !ok {
		c.t.Fatalf("Close answered %T %+v", a.reply, a.reply)
	}
	return ack.Err
}

// gone reports whether a request to a closed connection failed as it must: a dead letter
// (the actor is gone), or ErrClosed (it was still stopping).
func gone(err error) bool {
	return errors.Is(err, actor.ErrDeadLetter) || errors.Is(err, messages.ErrClosed)
}

// ledger is an application actor that keeps a database it opened by message: it opens it
// when it starts, then on each *record inserts a row and reports the row count, on *closeLedger
// closes the database. Its Receive never blocks: every answer comes back through ReenterAfter.
type ledger struct {
	sup, db *actor.PID
	dsn     string
	out     chan<- string // what happened, step by step
}

type (
	record      struct{ v int }
	closeLedger struct{}
)

func (l *ledger) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		f := ctx.RequestFuture(l.sup, &supervisor.OpenConn{DSN: l.dsn, ID: 7}, 10*time.Second)
		ctx.ReenterAfter(f, func(res any, err error) {
			r, ok := res.(*supervisor.ConnOpened)
			switch {
			case err != nil:
				l.out <- "open: " + err.Error()
			case !ok || r.Err != nil || r.PID == nil || r.ID != 7 || r.DSN != l.dsn:
				l.out <- "open: bad reply"
			default:
				l.db = r.PID
				f := ctx.RequestFuture(l.db, &messages.ExecScript{SQL: "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"}, 10*time.Second)
				ctx.ReenterAfter(f, func(res any, err error) { l.out <- outcome("opened", res, err) })
			}
		})
	case *record:
		f := ctx.RequestFuture(l.db, &messages.Exec{SQL: "INSERT INTO t (v) VALUES (?)", Args: []any{m.v}}, 10*time.Second)
		ctx.ReenterAfter(f, func(res any, err error) {
			if s := outcome("inserted", res, err); s != "inserted" {
				l.out <- s
				return
			}
			f := ctx.RequestFuture(l.db, &messages.Query{SQL: "SELECT count(*) FROM t"}, 10*time.Second)
			ctx.ReenterAfter(f, func(res any, err error) {
				if rows, ok := res.(*messages.Rows); ok && err == nil && rows.Err == nil && len(rows.Rows) == 1 {
					l.out <- "rows " + strings.Repeat("|", int(rows.Rows[0].Index(0).(int64)))
					return
				}
				l.out <- outcome("count", res, err)
			})
		})
	case *closeLedger:
		f := ctx.RequestFuture(l.db, &messages.Close{}, 10*time.Second)
		ctx.ReenterAfter(f, func(res any, err error) { l.out <- outcome("closed", res, err) })
	}
}

// outcome names what a future answered: ok when it is a reply without error, else the error.
func outcome(ok string, res any, err error) string {
	if err != nil {
		return ok + ": " + err.Error()
	}
	r, isReply := res.(messages.Reply)
	if !isReply {
		return ok + ": not a reply"
	}
	if r.ReplyErr() != nil {
		return ok + ": " + r.ReplyErr().Error()
	}
	return ok
}

// An application actor opens a connection by message, uses it, and closes it by message.
func TestOpenConnFromAnActor(t *testing.T) {
	s := startWithSystem(t, supervisor.Config{})
	out := make(chan string, 8)
	l := &ledger{sup: s.PID(), dsn: filepath.Join(t.TempDir(), "ledger.db"), out: out}
	root := s.System().Root
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return l }))
	t.Cleanup(func() { root.StopFuture(pid).Wait() })

	if got := recv(t, out, "the actor's report"); got != "opened" {
		t.Fatal(got)
	}
	if st := s.Stats(); st.OpenConns != 1 || st.Opened != 1 {
		t.Fatalf("stats after the open: %+v", st)
	}
	for i, want := range []string{"rows |", "rows ||", "rows |||"} {
		root.Send(pid, &record{v: i})
		if got := recv(t, out, "the actor's report"); got != want {
			t.Fatalf("record %d: %s, want %s", i, got, want)
		}
	}
	root.Send(pid, &closeLedger{})
	if got := recv(t, out, "the actor's report"); got != "closed" {
		t.Fatal(got)
	}
	// The Close answered; the actor then stops, and the supervisor sees it stop. A request
	// then is a dead letter. (One sent between the Close's reply and the stop is left to the
	// connection's mailbox drain at stop, not tested here.)
	waitFor(t, "OpenConns back to 0", func() bool { return s.Stats().OpenConns == 0 })
	if st := s.Stats(); st.Opened != 1 {
		t.Fatalf("stats after Close: %+v", st)
	}
	c := newClient(t, s)
	if err := c.exec(l.db, "SELECT 1"); !gone(err) {
		t.Fatalf("Exec after Close: %v", err)
	}
}

// A connection opened by message has no handle: dropping everything but its PID and
// collecting garbage leaves it open, and nothing warns.
func TestOpenConnSurvivesGarbageCollection(t *testing.T) {
	logs := &logRecords{}
	s := startWithSystem(t, supervisor.Config{Logger: slog.New(logs)})
	c := newClient(t, s)
	pid := c.mustOpen(&supervisor.OpenConn{DSN: filepath.Join(t.TempDir(), "gc.db")})
	if err := c.exec(pid, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		runtime.GC()
	}
	if err := c.exec(pid, "INSERT INTO t (v) VALUES (1)"); err != nil {
		t.Fatalf("after GC: %v", err)
	}
	if n := c.count(pid); n != 1 {
		t.Fatalf("count %d", n)
	}
	if st := s.Stats(); st.OpenConns != 1 {
		t.Fatalf("OpenConns %d after GC, want 1", st.OpenConns)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, r := range logs.records {
		if r.Level >= slog.LevelWarn {
			t.Errorf("logged %s: %s", r.Level, r.Message)
		}
	}
}

func TestOpenConnNamed(t *testing.T) {
	s := startWithSystem(t, supervisor.Config{})
	c := newClient(t, s)
	dir := t.TempDir()
	r := c.open(&supervisor.OpenConn{DSN: filepath.Join(dir, "orders.db"), Name: "orders", ID: 1})
	if r.Err != nil || r.ID != 1 {
		t.Fatalf("open: %+v", r)
	}
	// The PID is the documented one: a program can build it from the supervisor's.
	want := actor.NewPID(s.PID().Address, s.PID().Id+"/conn-orders")
	if !r.PID.Equal(want) || !s.ConnPID("orders").Equal(want) {
		t.Fatalf("PID %v, ConnPID %v; want %v", r.PID, s.ConnPID("orders"), want)
	}
	if err := c.exec(s.ConnPID("orders"), "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
		t.Fatal(err)
	}

	// A name in use.
	dup := c.open(&supervisor.OpenConn{DSN: filepath.Join(dir, "other.db"), Name: "orders", ID: 2})
	if dup.PID != nil || !errors.Is(dup.Err, actor.ErrNameExists) || dup.ID != 2 {
		t.Fatalf("duplicate name: %+v", dup)
	}
	// Bad names, refused before anything is opened.
	for _, name := range []string{"a/b", "with space", "$1", "é", strings.Repeat("x", 129), "a\x00"} {
		r := c.open(&supervisor.OpenConn{DSN: filepath.Join(dir, "bad.db"), Name: name})
		var ae *messages.ArgError
		if r.PID != nil || !errors.Is(r.Err, messages.ErrBadArgument) || !errors.As(r.Err, &ae) {
			t.Errorf("name %q: %+v", name, r)
		}
	}
	if st := s.Stats(); st.OpenConns != 1 || st.Opened != 1 {
		t.Fatalf("stats after refused opens: %+v", st)
	}
	// The longest good name, and every character allowed.
	long := strings.Repeat("x", 128)
	c.mustOpen(&supervisor.OpenConn{DSN: filepath.Join(dir, "long.db"), Name: long})
	c.mustOpen(&supervisor.OpenConn{DSN: filepath.Join(dir, "chars.db"), Name: "Az09._-"})

	// Once closed, the name is free again, at once.
	if err := c.closeConn(r.PID); err != nil {
		t.Fatal(err)
	}
	again := c.mustOpen(&supervisor.OpenConn{DSN: filepath.Join(dir, "orders.db"), Name: "orders"})
	if !again.Equal(want) {
		t.Fatalf("reopened as %v, want %v", again, want)
	}
	if _, err := c.query(again, &messages.Query{SQL: "SELECT * FROM t"}); err != nil {
		t.Fatalf("the reopened database: %v", err)
	}
}

func TestOpenConnError(t *testing.T) {
	s := startWithSystem(t, supervisor.Config{})
	c := newClient(t, s)
	c.mustOpen(&supervisor.OpenConn{DSN: filepath.Join(t.TempDir(), "ok.db")})
	before := s.Stats()
	dsn := filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
	r := c.open(&supervisor.OpenConn{DSN: dsn, ID: 42})
	if r.Err == nil || r.PID != nil || r.ID != 42 || r.DSN != dsn {
		t.Fatalf("open in a missing directory: %+v", r)
	}
	if !errors.Is(r.Err, messages.ErrCantOpen) {
		t.Errorf("error %v, want one wrapping ErrCantOpen", r.Err)
	}
	// A done ctx: its error, and nothing opened.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = c.open(&supervisor.OpenConn{Ctx: ctx, DSN: filepath.Join(t.TempDir(), "cancelled.db")})
	if r.PID != nil || !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("open with a done ctx: %+v", r)
	}
	// A Deadline passed: the same, with the deadline's error.
	r = c.open(&supervisor.OpenConn{Deadline: time.Now().Add(-time.Second), DSN: filepath.Join(t.TempDir(), "late.db")})
	if r.PID != nil || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("open past its Deadline: %+v", r)
	}
	if st := s.Stats(); st.OpenConns != before.OpenConns || st.Opened != before.Opened {
		t.Fatalf("stats %+v after failed opens, want those before them %+v", st, before)
	}
}

// A connection opened by message is supervised as any: once crashes spent its restart
// budget, its PID answers ErrClosed and ErrCrashed, and keeps its name, until it gets a Close.
func TestOpenConnStoppedByCrashesKeepsItsNameUntilClose(t *testing.T) {
	s := startWithSystem(t, supervisor.Config{MaxRestarts: -1})
	c := newClient(t, s)
	dsn := filepath.Join(t.TempDir(), "fragile.db")
	pid := c.mustOpen(&supervisor.OpenConn{DSN: dsn, Name: "fragile"})
	a := c.ask(pid, &messages.CreateFunction{Name: "boom", NArgs: 0, Fn: func([]any) (any, error) { panic("boom!") }})
	if a.err != nil || a.reply.(messages.Reply).ReplyErr() != nil {
		t.Fatalf("CreateFunction: %+v, %v", a.reply, a.err)
	}
	if err := c.exec(pid, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("the crash: %v", err)
	}
	if err := c.exec(pid, "SELECT 1"); !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("after the restart budget was spent: %v", err)
	}
	if r := c.open(&supervisor.OpenConn{DSN: dsn, Name: "fragile"}); !errors.Is(r.Err, actor.ErrNameExists) || r.PID != nil {
		t.Fatalf("open under the name of a connection crashes stopped: %+v", r)
	}
	// Once the supervisor saw it stop, its PID still answers; a Close frees it.
	waitFor(t, "the crashed connection stopped", func() bool { return s.Stats().OpenConns == 0 })
	if err := c.exec(pid, "SELECT 1"); !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("once stopped: %v", err)
	}
	if err := c.closeConn(pid); err != nil {
		t.Fatal(err)
	}
	again := c.mustOpen(&supervisor.OpenConn{DSN: dsn, Name: "fragile"})
	if err := c.exec(again, "SELECT 1"); err != nil {
		t.Fatalf("reopened under its name: %v", err)
	}
}

// An OpenConn sent without a sender cannot be answered: nothing is opened, and a warning is
// logged.
func TestOpenConnWithoutSender(t *testing.T) {
	logs := &logRecords{}
	s := startWithSystem(t, supervisor.Config{Logger: slog.New(logs)})
	c := newClient(t, s)
	s.System().Root.Send(s.PID(), &supervisor.OpenConn{DSN: filepath.Join(t.TempDir(), "nobody.db")})
	// Answered after the one before it was handled: the supervisor serves its mailbox in order.
	if r := c.open(&supervisor.OpenConn{DSN: "x.db", Name: "bad name"}); !errors.Is(r.Err, messages.ErrBadArgument) {
		t.Fatalf("bad name: %+v", r)
	}
	if st := s.Stats(); st.OpenConns != 0 || st.Opened != 0 {
		t.Fatalf("stats %+v: an OpenConn nobody can be told of was opened", st)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	warned := false
	for _, r := range logs.records {
		warned = warned || (r.Level == slog.LevelWarn && strings.Contains(r.Message, "OpenConn") && strings.Contains(r.Message, "sender"))
	}
	if !warned {
		t.Fatal("no warning about an OpenConn without a sender")
	}
}

func TestOpenPoolConnsByMessage(t *testing.T) {
	s := startWithSystem(t, supervisor.Config{})
	c := newClient(t, s)
	dsn := filepath.Join(t.TempDir(), "pool.db")
	a := c.ask(s.PID(), &supervisor.OpenPoolConns{DSN: dsn, Readers: 2, Name: "accounts", ID: 9})
	if a.err != nil {
		t.Fatal(a.err)
	}
	p, ok := a.reply.(*supervisor.PoolOpened)
	if !ok || p.Err != nil || p.ID != 9 || p.Writer == nil || len(p.Readers) != 2 {
		t.Fatalf("OpenPoolConns answered %T %+v", a.reply, a.reply)
	}
	if !p.Writer.Equal(s.ConnPID("accounts-writer")) || !p.Readers[0].Equal(s.ConnPID("accounts-reader-0")) ||
		!p.Readers[1].Equal(s.ConnPID("accounts-reader-1")) {
		t.Fatalf("PIDs %v %v", p.Writer, p.Readers)
	}
	if st := s.Stats(); st.OpenConns != 3 || st.Opened != 3 {
		t.Fatalf("stats %+v, want 3 connections", st)
	}
	if err := c.exec(p.Writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if err := c.exec(p.Writer, "INSERT INTO t (v) VALUES (?)", 1); err != nil {
		t.Fatal(err)
	}
	for i, r := range p.Readers {
		if n := c.count(r); n != 1 {
			t.Fatalf("reader %d counts %d", i, n)
		}
		// A write sent to a reader fails, and changes nothing.
		if err := c.exec(r, "INSERT INTO t (v) VALUES (2)"); !errors.Is(err, messages.ErrReadOnly) && !errors.Is(err, messages.ErrNotReadOnly) {
			t.Fatalf("a write on reader %d: %v", i, err)
		}
		if _, err := c.query(r, &messages.Query{SQL: "INSERT INTO t (v) VALUES (3) RETURNING id", ReadOnly: true}); !errors.Is(err, messages.ErrNotReadOnly) {
			t.Fatalf("a read-only query that writes, on reader %d: %v", i, err)
		}
		if err := c.exec(r, "PRAGMA query_only = 0"); !errors.Is(err, messages.ErrNotReadOnly) {
			t.Fatalf("a pragma on reader %d: %v", i, err)
		}
	}
	// The writer takes no transaction of its own SQL: it is shared; Begin opens one.
	if err := c.exec(p.Writer, "BEGIN"); !errors.Is(err, messages.ErrInTransaction) {
		t.Fatalf("BEGIN on the writer: %v", err)
	}
	if n := c.count(p.Writer); n != 1 {
		t.Fatalf("count %d after refused writes", n)
	}
	// Members live until each is closed.
	for _, m := range append([]*actor.PID{p.Writer}, p.Readers...) {
		if err := c.closeConn(m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the pool's connections closed", func() bool { return s.Stats().OpenConns == 0 })

	// A database not in WAL mode gets no readers; a bad reader count or name is refused.
	r := c.ask(s.PID(), &supervisor.OpenPoolConns{DSN: "file:/openpool?vfs=memdb", Readers: 2}).reply.(*supervisor.PoolOpened)
	if r.Err != nil || r.Writer == nil || len(r.Readers) != 0 {
		t.Fatalf("memdb pool: %+v", r)
	}
	for _, bad := range []*supervisor.OpenPoolConns{
		{DSN: dsn, Readers: -1},
		{DSN: dsn, Readers: 1, Name: "no/slash"},
		{DSN: ":memory:", Readers: 1},
	} {
		r := c.ask(s.PID(), bad).reply.(*supervisor.PoolOpened)
		if !errors.Is(r.Err, messages.ErrBadArgument) || r.Writer != nil || r.Readers != nil {
			t.Errorf("%+v: %+v", bad, r)
		}
	}
	waitFor(t, "only the memdb pool's writer open", func() bool { return s.Stats().OpenConns == 1 })
}

// Stop closes connections opened by message, and an OpenConn in flight gets ErrClosed, with
// nothing left behind (TestMain checks for leaked goroutines).
func TestStopClosesConnectionsOpenedByMessage(t *testing.T) {
	s := startWithSystem(t, supervisor.Config{})
	c := newClient(t, s)
	dir := t.TempDir()
	var open []*actor.PID
	for _, name := range []string{"a", "b"} {
		pid := c.mustOpen(&supervisor.OpenConn{DSN: filepath.Join(dir, name+".db"), Name: name})
		if err := c.exec(pid, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
			t.Fatal(err)
		}
		open = append(open, pid)
	}
	a := c.ask(s.PID(), &supervisor.OpenPoolConns{DSN: filepath.Join(dir, "pool.db"), Readers: 1})
	if p := a.reply.(*supervisor.PoolOpened); p.Err != nil {
		t.Fatal(p.Err)
	} else {
		open = append(open, p.Writer, p.Readers[0])
	}

	// Opens held up: a connection of another supervisor (which this Stop leaves alone) keeps
	// the file locked, not in WAL mode, so the new ones wait in SQLite's busy handler to
	// switch it to WAL: for a minute, unless Stop cuts them short.
	lockedDSN := filepath.Join(dir, "locked.db")
	holder, err := start(t, supervisor.Config{}).Open(deadline(t), lockedDSN, actors.WithPragma("journal_mode", "DELETE"))
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.BeginExclusive(deadline(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(deadline(t), "CREATE TABLE t (v)"); err != nil {
		t.Fatal(err)
	}
	patient := []actors.Option{actors.WithBusyTimeout(time.Minute)}
	held := c.send(s.PID(), &supervisor.OpenConn{DSN: lockedDSN, Options: patient, ID: 1})
	heldPool := c.send(s.PID(), &supervisor.OpenPoolConns{DSN: lockedDSN, Readers: 1, Options: patient, ID: 2})
	// Answered once the two before it were handled, and their opens are under way.
	if r := c.open(&supervisor.OpenConn{DSN: "x.db", Name: "bad name"}); !errors.Is(r.Err, messages.ErrBadArgument) {
		t.Fatalf("bad name: %+v", r)
	}
	for _, ch := range []<-chan answer{held, heldPool} {
		select {
		case a := <-ch:
			t.Fatalf("an open of a locked file answered before Stop: %+v, %v", a.reply, a.err)
		default:
		}
	}

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stopped <- s.Stop(ctx)
	}()
	if a := recv(t, held, "answer"); a.err != nil || !errors.Is(a.reply.(*supervisor.ConnOpened).Err, messages.ErrClosed) || a.reply.(*supervisor.ConnOpened).PID != nil {
		t.Fatalf("OpenConn in flight at Stop: %+v, %v", a.reply, a.err)
	}
	if a := recv(t, heldPool, "answer"); a.err != nil || !errors.Is(a.reply.(*supervisor.PoolOpened).Err, messages.ErrClosed) || a.reply.(*supervisor.PoolOpened).Writer != nil {
		t.Fatalf("OpenPoolConns in flight at Stop: %+v, %v", a.reply, a.err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not return")
	}
	if st := s.Stats(); st.OpenConns != 0 {
		t.Fatalf("stats after Stop: %+v", st)
	}
	for _, pid := range open {
		if err := c.exec(pid, "SELECT 1"); !gone(err) {
			t.Fatalf("%v after Stop: %v", pid, err)
		}
	}
	// The supervisor actor is gone too: a dead letter.
	if a := c.ask(s.PID(), &supervisor.OpenConn{DSN: filepath.Join(dir, "late.db")}); !gone(a.err) {
		t.Fatalf("OpenConn after Stop: %+v, %v", a.reply, a.err)
	}
}
