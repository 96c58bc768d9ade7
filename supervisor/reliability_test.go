package supervisor_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// boomOn registers boom_on(x), which returns x, or panics when x is key.
func boomOn(t testing.TB, ctx context.Context, create func(context.Context, string, int, func([]any) (any, error), ...actors.FuncOption) error, key int64) {
	t.Helper()
	err := create(ctx, "boom_on", 1, func(args []any) (any, error) {
		if args[0] == key {
			panic("boom_on: crash key")
		}
		return args[0], nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A crash inside a request that opened its own transaction (ExecMany) must not report a
// transaction lost: no caller opened one, and nobody would ever roll it back.
func TestCrashInsideExecManyLeavesNoLostTransaction(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	boomOn(t, ctx, c.CreateFunction, 2)
	_, err := c.ExecMany(ctx, "INSERT INTO t (v) VALUES (boom_on(?))", [][]any{{1}, {2}, {3}})
	if !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("exec many: %v, want ErrCrashed", err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (10)"); err != nil {
		t.Fatalf("exec after a crash inside ExecMany: %v", err)
	}
	if in, err := c.InTransaction(ctx); err != nil || in {
		t.Fatalf("in transaction: %v, %v; want false, nil", in, err)
	}
	if n := count(t, c); n != 1 {
		t.Fatalf("%d rows; want only the one inserted after the crash (ExecMany is all or nothing)", n)
	}

	// The same through a pool's writer, which Pool.Tx could not clear either.
	p, err := s.OpenPool(ctx, c.DSN(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	boomOn(t, ctx, p.CreateFunction, 2)
	if _, err := p.ExecMany(ctx, "INSERT INTO t (v) VALUES (boom_on(?))", [][]any{{1}, {2}}); !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("pool exec many: %v, want ErrCrashed", err)
	}
	if _, err := p.Exec(ctx, "INSERT INTO t (v) VALUES (11)"); err != nil {
		t.Fatalf("pool exec after a crash inside ExecMany: %v", err)
	}
	err = p.Tx(ctx, func(w *actors.Conn) error {
		_, err := w.Exec(ctx, "INSERT INTO t (v) VALUES (12)")
		return err
	})
	if err != nil {
		t.Fatalf("pool tx after a crash inside ExecMany: %v", err)
	}
	if n := count(t, c); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
}

// A statement refused for holding a second statement must change nothing: SQLite applies
// some pragmas while preparing them, so the tail must be checked without preparing it.
func TestRefusedMultipleStatementsChangeNothing(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	pragma := func(name string) any {
		t.Helper()
		row, err := c.QueryRow(ctx, "PRAGMA "+name)
		if err != nil {
			t.Fatal(err)
		}
		return row.Index(0)
	}
	for _, tc := range []struct{ tail, pragma string }{
		{"PRAGMA synchronous=OFF", "synchronous"},
		{"PRAGMA foreign_keys=OFF", "foreign_keys"},
		{"PRAGMA query_only=ON", "query_only"},
		{"PRAGMA busy_timeout=1", "busy_timeout"},
		{"/* c */ ; -- c\n PRAGMA cache_size=7", "cache_size"},
	} {
		before := pragma(tc.pragma)
		for _, run := range []func(sql string) error{
			func(sql string) error { _, err := c.Exec(ctx, sql); return err },
			func(sql string) error { _, err := c.Query(ctx, sql); return err },
			func(sql string) error { _, err := c.QueryRow(ctx, sql); return err },
			func(sql string) error { _, err := c.ExecMany(ctx, sql, [][]any{{}}); return err },
		} {
			err := run("INSERT INTO t (v) VALUES (1); " + tc.tail)
			if !errors.Is(err, messages.ErrMultipleStatements) {
				t.Fatalf("%q: %v, want ErrMultipleStatements", tc.tail, err)
			}
			if after := pragma(tc.pragma); after != before {
				t.Fatalf("refused %q changed %s from %v to %v", tc.tail, tc.pragma, before, after)
			}
		}
	}
	if n := count(t, c); n != 0 {
		t.Fatalf("%d rows: a refused statement ran", n)
	}
	// Trailing semicolons, spaces and comments are not a second statement.
	for _, tail := range []string{";", " ;; ", "-- done", "/* done */", "; /* unterminated", "\n\t;\r\n--x\n/**/;"} {
		if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1)"+tail); err != nil {
			t.Fatalf("tail %q: %v", tail, err)
		}
	}
}

// checkpointed reports whether PRAGMA wal_checkpoint(TRUNCATE) completed on c's database:
// false while another connection holds a read snapshot (a leaked cursor) or the write lock.
func checkpointed(t testing.TB, c *actors.Conn) bool {
	t.Helper()
	row, err := c.QueryRow(deadline(t), "PRAGMA wal_checkpoint(TRUNCATE)")
	if err != nil {
		t.Fatal(err)
	}
	return row.Index(0) == int64(0)
}

// done returns a context that is already cancelled.
func done() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// sentCtx tells when a handle waits for its reply, that is once its request was sent (the
// handle looks at ctx.Done() only then).
type sentCtx struct {
	context.Context
	once sync.Once
	sent chan struct{}
}

func (c *sentCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.sent) })
	return c.Context.Done()
}

