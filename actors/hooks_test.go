package actors_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

func TestSetAuthorizer(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	execScript(t, c, `CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT, secret TEXT);
		INSERT INTO acct VALUES (1, 'ann', 's3cret');
		CREATE VIEW owners AS SELECT owner FROM acct`)
	// Warm the statement cache: a cached statement must be authorized again.
	if v := queryValue(t, c, "SELECT secret FROM acct"); v != "s3cret" {
		t.Fatal(v)
	}
	var mu sync.Mutex
	var seen []messages.AuthRequest
	auth := func(r messages.AuthRequest) messages.AuthResult {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		switch {
		case r.Action == "READ" && r.Column == "secret":
			return messages.AuthIgnore
		case r.Action == "DELETE":
			return messages.AuthDeny
		case r.Action == "READ" && r.Table == "acct" && r.Column == "owner" && r.Trigger == "owners":
			return messages.AuthDeny // through the view only
		}
		return messages.AuthOK
	}
	if err := c.SetAuthorizer(ctx, auth); err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, "SELECT secret FROM acct"); v != nil {
		t.Fatalf("ignored column read as %v, want NULL", v)
	}
	if v := queryValue(t, c, "SELECT owner FROM acct"); v != "ann" {
		t.Fatalf("owner: %v", v)
	}
	mu.Lock()
	found := slices.Contains(seen, messages.AuthRequest{Action: "READ", Arg1: "acct", Arg2: "owner", Table: "acct", Column: "owner", Database: "main"})
	mu.Unlock()
	if !found {
		t.Fatalf("no READ request for acct.owner among %+v", seen)
	}
	_, err := c.Exec(ctx, "DELETE FROM acct")
	if !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("denied DELETE: %v, want ErrNotAuthorized", err)
	}
	if _, err := c.QueryAll(ctx, "SELECT * FROM owners"); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("denied read through a view: %v", err)
	}
	if v := queryValue(t, c, "SELECT count(*) FROM acct"); v != int64(1) {
		t.Fatalf("the denied DELETE deleted: %d rows", v)
	}
	// Through every entry point.
	if _, err := c.ExecMany(ctx, "DELETE FROM acct WHERE id = ?", [][]any{{1}}); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("ExecMany: %v", err)
	}
	if err := c.ExecScript(ctx, "SELECT 1; DELETE FROM acct"); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("ExecScript: %v", err)
	}
	if _, err := c.Query(ctx, "DELETE FROM acct RETURNING id"); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("Query: %v", err)
	}
	// Survives a restart.
	crashAndRestart(t, s, c)
	if _, err := c.Exec(ctx, "DELETE FROM acct"); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("after restart: %v, want ErrNotAuthorized", err)
	}
	if v := queryValue(t, c, "SELECT secret FROM acct"); v != nil {
		t.Fatalf("after restart, ignored column read as %v", v)
	}
	// nil removes it, statements prepared under it included.
	if err := c.SetAuthorizer(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, "SELECT secret FROM acct"); v != "s3cret" {
		t.Fatalf("after removal: secret read as %v", v)
	}
	exec(t, c, "DELETE FROM acct")
	// A restart after removal does not bring it back.
	crashAndRestart(t, s, c)
	exec(t, c, "INSERT INTO acct VALUES (2, 'bob', 'x')")
	exec(t, c, "DELETE FROM acct")
}

