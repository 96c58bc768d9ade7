package actors_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// The helpers every test file of the package uses.

// newSupervisor starts a supervisor with its own actor system, stopped when the test ends.
func newSupervisor(t testing.TB, cfg supervisor.Config) *supervisor.Supervisor {
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

// newConn opens a connection to a fresh database file in t.TempDir(), under a supervisor of
// its own that the test's cleanup stops.
func newConn(t testing.TB, opts ...actors.Option) *actors.Conn {
	t.Helper()
	_, c := newConnSup(t, opts...)
	return c
}

// newConnSup is newConn that also returns the supervisor.
func newConnSup(t testing.TB, opts ...actors.Option) (*supervisor.Supervisor, *actors.Conn) {
	t.Helper()
	dir := t.TempDir() // first: its removal must run after Stop
	s := newSupervisor(t, supervisor.Config{})
	c, err := s.Open(t.Context(), filepath.Join(dir, "test.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// newBoomConn is newConnSup with boom() registered: a function that panics, to crash the
// connection (see crashAndRestart).
func newBoomConn(t testing.TB, opts ...actors.Option) (*supervisor.Supervisor, *actors.Conn) {
	t.Helper()
	s, c := newConnSup(t, opts...)
	if err := c.CreateFunction(testCtx(t), "boom", 0, func([]any) (any, error) { panic("boom!") }); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// testCtx bounds a test's calls: none of them may hang.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// exec runs statements that must succeed.
func exec(t testing.TB, c *actors.Conn, sql string, args ...any) messages.Result {
	t.Helper()
	res, err := c.Exec(testCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("Exec(%q): %v", sql, err)
	}
	return res
}

// execScript runs a script that must succeed.
func execScript(t testing.TB, c *actors.Conn, script string) {
	t.Helper()
	if err := c.ExecScript(testCtx(t), script); err != nil {
		t.Fatalf("ExecScript: %v", err)
	}
}

// seed creates table t(id INTEGER PRIMARY KEY, x INTEGER) with rows x = 1..n.
func seed(t testing.TB, c *actors.Conn, n int) {
	t.Helper()
	execScript(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER);
		WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < `+fmt.Sprint(n)+`)
		INSERT INTO t (x) SELECT i FROM s`)
}

// queryValues runs a query that must succeed and returns its rows' values.
func queryValues(t testing.TB, c *actors.Conn, sql string, args ...any) [][]any {
	t.Helper()
	rows, err := c.QueryAll(testCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("QueryAll(%q): %v", sql, err)
	}
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = r.Values()
	}
	return out
}

// queryValue runs a query that must return a row, and returns the row's first value.
func queryValue(t testing.TB, c *actors.Conn, sql string, args ...any) any {
	t.Helper()
	row, err := c.QueryRow(testCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("QueryRow(%q): %v", sql, err)
	}
	return row.Index(0)
}

// count returns the rows of table.
func count(t testing.TB, c *actors.Conn, table string) int64 {
	t.Helper()
	n, _ := queryValue(t, c, "SELECT count(*) FROM "+table).(int64)
	return n
}

// ints returns column 0 of rows as int64s.
func ints(t testing.TB, rows []messages.Row) []int64 {
	t.Helper()
	out := make([]int64, 0, len(rows))
	for _, r := range rows {
		v, ok := r.Index(0).(int64)
		if !ok {
			t.Fatalf("row %v: column 0 is %T, want int64", r, r.Index(0))
		}
		out = append(out, v)
	}
	return out
}

// seq returns from, from+1, …, to.
func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// crashAndRestart crashes the connection with boom() (see newBoomConn) and checks the crash
// is answered per the supervision rules, then that the restarted connection answers.
func crashAndRestart(t testing.TB, s *supervisor.Supervisor, c *actors.Conn) {
	t.Helper()
	before := s.Stats()
	_, err := c.Exec(testCtx(t), "SELECT boom()")
	if !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("SELECT boom(): %v, want ErrCrashed", err)
	}
	if v := queryValue(t, c, "SELECT 1"); v != int64(1) {
		t.Fatalf("after the restart: SELECT 1 = %v", v)
	}
	if after := s.Stats(); after.Crashes != before.Crashes+1 || after.Restarts != before.Restarts+1 {
		t.Fatalf("stats %+v after a crash, before %+v", after, before)
	}
}

// noCrash checks the supervisor saw no crash.
func noCrash(t testing.TB, s *supervisor.Supervisor) {
	t.Helper()
	if st := s.Stats(); st.Crashes != 0 || st.Restarts != 0 {
		t.Fatalf("stats %+v: a callback's panic crashed the connection", st)
	}
}

// isArgError checks that err is an *ArgError wrapping ErrBadArgument; what names the call.
func isArgError(t testing.TB, what string, err error) {
	t.Helper()
	var ae *messages.ArgError
	if !errors.As(err, &ae) || !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("%s: %v (%T), want an *ArgError wrapping ErrBadArgument", what, err, err)
	}
}