// Releasing a resource never depends on the caller's ctx: a cursor, a blob, a transaction
// and a connection closed with a done ctx are released all the same.
func TestReleaseWithDoneCtx(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s, actors.WithFetchSize(2))
	ctx := deadline(t)
	other, err := s.Open(ctx, c.DSN(), actors.WithBusyTimeout(-1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecMany(ctx, "INSERT INTO t (v) VALUES (?)", [][]any{{1}, {2}, {3}, {4}, {5}}); err != nil {
		t.Fatal(err)
	}
	t.Run("cursor", func(t *testing.T) {
		cur, err := c.Query(ctx, "SELECT v FROM t")
		if err != nil {
			t.Fatal(err)
		}
		if checkpointed(t, other) {
			t.Fatal("the checkpoint completed although a cursor holds a snapshot: the test proves nothing")
		}
		if err := cur.Close(done()); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("close: %v", err)
		}
		if _, err := c.QueryRow(ctx, "SELECT 1"); err != nil { // served after the close
			t.Fatal(err)
		}
		if !checkpointed(t, other) {
			t.Fatal("a cursor closed with a done ctx still holds its snapshot")
		}
	})
	t.Run("skipped fetch", func(t *testing.T) {
		cur, err := c.Query(ctx, "SELECT v FROM t")
		if err != nil {
			t.Fatal(err)
		}
		// The fetch reaches the actor with its ctx done, while the actor is busy.
		entered, release := gate(t, c)
		go c.QueryRow(ctx, "SELECT wait_gate()")
		<-entered
		cctx, cancel := context.WithCancel(ctx)
		fctx := &sentCtx{Context: cctx, sent: make(chan struct{})}
		fetched := make(chan error, 1)
		go func() { _, err := cur.FetchAll(fctx); fetched <- err }()
		<-fctx.sent
		cancel()
		if err := <-fetched; !errors.Is(err, context.Canceled) {
			t.Fatalf("fetch: %v", err)
		}
		close(release)
		cur.Close(ctx)
		if _, err := c.QueryRow(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if !checkpointed(t, other) {
			t.Fatal("a cursor whose fetch was skipped still holds its snapshot")
		}
	})
	t.Run("blob", func(t *testing.T) {
		res, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (zeroblob(16))")
		if err != nil {
			t.Fatal(err)
		}
		bctx, cancel := context.WithCancel(ctx)
		b, err := c.OpenBlob(bctx, "t", "v", res.LastInsertID, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Write([]byte("0123456789abcdef")); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := b.Close(); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("close: %v", err)
		}
		if _, err := c.QueryRow(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Exec(ctx, "INSERT INTO t (v) VALUES (6)"); err != nil {
			t.Fatalf("a blob closed with a done ctx still holds the write lock: %v", err)
		}
		row, err := c.QueryRow(ctx, "SELECT CAST(v AS TEXT) FROM t WHERE id = ?", res.LastInsertID)
		if err != nil || row.Index(0) != "0123456789abcdef" {
			t.Fatalf("blob after close: %v, %v", row.Index(0), err)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		if err := c.BeginImmediate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (7)"); err != nil {
			t.Fatal(err)
		}
		if err := c.Rollback(done()); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("rollback: %v", err)
		}
		if in, err := c.InTransaction(ctx); err != nil || in {
			t.Fatalf("after a rollback with a done ctx: in transaction %v, %v", in, err)
		}
	})
	t.Run("conn", func(t *testing.T) {
		if err := c.Close(done()); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("close: %v", err)
		}
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("a connection closed with a done ctx did not stop")
		}
		if !checkpointed(t, other) {
			t.Fatal("checkpoint after close")
		}
	})
}

// finalPanics is an aggregate whose Final panics once armed: SQLite calls it when it resets a
// statement that stopped half-way through a window, so closing a cursor runs it.
type finalPanics struct {
	n     int64
	armed *atomic.Bool
}

func (p *finalPanics) Step([]any) error { p.n++; return nil }
func (p *finalPanics) Final() (any, error) {
	if p.armed.Load() {
		panic("Final called while closing")
	}
	return p.n, nil
}