func TestSetAuthorizerPanics(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	exec(t, c, "CREATE TABLE t (x)")
	var armed atomic.Bool
	err := c.SetAuthorizer(ctx, func(r messages.AuthRequest) messages.AuthResult {
		if armed.Load() && r.Action == "INSERT" {
			panic("authorizer exploded")
		}
		return messages.AuthOK
	})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	_, err = c.Exec(ctx, "INSERT INTO t VALUES (1)")
	if err == nil || !strings.Contains(err.Error(), "authorizer exploded") {
		t.Fatalf("panicking authorizer: %v, want the panic in the error", err)
	}
	if errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("panicking authorizer crashed the connection: %v", err)
	}
	// The next statement is not blamed for it.
	if v := queryValue(t, c, "SELECT count(*) FROM t"); v != int64(0) {
		t.Fatalf("count %v after a failed insert", v)
	}
	_, err = c.QueryAll(ctx, "INSERT INTO t VALUES (2) RETURNING x")
	if err == nil || !strings.Contains(err.Error(), "authorizer exploded") {
		t.Fatalf("panicking authorizer, QueryAll: %v", err)
	}
	armed.Store(false)
	exec(t, c, "INSERT INTO t VALUES (3)")
	noCrash(t, s)
}

func TestSetTrace(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	var mu sync.Mutex
	var traced []string
	var negative bool
	trace := func(sql string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		traced = append(traced, sql)
		negative = negative || d < 0
	}
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := traced
		traced = nil
		return out
	}
	if err := c.SetTrace(ctx, trace); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
	exec(t, c, "INSERT INTO t (s) VALUES (?)", "it's")
	if got, want := take(), []string{"CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)", "INSERT INTO t (s) VALUES ('it''s')"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Exec traced %q, want %q", got, want)
	}
	if _, err := c.ExecMany(ctx, "INSERT INTO t (s) VALUES (?)", [][]any{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := take(), []string{"BEGIN", "INSERT INTO t (s) VALUES ('a')", "INSERT INTO t (s) VALUES ('b')", "COMMIT"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExecMany traced %q, want %q", got, want)
	}
	execScript(t, c, "UPDATE t SET s = upper(s); DELETE FROM t WHERE id = 3")
	if got, want := take(), []string{"UPDATE t SET s = upper(s);", "DELETE FROM t WHERE id = 3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExecScript traced %q, want %q", got, want)
	}
	if _, err := c.QueryAll(ctx, "SELECT s FROM t WHERE id > ?", 0); err != nil {
		t.Fatal(err)
	}
	// A cursor's statement is traced when it ends.
	cur, err := c.Query(ctx, "SELECT s FROM t WHERE id = ?", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cur.FetchAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := take(), []string{"SELECT s FROM t WHERE id > 0", "SELECT s FROM t WHERE id = 1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("queries traced %q, want %q", got, want)
	}
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.BeginImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := take(), []string{"BEGIN", "ROLLBACK", "BEGIN IMMEDIATE", "COMMIT"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("transactions traced %q, want %q", got, want)
	}
	// Survives a restart.
	crashAndRestart(t, s, c)
	take()
	exec(t, c, "DELETE FROM t WHERE id = ?", 99)
	if got, want := take(), []string{"DELETE FROM t WHERE id = 99"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart traced %q, want %q", got, want)
	}
	// nil removes it.
	if err := c.SetTrace(ctx, nil); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "DELETE FROM t WHERE id = 98")
	if got := take(); len(got) != 0 {
		t.Fatalf("traced %q after removal", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if negative {
		t.Fatal("a negative duration was traced")
	}
}

func TestSetTraceDuration(t *testing.T) {
	_, c := newBoomConn(t)
	ctx := testCtx(t)
	durations := make(chan time.Duration, 4)
	if err := c.SetTrace(ctx, func(sql string, d time.Duration) { durations <- d }); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	v := queryValue(t, c, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT count(*) FROM c")
	elapsed := time.Since(t0)
	if v != int64(50000) {
		t.Fatal(v)
	}
	d := <-durations
	if d <= 0 || d > elapsed {
		t.Fatalf("traced %v for a statement the caller waited %v for", d, elapsed)
	}
}

func TestSetTracePanics(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	exec(t, c, "CREATE TABLE t (x)")
	var armed atomic.Bool
	if err := c.SetTrace(ctx, func(sql string, d time.Duration) {
		if armed.Load() {
			panic("trace exploded")
		}
	}); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	_, err := c.Exec(ctx, "INSERT INTO t VALUES (1)")
	if err == nil || !strings.Contains(err.Error(), "trace exploded") || errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("panicking trace: %v, want the panic in the error", err)
	}
	if _, err := c.QueryAll(ctx, "SELECT x FROM t"); err == nil || !strings.Contains(err.Error(), "trace exploded") {
		t.Fatalf("panicking trace, query: %v", err)
	}
	if err := c.ExecScript(ctx, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "trace exploded") {
		t.Fatalf("panicking trace, script: %v", err)
	}
	armed.Store(false)
	// The statement itself ran, and the connection is up.
	if v := queryValue(t, c, "SELECT count(*) FROM t"); v != int64(1) {
		t.Fatalf("count %v", v)
	}
	// A cursor closed early: its trace panic must not fail an unrelated later call.
	exec(t, c, "INSERT INTO t SELECT value FROM generate_series(2, 200)")
	cur, err := c.Query(ctx, "SELECT x FROM t") // more than one chunk: the cursor stays open
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cur.FetchOne(ctx); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if err := cur.Close(ctx); err == nil || !strings.Contains(err.Error(), "trace exploded") {
		t.Fatalf("closing a cursor whose trace panicked: %v, want the panic", err)
	}
	armed.Store(false)
	if _, err := c.Exec(ctx, "INSERT INTO t VALUES (4)"); err != nil {
		t.Fatalf("a later statement was blamed for an earlier trace panic: %v", err)
	}
	noCrash(t, s)
}

func TestSetProgressHandler(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	const q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT count(*) FROM c"
	var calls atomic.Int64
	count := func() bool { calls.Add(1); return false }
	if err := c.SetProgressHandler(ctx, 1000, count); err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, q); v != int64(50000) {
		t.Fatal(v)
	}
	every1000 := calls.Swap(0)
	if err := c.SetProgressHandler(ctx, 20000, count); err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, q); v != int64(50000) {
		t.Fatal(v)
	}
	every20000 := calls.Swap(0)
	t.Logf("progress calls: %d every 1,000 instructions, %d every 20,000", every1000, every20000)
	if every1000 < 100 || every20000 < 1 || every20000*5 > every1000 {
		t.Fatalf("progress calls: %d every 1,000 instructions, %d every 20,000", every1000, every20000)
	}
	// Abort.
	var abortAfter atomic.Int64
	abortAfter.Store(3)
	if err := c.SetProgressHandler(ctx, 1000, func() bool { return abortAfter.Add(-1) < 0 }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryRow(ctx, q); !errors.Is(err, messages.ErrInterrupted) {
		t.Fatalf("aborted query: %v, want ErrInterrupted", err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t AS "+q); !errors.Is(err, messages.ErrInterrupted) {
		t.Fatalf("aborted exec: %v, want ErrInterrupted", err)
	}
	// Survives a restart. (go-sqlite3 also checks before each statement and each row it steps:
	// a handler that aborts at once would fail even SELECT boom().)
	abortAfter.Store(1 << 40)
	crashAndRestart(t, s, c)
	abortAfter.Store(3)
	if _, err := c.QueryRow(ctx, q); !errors.Is(err, messages.ErrInterrupted) {
		t.Fatalf("after restart: %v, want ErrInterrupted", err)
	}
	// nil removes it.
	if err := c.SetProgressHandler(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, q); v != int64(50000) {
		t.Fatal(v)
	}
	// Bad input.
	isArgError(t, "steps 0", c.SetProgressHandler(ctx, 0, count))
	isArgError(t, "steps -1", c.SetProgressHandler(ctx, -1, count))
	// By message, bypassing the handle's check.
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.SetProgressHandler{Steps: 0, Fn: count, ReplyTo: reply})
	isArgError(t, "steps 0 by message", (<-reply).ReplyErr())
}

func TestSetProgressHandlerPanics(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	const q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT count(*) FROM c"
	var armed atomic.Bool
	if err := c.SetProgressHandler(ctx, 1000, func() bool {
		if armed.Load() {
			panic("progress exploded")
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	_, err := c.QueryRow(ctx, q)
	if err == nil || !strings.Contains(err.Error(), "progress exploded") || errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("panicking progress handler: %v, want the panic in the error", err)
	}
	armed.Store(false)
	if v := queryValue(t, c, q); v != int64(20000) {
		t.Fatalf("after the panic: %v", v)
	}
	noCrash(t, s)
}

// changeSink is an actor that forwards the update hook's messages to a channel.
type changeSink struct{ out chan<- *messages.RowChanges }

func (a *changeSink) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*messages.RowChanges); ok {
		a.out <- m
	}
}

// newSink spawns a changeSink in s's actor system, stopped when the test ends.
func newSink(t testing.TB, s *supervisor.Supervisor) (*actor.PID, <-chan *messages.RowChanges) {
	t.Helper()
	ch := make(chan *messages.RowChanges, 1024)
	root := s.System().Root
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &changeSink{out: ch} }))
	t.Cleanup(func() { root.StopFuture(pid).Wait() }) // before the supervisor's Stop
	return pid, ch
}