// A panic while the connection closes its cursors and database (the caller's code runs
// there) must neither hang Close nor repeat on every restart.
func TestPanicWhileClosing(t *testing.T) {
	for _, how := range []string{"close", "crash", "stop"} {
		t.Run(how, func(t *testing.T) {
			s, err := supervisor.Start(context.Background(), supervisor.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
			c := open(t, s, actors.WithFetchSize(1))
			ctx := deadline(t)
			var armed atomic.Bool
			err = c.CreateAggregate(ctx, "total", 1, func() actors.Aggregate { return &finalPanics{armed: &armed} })
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ExecMany(ctx, "INSERT INTO t (v) VALUES (?)", [][]any{{1}, {2}, {3}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Query(ctx, "SELECT v, total(v) OVER (ORDER BY v ROWS UNBOUNDED PRECEDING) FROM t"); err != nil {
				t.Fatal(err)
			}
			armed.Store(true)
			switch how {
			case "close":
				err := c.Close(ctx)
				if err == nil || !strings.Contains(err.Error(), "Final called while closing") {
					t.Fatalf("close: %v, want the panic while closing", err)
				}
				if ctx.Err() != nil {
					t.Fatal("close hung")
				}
				<-c.Done()
			case "crash":
				if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
					t.Fatalf("crash: %v", err)
				}
				if n := count(t, c); n != 3 {
					t.Fatalf("%d rows after the restart, want 3", n)
				}
				if st := s.Stats(); st.Crashes != 1 || st.Restarts != 1 {
					t.Fatalf("stats %+v: want 1 crash and 1 restart (closing must not crash again)", st)
				}
			case "stop":
				if err := s.Stop(ctx); err != nil {
					t.Fatalf("stop: %v", err)
				}
				<-c.Done()
			}
		})
	}
}

// endedCtx is a ctx that ended in the window between the actor's last look at it and the
// reply reaching its caller: Done is closed, while Err, which the actor checks, still says
// nothing. It makes that race deterministic. waiting is closed when a handle first waits on
// Done, that is once it sent its request.
type endedCtx struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (c *endedCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	ch := make(chan struct{})
	close(ch)
	return ch
}

// Whenever BEGIN may have run, Pool.Tx must end the transaction: otherwise later pool writes
// report success inside it, and are rolled back at Close.
func TestPoolTxAlwaysEndsItsTransaction(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 1)
	ctx := deadline(t)
	inTx := func() bool {
		in, err := p.Writer().InTransaction(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	errBoom := errors.New("changed my mind")
	t.Run("nil ctx", func(t *testing.T) {
		//lint:ignore SA1012 a nil ctx is what is tested
		err := p.Tx(nil, func(c *actors.Conn) error {
			if _, err := c.Exec(ctx, "INSERT INTO log (note) VALUES ('nil ctx')"); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("tx: %v", err)
		}
		if inTx() {
			t.Fatal("writer left in a transaction")
		}
	})
	t.Run("ctx ends during BEGIN", func(t *testing.T) {
		entered, release := gate(t, p.Writer())
		go p.Writer().QueryRow(ctx, "SELECT wait_gate()")
		<-entered
		ran := make(chan error, 1)
		ended := &endedCtx{Context: ctx, waiting: make(chan struct{})}
		go func() {
			ran <- p.Tx(ended, func(*actors.Conn) error { return nil })
		}()
		<-ended.waiting // BEGIN is queued behind the gate, and its caller gives up
		close(release)
		if err := <-ran; err == nil {
			t.Fatal("Tx with an ended ctx returned nil")
		}
		if _, err := p.Exec(ctx, "INSERT INTO log (note) VALUES ('after')"); err != nil {
			t.Fatal(err)
		}
		if inTx() {
			t.Fatal("writer left in a transaction: the pool write above is not committed")
		}
	})
	row, err := p.QueryRow(ctx, "SELECT group_concat(note) FROM log")
	if err != nil || row.Index(0) != "after" {
		t.Fatalf("log %v, %v; want only the write after the Tx", row.Index(0), err)
	}
}

// A pool must not route reads to a reader that is gone (its restart budget spent): reads go
// to a live reader, or to the writer when none is left, and Stats says so.
func TestPoolSkipsStoppedReaders(t *testing.T) {
	s := start(t, supervisor.Config{MaxRestarts: -1})
	p := openPool(t, s, 2)
	ctx := deadline(t)
	if err := p.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom!") }); err != nil {
		t.Fatal(err)
	}
	read := func() error {
		_, err := p.QueryRow(ctx, "SELECT balance FROM accounts WHERE name = 'a'")
		return err
	}
	for stopped := 1; stopped <= 2; stopped++ {
		if _, err := p.QueryRow(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
			t.Fatalf("crash: %v", err)
		}
		for i := range 50 {
			if err := read(); err != nil {
				t.Fatalf("with %d of 2 readers stopped, read %d: %v", stopped, i, err)
			}
		}
		cur, err := p.Query(ctx, "SELECT name FROM accounts")
		if err != nil {
			t.Fatalf("query with %d readers stopped: %v", stopped, err)
		}
		if rows, err := cur.FetchAll(ctx); err != nil || len(rows) != 2 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		if st := p.Stats(); st.Readers != 2 || st.Stopped != stopped {
			t.Fatalf("stats %+v, want 2 readers of which %d stopped", st, stopped)
		}
	}
	// With every reader gone, the writer serves reads; a function registered now still works.
	if err := p.CreateFunction(ctx, "one", 0, func([]any) (any, error) { return int64(1), nil }); err != nil {
		t.Fatalf("create function with every reader stopped: %v", err)
	}
	if row, err := p.QueryRow(ctx, "SELECT one()"); err != nil || row.Index(0) != int64(1) {
		t.Fatalf("read on the writer: %v, %v", row, err)
	}
	if err := p.Backup(ctx, t.TempDir()+"/backup.db"); err != nil {
		t.Fatalf("backup with every reader stopped: %v", err)
	}
}

// notARequest is a message no actor of actorlite understands.
type notARequest struct{ N int }

// The supervisor actor answers what it does not understand, as a connection does: a sender
// waiting for a reply must never wait for its timeout.
func TestSupervisorAnswersUnknownRequests(t *testing.T) {
	s := start(t, supervisor.Config{})
	root := s.System().Root
	res, err := root.RequestFuture(s.PID(), &notARequest{N: 1}, 5*time.Second).Result()
	if err != nil {
		t.Fatalf("unknown message with a sender: %v", err)
	}
	if ack, ok := res.(*messages.Ack); !ok || !errors.Is(ack.Err, messages.ErrUnknownRequest) {
		t.Fatalf("reply %#v, want an Ack with ErrUnknownRequest", res)
	}
	// A connection request sent to the supervisor by mistake: its typed reply, with the error.
	res, err = root.RequestFuture(s.PID(), &messages.Exec{SQL: "SELECT 1"}, 5*time.Second).Result()
	if err != nil {
		t.Fatalf("exec sent to the supervisor: %v", err)
	}
	if r, ok := res.(*messages.ExecReply); !ok || !errors.Is(r.Err, messages.ErrUnknownRequest) {
		t.Fatalf("reply %#v, want an ExecReply with ErrUnknownRequest", res)
	}
	reply := make(chan messages.Reply, 1)
	root.Send(s.PID(), &messages.Query{SQL: "SELECT 1", ReplyTo: reply})
	select {
	case r := <-reply:
		if !errors.Is(r.ReplyErr(), messages.ErrUnknownRequest) {
			t.Fatalf("query sent to the supervisor: %v", r.ReplyErr())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a query sent to the supervisor was never answered")
	}
	root.Send(s.PID(), "no sender, no reply channel: ignored")
}

// A pool needs one database its members share: a private in-memory database, in any of its
// spellings, would give each member its own.
func TestOpenPoolRefusesPrivateMemory(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	for _, dsn := range []string{":memory:", "", "file::memory:", "file:x?mode=memory",
		"file:x?mode=memory&cache=shared", "file:private?vfs=memdb", "file:/pm?vfs=memdb&mode=memory"} {
		p, err := s.OpenPool(ctx, dsn, 2)
		if !errors.Is(err, messages.ErrBadArgument) || p != nil {
			t.Errorf("OpenPool(%q) = %p, %v; want ErrBadArgument", dsn, p, err)
		}
	}
	// The supervisor counts a connection closed once it has terminated, just after Close.
	waitFor(t, "every refused pool's writer to terminate", func() bool { return s.Stats().OpenConns == 0 })
}

// On the memdb VFS there is no WAL: a reader holding a snapshot would block the writer's
// commits (ErrBusy after the busy timeout). Such a pool reads on its writer instead.
func TestPoolWithoutWAL(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	p, err := s.OpenPool(ctx, "file:/pool-without-wal?vfs=memdb", 2, actors.WithBusyTimeout(100*time.Millisecond), actors.WithFetchSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.ExecScript(ctx, "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)"); err != nil {
		t.Fatal(err)
	}
	cur, err := p.Query(ctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	if _, err := cur.FetchOne(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exec(ctx, "INSERT INTO t VALUES (4)"); err != nil {
		t.Fatalf("commit with a cursor open: %v", err)
	}
	if st := p.Stats(); st.Readers != 0 {
		t.Fatalf("stats %+v: want no readers without WAL", st)
	}
}

// ask sends req to pid, as an actor would, and returns its reply's error.
func ask(t testing.TB, s *supervisor.Supervisor, pid *actor.PID, req messages.Request) messages.Reply {
	t.Helper()
	res, err := s.System().Root.RequestFuture(pid, req, 10*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.(messages.Reply)
}

// A pool's reader stays read-only, outside any transaction and with nothing attached,
// whatever SQL reaches it, through the pool or by message.
func TestPoolReadersStayReadOnly(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 2)
	ctx := deadline(t)
	attached := t.TempDir() + "/attached.db"
	for _, sql := range []string{
		"PRAGMA query_only=0", "PRAGMA query_only=''", "PRAGMA query_only(false)",
		"SELECT * FROM pragma_query_only(0)", "PRAGMA main.query_only=0",
		"ATTACH '" + attached + "' AS other", "BEGIN", "SAVEPOINT s", "BEGIN IMMEDIATE",
	} {
		for range 4 { // over both readers, whichever each call picks
			if cur, err := p.Query(ctx, sql); err == nil {
				cur.Close(ctx)
			}
		}
		// Whatever became of it on the writer, it must not have stayed there as a transaction.
		if in, _ := p.Writer().InTransaction(ctx); in {
			p.Writer().Rollback(ctx)
		}
	}
	for i, pid := range p.ReaderPIDs() {
		// By message, as an actor would: the reader refuses to write.
		r := ask(t, s, pid, &messages.Exec{SQL: "INSERT INTO log (note) VALUES ('from a reader')"})
		if r.ReplyErr() == nil {
			t.Errorf("reader %d wrote", i)
		}
		r = ask(t, s, pid, &messages.Exec{SQL: "PRAGMA query_only=0"})
		if !errors.Is(r.ReplyErr(), messages.ErrNotReadOnly) {
			t.Errorf("reader %d: PRAGMA query_only=0 by message: %v, want ErrNotReadOnly", i, r.ReplyErr())
		}
		if r := ask(t, s, pid, &messages.TxStatus{}).(*messages.TxStatusReply); r.Err != nil || r.InTransaction {
			t.Errorf("reader %d left in a transaction: %v %v", i, r.InTransaction, r.Err)
		}
		rows := ask(t, s, pid, &messages.Query{SQL: "SELECT count(*) FROM pragma_database_list"}).(*messages.Rows)
		if rows.Err != nil || len(rows.Rows) != 1 || rows.Rows[0].Index(0) != int64(1) {
			t.Errorf("reader %d: databases %v, %v; want main only", i, rows.Rows, rows.Err)
		}
		// Reading pragmas that name a table still run on the reader.
		rows = ask(t, s, pid, &messages.Query{SQL: "SELECT name FROM pragma_table_info('log') ORDER BY cid"}).(*messages.Rows)
		if rows.Err != nil || len(rows.Rows) != 2 {
			t.Errorf("reader %d: table_info: %v, %v", i, rows.Rows, rows.Err)
		}
		if r := ask(t, s, pid, &messages.Dump{W: io.Discard}); r.ReplyErr() != nil {
			t.Errorf("reader %d: dump: %v", i, r.ReplyErr())
		}
	}
	if n, err := p.QueryRow(ctx, "SELECT count(*) FROM log"); err != nil || n.Index(0) != int64(0) {
		t.Fatalf("log holds %v rows, %v: a reader wrote", n.Index(0), err)
	}
}

// Pool.SetAuthorizer covers every member: whichever serves a statement, it is asked.
func TestPoolSetAuthorizer(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 2)
	ctx := deadline(t)
	var asked atomic.Int64
	err := p.SetAuthorizer(ctx, func(r messages.AuthRequest) messages.AuthResult {
		asked.Add(1)
		if r.Table == "accounts" && (r.Action == "READ" || r.Action == "UPDATE") {
			return messages.AuthDeny
		}
		return messages.AuthOK
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if _, err := p.QueryRow(ctx, "SELECT balance FROM accounts"); !errors.Is(err, messages.ErrNotAuthorized) {
			t.Fatalf("read %d of a denied table: %v", i, err)
		}
	}
	if _, err := p.Exec(ctx, "UPDATE accounts SET balance = 0"); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("update of a denied table: %v", err)
	}
	if _, err := p.QueryRow(ctx, "SELECT count(*) FROM log"); err != nil {
		t.Fatalf("read of an allowed table: %v", err)
	}
	for i, pid := range p.ReaderPIDs() {
		rows := ask(t, s, pid, &messages.Query{SQL: "SELECT balance FROM accounts"}).(*messages.Rows)
		if !errors.Is(rows.Err, messages.ErrNotAuthorized) {
			t.Errorf("reader %d by message: %v, want ErrNotAuthorized", i, rows.Err)
		}
		// The reader's own guard still holds under the caller's authorizer.
		if r := ask(t, s, pid, &messages.Exec{SQL: "PRAGMA query_only=0"}); !errors.Is(r.ReplyErr(), messages.ErrNotReadOnly) {
			t.Errorf("reader %d: %v, want ErrNotReadOnly", i, r.ReplyErr())
		}
	}
	if err := p.SetAuthorizer(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := p.QueryRow(ctx, "SELECT balance FROM accounts"); err != nil {
			t.Fatalf("read after the authorizer was removed: %v", err)
		}
	}
}

// A pool's writer is shared: SQL that would leave it inside a transaction is refused, or the
// writes of every caller after it would run in that transaction and be rolled back at Close.
func TestPoolWriterNeverLeftInATransaction(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 1)
	ctx := deadline(t)
	for _, run := range []func() error{
		func() error { _, err := p.Exec(ctx, "BEGIN"); return err },
		func() error { _, err := p.Exec(ctx, "SAVEPOINT s"); return err },
		func() error { return p.ExecScript(ctx, "BEGIN; INSERT INTO log (note) VALUES ('in the script')") },
		func() error { _, err := p.Query(ctx, "BEGIN IMMEDIATE"); return err },
		func() error { _, err := p.QueryRow(ctx, "SAVEPOINT s"); return err },
	} {
		if err := run(); !errors.Is(err, messages.ErrInTransaction) {
			t.Fatalf("a statement leaving the writer in a transaction: %v, want ErrInTransaction", err)
		}
		if _, err := p.Exec(ctx, "INSERT INTO log (note) VALUES ('after')"); err != nil {
			t.Fatal(err)
		}
		if in, err := p.Writer().InTransaction(ctx); err != nil || in {
			t.Fatalf("writer in a transaction: %v, %v", in, err)
		}
	}
	// Pool.Tx still opens its transaction, and savepoints inside it work.
	err := p.Tx(ctx, func(w *actors.Conn) error {
		if _, err := w.Exec(ctx, "SAVEPOINT s"); err != nil {
			return err
		}
		if _, err := w.Exec(ctx, "INSERT INTO log (note) VALUES ('undone')"); err != nil {
			return err
		}
		if _, err := w.Exec(ctx, "ROLLBACK TO s"); err != nil {
			return err
		}
		_, err := w.Exec(ctx, "INSERT INTO log (note) VALUES ('tx')")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	row, err := p.QueryRow(ctx, "SELECT group_concat(note, ',') FROM log")
	if err != nil || row.Index(0) != "after,after,after,after,after,tx" {
		t.Fatalf("log %v, %v", row.Index(0), err)
	}
}

// A chunk of rows (a query's first reply, a cursor's fetch) is bounded in bytes, not only in
// rows: 64 rows of 1 MiB would be 64 MiB in one message.
func TestRowChunksBoundedByBytes(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	const rows, size = 12, 1 << 20
	for range rows {
		if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (randomblob(?))", size); err != nil {
			t.Fatal(err)
		}
	}
	limit := sqlitewasm.ChunkBytes/size + 1
	r := ask(t, s, c.PID(), &messages.Query{SQL: "SELECT v FROM t"}).(*messages.Rows)
	if r.Err != nil || len(r.Rows) == 0 || len(r.Rows) > limit || r.Done {
		t.Fatalf("first chunk: %d rows of 1 MiB (done %v), %v; want 1 to %d", len(r.Rows), r.Done, r.Err, limit)
	}
	f := ask(t, s, c.PID(), &messages.Fetch{Cursor: r.Cursor, N: 1000}).(*messages.Rows)
	if f.Err != nil || len(f.Rows) == 0 || len(f.Rows) > limit {
		t.Fatalf("fetch: %d rows of 1 MiB, %v; want 1 to %d", len(f.Rows), f.Err, limit)
	}
	ask(t, s, c.PID(), &messages.CloseCursor{Cursor: r.Cursor})
	// The handles fetch as many chunks as they need.
	cur, err := c.Query(ctx, "SELECT v FROM t")
	if err != nil {
		t.Fatal(err)
	}
	all, err := cur.FetchMany(ctx, rows)
	if err != nil || len(all) != rows {
		t.Fatalf("FetchMany(%d): %d rows, %v", rows, len(all), err)
	}
	if n, err := c.QueryAll(ctx, "SELECT v FROM t"); err != nil || len(n) != rows {
		t.Fatalf("QueryAll: %d rows, %v", len(n), err)
	}
}

// Every call accepts a nil ctx (as context.Background): none may panic in the caller.
func TestNilCtxEverywhere(t *testing.T) {
	var ctx context.Context // what a caller passing no ctx passes
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: t.TempDir() + "/events.db"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	c, err := s.Open(ctx, t.TempDir()+"/nil.db", actors.WithFetchSize(1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.OpenPool(ctx, t.TempDir()+"/nilpool.db", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ExecScript(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v); INSERT INTO t (v) VALUES (1), (2), (3), (zeroblob(4))"); err != nil {
		t.Fatal(err)
	}
	query := func() *actors.Cursor {
		cur, err := c.Query(ctx, "SELECT v FROM t")
		if err != nil {
			t.Fatal(err)
		}
		return cur
	}
	for name, call := range map[string]func() error{
		"Exec":      func() error { _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (5)"); return err },
		"ExecMany":  func() error { _, err := c.ExecMany(ctx, "INSERT INTO t (v) VALUES (?)", [][]any{{6}}); return err },
		"QueryRow":  func() error { _, err := c.QueryRow(ctx, "SELECT 1"); return err },
		"QueryAll":  func() error { _, err := c.QueryAll(ctx, "SELECT 1"); return err },
		"FetchOne":  func() error { cur := query(); cur.FetchOne(ctx); _, err := cur.FetchOne(ctx); return err },
		"FetchMany": func() error { _, err := query().FetchMany(ctx, 3); return err },
		"FetchAll":  func() error { _, err := query().FetchAll(ctx); return err },
		"All": func() error {
			for _, err := range query().All(ctx) {
				return err
			}
			return nil
		},
		"Cursor.Close": func() error { return query().Close(ctx) },
		"Tx": func() error {
			if err := c.Begin(ctx); err != nil {
				return err
			}
			if err := c.Rollback(ctx); err != nil {
				return err
			}
			_, err := c.InTransaction(ctx)
			return err
		},
		"Blob": func() error {
			b, err := c.OpenBlob(ctx, "t", "v", 4, true)
			if err != nil {
				return err
			}
			if _, err := b.Write([]byte("abcd")); err != nil {
				return err
			}
			return b.Close()
		},
		"Dump":        func() error { return c.Dump(ctx, io.Discard) },
		"Backup":      func() error { return c.Backup(ctx, t.TempDir()+"/copy.db") },
		"InsertEvent": func() error { return s.InsertEvent(ctx, messages.Event{UserID: "u", Name: "n"}) },
		"Pool": func() error {
			if _, err := p.Exec(ctx, "CREATE TABLE IF NOT EXISTS x (v)"); err != nil {
				return err
			}
			if _, err := p.QueryRow(ctx, "SELECT count(*) FROM x"); err != nil {
				return err
			}
			return p.Tx(ctx, func(w *actors.Conn) error { _, err := w.Exec(ctx, "INSERT INTO x VALUES (1)"); return err })
		},
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s with a nil ctx panicked: %v", name, p)
				}
			}()
			if err := call(); err != nil {
				t.Errorf("%s with a nil ctx: %v", name, err)
			}
		}()
	}
	if err := p.Close(ctx); err != nil {
		t.Error(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Error(err)
	}
}

// A crash while serving Commit or Rollback ends the transaction with the crashed instance:
// the call's own ErrCrashed says so, and no ErrTransactionLost follows (found by the crash
// storm: a Pool.Tx whose Rollback crashed left every later pool write failing).
func TestCrashWhileEndingATransaction(t *testing.T) {
	for _, end := range []string{"commit", "rollback"} {
		t.Run(end, func(t *testing.T) {
			s := start(t, supervisor.Config{})
			var armed atomic.Bool
			c := open(t, s, actors.WithFaultHook(func(req messages.Request) {
				switch req.(type) {
				case *messages.Commit, *messages.Rollback:
					if armed.CompareAndSwap(true, false) {
						panic("crash while ending the transaction")
					}
				}
			}))
			ctx := deadline(t)
			if err := c.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			armed.Store(true)
			var err error
			if end == "commit" {
				err = c.Commit(ctx)
			} else {
				err = c.Rollback(ctx)
			}
			if !errors.Is(err, messages.ErrCrashed) {
				t.Fatalf("%s: %v, want ErrCrashed", end, err)
			}
			if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (2)"); err != nil {
				t.Fatalf("exec after a crash that ended the transaction: %v", err)
			}
			if n := count(t, c); n != 1 {
				t.Fatalf("%d rows, want 1: nothing of the crashed transaction", n)
			}
		})
	}
	// Through a pool: Tx's rollback crashes, and the pool goes on.
	s := start(t, supervisor.Config{})
	var armed atomic.Bool
	p, err := s.OpenPool(deadline(t), t.TempDir()+"/p.db", 1, actors.WithFaultHook(func(req messages.Request) {
		if _, ok := req.(*messages.Rollback); ok && armed.CompareAndSwap(true, false) {
			panic("crash in Tx's rollback")
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := deadline(t)
	if err := p.ExecScript(ctx, "CREATE TABLE t (v)"); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	errFn := errors.New("roll back")
	if err := p.Tx(ctx, func(w *actors.Conn) error { w.Exec(ctx, "INSERT INTO t VALUES (1)"); return errFn }); !errors.Is(err, errFn) {
		t.Fatalf("tx: %v", err)
	}
	if _, err := p.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatalf("pool write after a Tx whose rollback crashed: %v", err)
	}
}

// A crash while serving Close still closes the connection: restarting it would leave Close
// waiting for a stop that never comes (found by the crash storm).
func TestCrashWhileClosing(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s, actors.WithFaultHook(func(req messages.Request) {
		if _, ok := req.(*messages.Close); ok {
			panic("crash in Close")
		}
	}))
	ctx := deadline(t)
	err := c.Close(ctx)
	if !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("close: %v, want the crash reported", err)
	}
	if ctx.Err() != nil {
		t.Fatal("close waited for its ctx to end")
	}
	<-c.Done()
	if _, err := c.Exec(ctx, "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("after close: %v, want ErrClosed", err)
	}
	waitFor(t, "the connection to be counted closed", func() bool { return s.Stats().OpenConns == 0 })
	if st := s.Stats(); st.Crashes != 1 || st.Restarts != 0 {
		t.Fatalf("stats %+v: want the crash counted, and no restart", st)
	}
}

// A statement that writes must not stay open between requests: SQLite defers the commit of
// every autocommit statement on the connection while one write statement is active, so another
// caller's acknowledged Exec would not be committed, and a later rollback (a failing ExecMany,
// a crash) would take it away (found by the crash storm).
func TestNoWriteStatementOutlivesItsRequest(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s, actors.WithFetchSize(1))
	ctx := deadline(t)
	other, err := s.Open(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	visible := func(t *testing.T, want int64) {
		t.Helper()
		if row, err := other.QueryRow(ctx, "SELECT count(*) FROM t"); err != nil || row.Index(0) != want {
			t.Fatalf("another connection sees %v rows (%v), want %d: an acknowledged write is not committed", row.Index(0), err, want)
		}
	}
	if _, err := c.Exec(ctx, "CREATE TABLE blobs (b BLOB); INSERT INTO blobs VALUES (zeroblob(8))"); err == nil {
		t.Fatal("two statements accepted")
	}
	if err := c.ExecScript(ctx, "CREATE TABLE blobs (b BLOB); INSERT INTO blobs VALUES (zeroblob(8))"); err != nil {
		t.Fatal(err)
	}
	t.Run("write blob", func(t *testing.T) {
		b, err := c.OpenBlob(ctx, "blobs", "b", 1, true)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := b.Write([]byte("written!")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		visible(t, 1)
		// A failing ExecMany rolls back only itself.
		if _, err := c.ExecMany(ctx, "INSERT INTO t (id, v) VALUES (?, 0)", [][]any{{100}, {100}}); !errors.Is(err, messages.ErrConstraint) {
			t.Fatalf("exec many: %v", err)
		}
		visible(t, 1)
		if row, err := other.QueryRow(ctx, "SELECT CAST(b AS TEXT) FROM blobs"); err != nil || row.Index(0) != "written!" {
			t.Fatalf("a blob write acknowledged before its Close is not committed: %v, %v", row.Index(0), err)
		}
	})
	t.Run("returning cursor", func(t *testing.T) {
		cur, err := c.Query(ctx, "INSERT INTO t (v) VALUES (2), (3), (4) RETURNING id")
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close(ctx)
		if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (5)"); err != nil {
			t.Fatal(err)
		}
		visible(t, 5)
		rows, err := cur.FetchAll(ctx)
		if err != nil || len(rows) != 3 {
			t.Fatalf("RETURNING rows: %d, %v", len(rows), err)
		}
	})
}

// Requests in flight on a connection are bounded in bytes, not only in number: requests whose
// callers gave up stay queued until the connection gets to them, and 1,024 of them holding
// 1 MiB each would pin 1 GiB.
func TestRequestsInFlightBoundedByBytes(t *testing.T) {
	const limit, size, calls = 8 << 20, 1 << 20, 128
	s := start(t, supervisor.Config{MaxPendingBytes: limit})
	c := open(t, s)
	ctx := deadline(t)
	entered, release := gate(t, c)
	held := make(chan error, 1)
	go func() { _, err := c.QueryRow(ctx, "SELECT wait_gate()"); held <- err }()
	<-entered
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			cctx, cancel := context.WithCancel(ctx)
			sc := &sentCtx{Context: cctx, sent: make(chan struct{})}
			go func() { <-sc.sent; cancel() }() // gives up once it waits: queued, or for room
			c.Exec(sc, "INSERT INTO t (v) VALUES (?)", make([]byte, size))
		})
	}
	wg.Wait()
	pinned := int64(heap()) - int64(before)
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if pinned > limit+limit/2 {
		t.Fatalf("%d MiB pinned by abandoned requests, more than MaxPendingBytes (%d MiB)", pinned>>20, limit>>20)
	}
	if n := count(t, c); n != 0 {
		t.Fatalf("%d rows: an abandoned request ran", n)
	}
	// A request larger than the bound alone still runs, with nothing else in flight.
	if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (?)", make([]byte, 2*limit)); err != nil {
		t.Fatalf("a request larger than MaxPendingBytes: %v", err)
	}
}

// A ctx that ends while a statement waits for another connection's lock makes the call return
// its error, as everywhere else, not only "database is locked" (found by the crash storm).
func TestCtxEndingDuringALockWait(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	other, err := s.Open(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.BeginImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Rollback(ctx)
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = other.Exec(wctx, "INSERT INTO t (v) VALUES (1)")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, messages.ErrBusy) {
		t.Fatalf("a write waiting for the lock when its ctx ended: %v, want DeadlineExceeded and ErrBusy", err)
	}
}