// waitCommits receives the messages of n commits of c, and returns their changes.
func waitCommits(t testing.TB, c *actors.Conn, ch <-chan *messages.RowChanges, n int) [][]messages.RowChange {
	t.Helper()
	ctx := testCtx(t)
	var out [][]messages.RowChange
	for len(out) < n {
		select {
		case m := <-ch:
			if pid, ok := m.Conn.(*actor.PID); !ok || !pid.Equal(c.PID()) || m.DSN != c.DSN() {
				t.Fatalf("changes from %v (%q), want from %v (%q)", m.Conn, m.DSN, c.PID(), c.DSN())
			}
			out = append(out, m.Changes)
		case <-ctx.Done():
			t.Fatalf("got %d commits %+v, want %d", len(out), out, n)
		}
	}
	return out
}

func TestSetUpdateHook(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	pid, ch := newSink(t, s)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	if err := c.SetUpdateHook(ctx, pid); err != nil {
		t.Fatal(err)
	}
	rc := func(op string, id int64) messages.RowChange {
		return messages.RowChange{Op: op, Database: "main", Table: "t", RowID: id}
	}
	type commit = []messages.RowChange
	// expect receives one message per commit wanted, each with that commit's rows.
	expect := func(want ...commit) {
		t.Helper()
		if got := waitCommits(t, c, ch, len(want)); !reflect.DeepEqual(got, want) {
			t.Fatalf("commits %+v, want %+v", got, want)
		}
	}
	// Autocommit: one message per statement.
	exec(t, c, "INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")
	exec(t, c, "UPDATE t SET v = 'B' WHERE id = 2")
	exec(t, c, "DELETE FROM t WHERE id = 1")
	expect(commit{rc("INSERT", 1), rc("INSERT", 2)}, commit{rc("UPDATE", 2)}, commit{rc("DELETE", 1)})
	// A rolled-back transaction sends nothing: the next change is the marker's.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (10, 'x')")
	exec(t, c, "DELETE FROM t WHERE id = 2")
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// So does a failed ExecMany (its own transaction is rolled back).
	if _, err := c.ExecMany(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", [][]any{{20, "y"}, {20, "dup"}}); !errors.Is(err, messages.ErrConstraint) {
		t.Fatalf("ExecMany: %v, want a constraint error", err)
	}
	// And a statement that failed in autocommit.
	if _, err := c.Exec(ctx, "INSERT INTO t (id, v) VALUES (30, 'z'), (2, 'dup')"); !errors.Is(err, messages.ErrConstraint) {
		t.Fatalf("Exec: %v", err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (3, 'marker')")
	expect(commit{rc("INSERT", 3)})
	// A committed transaction sends its changes, after the commit.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (4, 'd')")
	exec(t, c, "UPDATE t SET v = 'C' WHERE id = 3")
	select {
	case got := <-ch:
		t.Fatalf("change %+v sent before the commit", got)
	default:
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	expect(commit{rc("INSERT", 4), rc("UPDATE", 3)})
	if _, err := c.ExecMany(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", [][]any{{5, "e"}, {6, "f"}}); err != nil {
		t.Fatal(err)
	}
	expect(commit{rc("INSERT", 5), rc("INSERT", 6)})
	execScript(t, c, "BEGIN; DELETE FROM t WHERE id = 5; COMMIT; BEGIN; DELETE FROM t WHERE id = 6; ROLLBACK")
	expect(commit{rc("DELETE", 5)})

	// Changes of a transaction lost in a crash are never sent.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (40, 'lost')")
	if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatal(err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The hook survives the restart.
	exec(t, c, "INSERT INTO t (id, v) VALUES (7, 'g')")
	expect(commit{rc("INSERT", 7)})

	// nil removes it: nothing is sent until it is set again.
	if err := c.SetUpdateHook(ctx, nil); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (8, 'h')")
	if err := c.SetUpdateHook(ctx, pid); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t (id, v) VALUES (9, 'i')")
	expect(commit{rc("INSERT", 9)})
}

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

func TestInterrupt(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	// Nothing running: nothing happens.
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, "SELECT 42"); v != int64(42) {
		t.Fatal(v)
	}
	started := startedFunc(t, c)
	done := make(chan error, 1)
	go func() {
		_, err := c.QueryRow(ctx, longQuery)
		done <- err
	}()
	<-started
	// Queued behind the long query, by message, so that it is in the mailbox before Interrupt.
	queued := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.Query{SQL: "SELECT 7", FetchSize: -1, ReplyTo: queued})
	t0 := time.Now()
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		t.Fatal("the interrupted query did not return")
	}
	t.Logf("interrupt to return: %v", time.Since(t0))
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("the interrupted query returned %v after Interrupt", d)
	}
	if !errors.Is(err, messages.ErrInterrupted) || errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted query: %v, want ErrInterrupted", err)
	}
	// The request queued behind it ran normally.
	rows := (<-queued).(*messages.Rows)
	if rows.Err != nil || len(rows.Rows) != 1 || rows.Rows[0].Index(0) != int64(7) {
		t.Fatalf("queued query: %+v", rows)
	}
	if v := queryValue(t, c, "SELECT 43"); v != int64(43) {
		t.Fatal(v)
	}
	// An Exec, and within a transaction, which stays open.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := c.Exec(ctx, "CREATE TABLE big AS "+longQuery)
		done <- err
	}()
	<-started
	c.Interrupt(ctx)
	if err := <-done; !errors.Is(err, messages.ErrInterrupted) {
		t.Fatalf("interrupted exec: %v", err)
	}
	if err := c.Rollback(ctx); err != nil && !errors.Is(err, messages.ErrNoTransaction) {
		t.Fatal(err)
	}
	// A done ctx: an error wrapping its error, and nothing interrupted.
	dead, cancel := context.WithCancel(ctx)
	cancel()
	go func() {
		_, err := c.QueryRow(ctx, "SELECT count(*) FROM generate_series(1, 1000) WHERE started()")
		done <- err
	}()
	<-started
	if err := c.Interrupt(dead); !errors.Is(err, context.Canceled) {
		t.Fatalf("Interrupt with a done ctx: %v, want context.Canceled", err)
	}
	for range 999 {
		<-started
	}
	if err := <-done; err != nil {
		t.Fatalf("a query running while Interrupt got a done ctx: %v", err)
	}
	noCrash(t, s)
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Interrupt(ctx); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("Interrupt on a closed conn: %v", err)
	}
}
