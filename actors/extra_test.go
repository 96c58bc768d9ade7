package actors_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"runtime"
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

// Helpers of this file are prefixed with x: conn_test.go has its own.

// xSup starts a supervisor with its own actor system, stopped when the test ends.
func xSup(t testing.TB, cfg supervisor.Config) *supervisor.Supervisor {
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

// xOpen opens a fresh database file under a new supervisor, with boom() registered: a
// function that panics, to crash the connection.
func xOpen(t testing.TB, opts ...actors.Option) (*supervisor.Supervisor, *actors.Conn) {
	t.Helper()
	dir := t.TempDir() // first: removed after the supervisor stopped
	s := xSup(t, supervisor.Config{})
	c, err := s.Open(context.Background(), filepath.Join(dir, "extra.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateFunction(context.Background(), "boom", 0, func([]any) (any, error) { panic("boom!") }); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// xCtx bounds a test's calls: none of them may hang.
func xCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// xExec runs statements that must succeed.
func xExec(t testing.TB, c *actors.Conn, sql string, args ...any) messages.Result {
	t.Helper()
	res, err := c.Exec(xCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("Exec(%q): %v", sql, err)
	}
	return res
}

// xScript runs a script that must succeed.
func xScript(t testing.TB, c *actors.Conn, script string) {
	t.Helper()
	if err := c.ExecScript(xCtx(t), script); err != nil {
		t.Fatalf("ExecScript: %v", err)
	}
}

// xValues runs a query that must succeed and returns its rows' values.
func xValues(t testing.TB, c *actors.Conn, sql string, args ...any) [][]any {
	t.Helper()
	rows, err := c.QueryAll(xCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("QueryAll(%q): %v", sql, err)
	}
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = r.Values()
	}
	return out
}

// xOne runs a query that must return one row of one value, and returns the value.
func xOne(t testing.TB, c *actors.Conn, sql string, args ...any) any {
	t.Helper()
	row, err := c.QueryRow(xCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("QueryRow(%q): %v", sql, err)
	}
	return row.Index(0)
}

// xCrash crashes the connection with boom() and checks the crash is answered per the
// supervision rules, then that the restarted connection answers.
func xCrash(t testing.TB, s *supervisor.Supervisor, c *actors.Conn) {
	t.Helper()
	before := s.Stats()
	_, err := c.Exec(xCtx(t), "SELECT boom()")
	if !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("SELECT boom(): %v, want ErrCrashed", err)
	}
	if v := xOne(t, c, "SELECT 1"); v != int64(1) {
		t.Fatalf("after the restart: SELECT 1 = %v", v)
	}
	if after := s.Stats(); after.Crashes != before.Crashes+1 || after.Restarts != before.Restarts+1 {
		t.Fatalf("stats %+v after a crash, before %+v", after, before)
	}
}

// xNoCrash checks the supervisor saw no crash.
func xNoCrash(t testing.TB, s *supervisor.Supervisor) {
	t.Helper()
	if st := s.Stats(); st.Crashes != 0 || st.Restarts != 0 {
		t.Fatalf("stats %+v: a callback's panic crashed the connection", st)
	}
}

func xIsArgError(t testing.TB, what string, err error) {
	t.Helper()
	var ae *messages.ArgError
	if !errors.As(err, &ae) || !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("%s: %v (%T), want an *ArgError wrapping ErrBadArgument", what, err, err)
	}
}

func lowerFunc(args []any) (any, error) {
	s, _ := args[0].(string)
	return strings.ToLower(s), nil
}

func TestCreateFunctionFlags(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xScript(t, c, `CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);
		INSERT INTO people (name) VALUES ('Ada'), ('ALAN'), ('grace')`)
	reg := func(name string, opts ...actors.FuncOption) {
		t.Helper()
		if err := c.CreateFunction(ctx, name, 1, lowerFunc, opts...); err != nil {
			t.Fatalf("CreateFunction(%s): %v", name, err)
		}
	}
	reg("det_lower", actors.Deterministic())
	reg("plain_lower")
	reg("innocuous_lower", actors.Innocuous())
	reg("direct_lower", actors.DirectOnly())
	reg("det_direct_lower", actors.Deterministic(), actors.DirectOnly())

	// A deterministic function can be used in an index expression (trusted_schema is off:
	// Deterministic marks it innocuous too), and the index is used.
	xExec(t, c, "CREATE INDEX people_lower ON people (det_lower(name))")
	xExec(t, c, "INSERT INTO people (name) VALUES ('Edsger')") // evaluates the index expression
	plan := fmt.Sprint(xValues(t, c, "EXPLAIN QUERY PLAN SELECT id FROM people WHERE det_lower(name) = 'alan'"))
	if !strings.Contains(plan, "people_lower") {
		t.Fatalf("query plan %s does not use the expression index", plan)
	}
	if v := xOne(t, c, "SELECT id FROM people WHERE det_lower(name) = 'alan'"); v != int64(2) {
		t.Fatalf("lookup through the index: %v", v)
	}
	// And in a generated column.
	xExec(t, c, "CREATE TABLE g (a TEXT, b TEXT GENERATED ALWAYS AS (det_lower(a)) STORED)")
	xExec(t, c, "INSERT INTO g (a) VALUES ('MiXeD')")
	if v := xOne(t, c, "SELECT b FROM g"); v != "mixed" {
		t.Fatalf("generated column: %v", v)
	}

	// Not deterministic: not in an index, whether innocuous or not; direct-only: never in the schema.
	for _, name := range []string{"plain_lower", "innocuous_lower", "direct_lower", "det_direct_lower"} {
		_, err := c.Exec(ctx, fmt.Sprintf("CREATE INDEX idx_%s ON people (%s(name))", name, name))
		if err == nil {
			t.Fatalf("CREATE INDEX on %s(name) succeeded", name)
		}
		if !errors.Is(err, messages.ErrSQL) {
			t.Fatalf("CREATE INDEX on %s(name): %v, want an SQL error", name, err)
		}
	}
	if _, err := c.Exec(ctx, "CREATE TABLE g2 (a TEXT, b TEXT GENERATED ALWAYS AS (plain_lower(a)))"); err == nil {
		t.Fatal("a generated column used a non-deterministic function")
	}

	// In a view, trusted_schema off admits innocuous functions only; direct-only ones never.
	for name, ok := range map[string]bool{"det_lower": true, "innocuous_lower": true, "plain_lower": false,
		"direct_lower": false, "det_direct_lower": false} {
		xExec(t, c, fmt.Sprintf("CREATE VIEW v_%s AS SELECT %s(name) AS n FROM people", name, name))
		_, err := c.QueryAll(ctx, fmt.Sprintf("SELECT n FROM v_%s", name))
		if ok && err != nil {
			t.Errorf("view calling %s: %v", name, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "unsafe use of "+name)) {
			t.Errorf("view calling %s: %v, want unsafe use", name, err)
		}
	}
	// At top level every one of them works.
	for _, name := range []string{"det_lower", "plain_lower", "innocuous_lower", "direct_lower", "det_direct_lower"} {
		if v := xOne(t, c, fmt.Sprintf("SELECT %s('ÉtÉ X')", name)); v != "été x" {
			t.Errorf("%s: %v", name, v)
		}
	}

	// After a crash the function is registered again, with its flags: the index still works.
	xCrash(t, s, c)
	xExec(t, c, "INSERT INTO people (name) VALUES ('Barbara')")
	if v := xOne(t, c, "SELECT id FROM people WHERE det_lower(name) = 'barbara'"); v != int64(5) {
		t.Fatalf("lookup after restart: %v", v)
	}
	if _, err := c.QueryAll(ctx, "SELECT n FROM v_direct_lower"); err == nil {
		t.Fatal("after restart, a direct-only function ran in a view")
	}
}

func TestCreateFunctionBadInput(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	fn := func([]any) (any, error) { return int64(1), nil }
	xIsArgError(t, "nil function", c.CreateFunction(ctx, "f", 0, nil))
	xIsArgError(t, "empty name", c.CreateFunction(ctx, "", 0, fn))
	xIsArgError(t, "nargs -2", c.CreateFunction(ctx, "f", -2, fn))
	xIsArgError(t, "nargs 128", c.CreateFunction(ctx, "f", 128, fn))
	// Options may be nil.
	if err := c.CreateFunction(ctx, "one", 0, fn, nil, actors.Deterministic()); err != nil {
		t.Fatal(err)
	}
	// An error fails the statement only.
	err := c.CreateFunction(ctx, "fails", 1, func(args []any) (any, error) {
		return nil, fmt.Errorf("no good: %v", args[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryAll(ctx, "SELECT fails(7)"); err == nil || !strings.Contains(err.Error(), "no good: 7") {
		t.Fatalf("failing function: %v", err)
	}
	// A result of an unsupported type too.
	if err := c.CreateFunction(ctx, "weird", 0, func([]any) (any, error) { return struct{}{}, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryAll(ctx, "SELECT weird()"); err == nil {
		t.Fatal("a function returning a struct{} succeeded")
	}
	// Wrong number of arguments.
	if _, err := c.QueryAll(ctx, "SELECT one(1)"); !errors.Is(err, messages.ErrSQL) {
		t.Fatalf("one(1): %v", err)
	}
	if v := xOne(t, c, "SELECT one()"); v != int64(1) {
		t.Fatalf("one() = %v", v)
	}
	xNoCrash(t, s)
	// A panic is a crash: answered with ErrCrashed, the connection restarted and usable.
	var ce *messages.CrashError
	_, err = c.Exec(ctx, "SELECT boom()")
	if !errors.Is(err, messages.ErrCrashed) || !errors.As(err, &ce) || ce.Panic != "boom!" {
		t.Fatalf("panicking function: %v", err)
	}
	if v := xOne(t, c, "SELECT one()"); v != int64(1) {
		t.Fatalf("one() after restart = %v", v)
	}
	if st := s.Stats(); st.Crashes != 1 || st.Restarts != 1 || st.OpenConns != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// sumAgg sums integers; it records its own instances' life.
type sumAgg struct {
	sum   int64
	n     int
	fail  string // Step fails on this text argument
	final func()
}

func (a *sumAgg) Step(args []any) error {
	switch v := args[0].(type) {
	case int64:
		a.sum += v
	case nil:
	case string:
		if v == a.fail {
			return fmt.Errorf("cannot add %q", v)
		}
		if v == "panic" {
			panic("aggregate step panicked")
		}
	}
	a.n++
	return nil
}

func (a *sumAgg) Final() (any, error) {
	if a.final != nil {
		a.final()
	}
	if a.n == 0 {
		return nil, nil
	}
	return a.sum, nil
}

func TestCreateAggregate(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xScript(t, c, `CREATE TABLE sales (region TEXT, amount INTEGER);
		INSERT INTO sales VALUES ('north', 10), ('north', 5), ('south', 7), ('south', NULL), ('east', NULL)`)
	var finals atomic.Int64
	newSum := func() actors.Aggregate { return &sumAgg{fail: "bad", final: func() { finals.Add(1) }} }
	if err := c.CreateAggregate(ctx, "mysum", 1, newSum, actors.Deterministic()); err != nil {
		t.Fatal(err)
	}
	got := xValues(t, c, "SELECT region, mysum(amount) FROM sales GROUP BY region ORDER BY region")
	want := [][]any{{"east", int64(0)}, {"north", int64(15)}, {"south", int64(7)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("grouped: %v, want %v", got, want)
	}
	// Each group had its own state, and got its Final.
	if n := finals.Load(); n != 3 {
		t.Fatalf("%d Final calls for 3 groups", n)
	}
	// No row at all: Final of a fresh state.
	if v := xOne(t, c, "SELECT mysum(amount) FROM sales WHERE 0"); v != nil {
		t.Fatalf("empty aggregate: %v", v)
	}
	// As in SQLite, an aggregate can be used with OVER while its frame only grows; a sliding
	// frame needs Inverse (CreateWindowFunction): an error, not a crash.
	got = xValues(t, c, "SELECT mysum(amount) OVER (ORDER BY rowid) FROM sales WHERE region = 'north'")
	if !reflect.DeepEqual(got, [][]any{{int64(10)}, {int64(15)}}) {
		t.Fatalf("aggregate over a growing frame: %v", got)
	}
	_, err := c.QueryAll(ctx, "SELECT mysum(amount) OVER (ROWS 1 PRECEDING) FROM sales")
	if err == nil || errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("aggregate over a sliding frame: %v, want an error", err)
	}
	// A Step error fails the statement, and only it.
	xExec(t, c, "INSERT INTO sales VALUES ('west', 'bad')")
	if _, err := c.QueryAll(ctx, "SELECT mysum(amount) FROM sales"); err == nil || !strings.Contains(err.Error(), `cannot add "bad"`) {
		t.Fatalf("failing step: %v", err)
	}
	// A Final error too.
	err = c.CreateAggregate(ctx, "final_fails", 1, func() actors.Aggregate { return &failingFinal{} })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryAll(ctx, "SELECT final_fails(amount) FROM sales"); err == nil || !strings.Contains(err.Error(), "final failed") {
		t.Fatalf("failing final: %v", err)
	}
	// Any number of arguments with -1.
	err = c.CreateAggregate(ctx, "nargs", -1, func() actors.Aggregate { return &countArgs{} })
	if err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, "SELECT nargs(1, 2, 3) FROM sales WHERE region = 'north'"); v != int64(6) {
		t.Fatalf("nargs: %v", v)
	}
	xNoCrash(t, s)

	// Bad input.
	xIsArgError(t, "nil constructor", c.CreateAggregate(ctx, "x", 1, nil))
	xIsArgError(t, "empty name", c.CreateAggregate(ctx, "", 1, newSum))
	xIsArgError(t, "nargs 200", c.CreateAggregate(ctx, "x", 200, newSum))

	// A panic in Step is a crash; the aggregate is registered again after the restart.
	_, err = c.QueryAll(ctx, "SELECT mysum(v) FROM (SELECT 'panic' AS v)")
	if !errors.Is(err, messages.ErrCrashed) || !strings.Contains(err.Error(), "aggregate step panicked") {
		t.Fatalf("panicking step: %v, want ErrCrashed with the panic", err)
	}
	if v := xOne(t, c, "SELECT mysum(amount) FROM sales WHERE region = 'north'"); v != int64(15) {
		t.Fatalf("after restart: %v", v)
	}
	if st := s.Stats(); st.Crashes != 1 || st.Restarts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

type failingFinal struct{}

func (*failingFinal) Step([]any) error    { return nil }
func (*failingFinal) Final() (any, error) { return nil, errors.New("final failed") }

type countArgs struct{ n int64 }

func (a *countArgs) Step(args []any) error { a.n += int64(len(args)); return nil }
func (a *countArgs) Final() (any, error)   { return a.n, nil }

// movingSum is a window aggregate: the sum of the integers in the frame.
type movingSum struct {
	sum          int64
	panicInverse bool
}

func (m *movingSum) Step(args []any) error {
	if v, ok := args[0].(int64); ok {
		m.sum += v
	}
	return nil
}

func (m *movingSum) Inverse(args []any) error {
	if m.panicInverse {
		panic("inverse panicked")
	}
	if v, ok := args[0].(int64); ok {
		m.sum -= v
	}
	return nil
}

func (m *movingSum) Value() (any, error) { return m.sum, nil }
func (m *movingSum) Final() (any, error) { return m.sum, nil }

func TestCreateWindowFunction(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xScript(t, c, `CREATE TABLE pts (x INTEGER PRIMARY KEY, y INTEGER);
		INSERT INTO pts VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)`)
	if err := c.CreateWindowFunction(ctx, "msum", 1, func() actors.WindowAggregate { return &movingSum{} }); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT x, msum(y) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM pts ORDER BY x"
	got := xValues(t, c, q)
	want := [][]any{{int64(1), int64(1)}, {int64(2), int64(3)}, {int64(3), int64(5)}, {int64(4), int64(7)}, {int64(5), int64(9)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("moving sum: %v, want %v", got, want)
	}
	// Running total (no Inverse), partitions, and use as a plain aggregate.
	got = xValues(t, c, "SELECT x, msum(y) OVER (PARTITION BY x % 2 ORDER BY x) FROM pts ORDER BY x")
	want = [][]any{{int64(1), int64(1)}, {int64(2), int64(2)}, {int64(3), int64(4)}, {int64(4), int64(6)}, {int64(5), int64(9)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("partitioned running sum: %v, want %v", got, want)
	}
	if v := xOne(t, c, "SELECT msum(y) FROM pts"); v != int64(15) {
		t.Fatalf("as an aggregate: %v", v)
	}
	// By message, a window function whose aggregate has no Inverse: statements fail, the
	// connection stays up.
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.CreateAggregate{Name: "notwin", NArgs: 1, Window: true, ReplyTo: reply,
		New: func() messages.Aggregate { return &sumAgg{} }})
	if err := (<-reply).ReplyErr(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT notwin(y) OVER (ROWS 1 PRECEDING) FROM pts", "SELECT notwin(y) FROM pts"} {
		if _, err := c.QueryAll(ctx, q); err == nil || !strings.Contains(err.Error(), "not a WindowAggregate") {
			t.Fatalf("%s: %v, want not a WindowAggregate", q, err)
		}
	}
	xIsArgError(t, "nil constructor", c.CreateWindowFunction(ctx, "w", 1, nil))
	xIsArgError(t, "bad nargs", c.CreateWindowFunction(ctx, "w", -5, func() actors.WindowAggregate { return &movingSum{} }))
	xNoCrash(t, s)

	// A panic in Inverse is a crash; the window function is registered again.
	if err := c.CreateWindowFunction(ctx, "msum_panics", 1, func() actors.WindowAggregate { return &movingSum{panicInverse: true} }); err != nil {
		t.Fatal(err)
	}
	_, err := c.QueryAll(ctx, strings.Replace(q, "msum", "msum_panics", 1))
	if !errors.Is(err, messages.ErrCrashed) || !strings.Contains(err.Error(), "inverse panicked") {
		t.Fatalf("panicking inverse: %v", err)
	}
	if got := xValues(t, c, q); len(got) != 5 || got[4][1] != int64(9) {
		t.Fatalf("after restart: %v", got)
	}
}

func reverseCmp(a, b string) int { return strings.Compare(b, a) }

func TestCreateCollation(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	if err := c.CreateCollation(ctx, "reverse", reverseCmp); err != nil {
		t.Fatal(err)
	}
	xScript(t, c, `CREATE TABLE words (w TEXT COLLATE reverse);
		INSERT INTO words VALUES ('b'), ('a'), ('c');
		CREATE INDEX words_w ON words (w)`)
	col := func(sql string) []any {
		var out []any
		for _, r := range xValues(t, c, sql) {
			out = append(out, r[0])
		}
		return out
	}
	if got := col("SELECT w FROM words ORDER BY w"); !reflect.DeepEqual(got, []any{"c", "b", "a"}) {
		t.Fatalf("column collation: %v", got)
	}
	if got := col("SELECT w FROM words ORDER BY w COLLATE binary"); !reflect.DeepEqual(got, []any{"a", "b", "c"}) {
		t.Fatalf("binary: %v", got)
	}
	// Registering the same name again replaces it.
	if err := c.CreateCollation(ctx, "nocase_len", func(a, b string) int { return len(a) - len(b) }); err != nil {
		t.Fatal(err)
	}
	if got := col("SELECT v FROM (SELECT column1 AS v FROM (VALUES ('ccc'), ('a'), ('bb'))) ORDER BY v COLLATE nocase_len"); !reflect.DeepEqual(got, []any{"a", "bb", "ccc"}) {
		t.Fatalf("by length: %v", got)
	}
	if err := c.CreateCollation(ctx, "nocase_len", func(a, b string) int { return len(b) - len(a) }); err != nil {
		t.Fatal(err)
	}
	if got := col("SELECT v FROM (SELECT column1 AS v FROM (VALUES ('ccc'), ('a'), ('bb'))) ORDER BY v COLLATE nocase_len"); !reflect.DeepEqual(got, []any{"ccc", "bb", "a"}) {
		t.Fatalf("replaced: %v", got)
	}
	// Unknown collation.
	if _, err := c.QueryAll(ctx, "SELECT 1 ORDER BY 'x' COLLATE nosuch"); !errors.Is(err, messages.ErrSQL) {
		t.Fatalf("unknown collation: %v", err)
	}
	xIsArgError(t, "nil cmp", c.CreateCollation(ctx, "x", nil))
	xIsArgError(t, "empty name", c.CreateCollation(ctx, "", reverseCmp))
	xNoCrash(t, s)

	// A panic in cmp is a crash; the collations are registered again (the table needs one).
	if err := c.CreateCollation(ctx, "panics", func(a, b string) int { panic("cmp panicked") }); err != nil {
		t.Fatal(err)
	}
	_, err := c.QueryAll(ctx, "SELECT v FROM (SELECT column1 AS v FROM (VALUES ('b'), ('a'))) ORDER BY v COLLATE panics")
	if !errors.Is(err, messages.ErrCrashed) || !strings.Contains(err.Error(), "cmp panicked") {
		t.Fatalf("panicking collation: %v", err)
	}
	xExec(t, c, "INSERT INTO words VALUES ('d')")
	if got := col("SELECT w FROM words ORDER BY w"); !reflect.DeepEqual(got, []any{"d", "c", "b", "a"}) {
		t.Fatalf("after restart: %v", got)
	}
	if v := xOne(t, c, "SELECT count(*) FROM words WHERE w > 'b'"); v != int64(1) { // only 'a' sorts after 'b'
		t.Fatalf("comparison through the index after restart: %v", v)
	}
}

func TestSetAuthorizer(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xScript(t, c, `CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT, secret TEXT);
		INSERT INTO acct VALUES (1, 'ann', 's3cret');
		CREATE VIEW owners AS SELECT owner FROM acct`)
	// Warm the statement cache: a cached statement must be authorized again.
	if v := xOne(t, c, "SELECT secret FROM acct"); v != "s3cret" {
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
	if v := xOne(t, c, "SELECT secret FROM acct"); v != nil {
		t.Fatalf("ignored column read as %v, want NULL", v)
	}
	if v := xOne(t, c, "SELECT owner FROM acct"); v != "ann" {
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
	if v := xOne(t, c, "SELECT count(*) FROM acct"); v != int64(1) {
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
	xCrash(t, s, c)
	if _, err := c.Exec(ctx, "DELETE FROM acct"); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("after restart: %v, want ErrNotAuthorized", err)
	}
	if v := xOne(t, c, "SELECT secret FROM acct"); v != nil {
		t.Fatalf("after restart, ignored column read as %v", v)
	}
	// nil removes it, statements prepared under it included.
	if err := c.SetAuthorizer(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, "SELECT secret FROM acct"); v != "s3cret" {
		t.Fatalf("after removal: secret read as %v", v)
	}
	xExec(t, c, "DELETE FROM acct")
	// A restart after removal does not bring it back.
	xCrash(t, s, c)
	xExec(t, c, "INSERT INTO acct VALUES (2, 'bob', 'x')")
	xExec(t, c, "DELETE FROM acct")
}

func TestSetAuthorizerPanics(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xExec(t, c, "CREATE TABLE t (x)")
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
	if v := xOne(t, c, "SELECT count(*) FROM t"); v != int64(0) {
		t.Fatalf("count %v after a failed insert", v)
	}
	_, err = c.QueryAll(ctx, "INSERT INTO t VALUES (2) RETURNING x")
	if err == nil || !strings.Contains(err.Error(), "authorizer exploded") {
		t.Fatalf("panicking authorizer, QueryAll: %v", err)
	}
	armed.Store(false)
	xExec(t, c, "INSERT INTO t VALUES (3)")
	xNoCrash(t, s)
}

func TestSetTrace(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
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
	xExec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
	xExec(t, c, "INSERT INTO t (s) VALUES (?)", "it's")
	if got, want := take(), []string{"CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)", "INSERT INTO t (s) VALUES ('it''s')"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Exec traced %q, want %q", got, want)
	}
	if _, err := c.ExecMany(ctx, "INSERT INTO t (s) VALUES (?)", [][]any{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := take(), []string{"BEGIN", "INSERT INTO t (s) VALUES ('a')", "INSERT INTO t (s) VALUES ('b')", "COMMIT"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ExecMany traced %q, want %q", got, want)
	}
	xScript(t, c, "UPDATE t SET s = upper(s); DELETE FROM t WHERE id = 3")
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
	xCrash(t, s, c)
	take()
	xExec(t, c, "DELETE FROM t WHERE id = ?", 99)
	if got, want := take(), []string{"DELETE FROM t WHERE id = 99"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart traced %q, want %q", got, want)
	}
	// nil removes it.
	if err := c.SetTrace(ctx, nil); err != nil {
		t.Fatal(err)
	}
	xExec(t, c, "DELETE FROM t WHERE id = 98")
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
	_, c := xOpen(t)
	ctx := xCtx(t)
	durations := make(chan time.Duration, 4)
	if err := c.SetTrace(ctx, func(sql string, d time.Duration) { durations <- d }); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	v := xOne(t, c, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT count(*) FROM c")
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
	s, c := xOpen(t)
	ctx := xCtx(t)
	xExec(t, c, "CREATE TABLE t (x)")
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
	if v := xOne(t, c, "SELECT count(*) FROM t"); v != int64(1) {
		t.Fatalf("count %v", v)
	}
	// A cursor closed early: its trace panic must not fail an unrelated later call.
	xExec(t, c, "INSERT INTO t SELECT value FROM generate_series(2, 200)")
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
	xNoCrash(t, s)
}

func TestSetProgressHandler(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	const q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT count(*) FROM c"
	var calls atomic.Int64
	count := func() bool { calls.Add(1); return false }
	if err := c.SetProgressHandler(ctx, 1000, count); err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, q); v != int64(50000) {
		t.Fatal(v)
	}
	every1000 := calls.Swap(0)
	if err := c.SetProgressHandler(ctx, 20000, count); err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, q); v != int64(50000) {
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
	xCrash(t, s, c)
	abortAfter.Store(3)
	if _, err := c.QueryRow(ctx, q); !errors.Is(err, messages.ErrInterrupted) {
		t.Fatalf("after restart: %v, want ErrInterrupted", err)
	}
	// nil removes it.
	if err := c.SetProgressHandler(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, q); v != int64(50000) {
		t.Fatal(v)
	}
	// Bad input.
	xIsArgError(t, "steps 0", c.SetProgressHandler(ctx, 0, count))
	xIsArgError(t, "steps -1", c.SetProgressHandler(ctx, -1, count))
	// By message, bypassing the handle's check.
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.SetProgressHandler{Steps: 0, Fn: count, ReplyTo: reply})
	xIsArgError(t, "steps 0 by message", (<-reply).ReplyErr())
}

func TestSetProgressHandlerPanics(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
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
	if v := xOne(t, c, q); v != int64(20000) {
		t.Fatalf("after the panic: %v", v)
	}
	xNoCrash(t, s)
}

// changeSink is an actor that forwards the update hook's messages to a channel.
type changeSink struct{ out chan<- *messages.RowChanges }

func (a *changeSink) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*messages.RowChanges); ok {
		a.out <- m
	}
}

// xSink spawns a changeSink in s's actor system, stopped when the test ends.
func xSink(t testing.TB, s *supervisor.Supervisor) (*actor.PID, <-chan *messages.RowChanges) {
	t.Helper()
	ch := make(chan *messages.RowChanges, 1024)
	root := s.System().Root
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &changeSink{out: ch} }))
	t.Cleanup(func() { root.StopFuture(pid).Wait() }) // before the supervisor's Stop
	return pid, ch
}

// xCommits receives the messages of n commits of c, and returns their changes.
func xCommits(t testing.TB, c *actors.Conn, ch <-chan *messages.RowChanges, n int) [][]messages.RowChange {
	t.Helper()
	ctx := xCtx(t)
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
	s, c := xOpen(t)
	ctx := xCtx(t)
	pid, ch := xSink(t, s)
	xExec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
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
		if got := xCommits(t, c, ch, len(want)); !reflect.DeepEqual(got, want) {
			t.Fatalf("commits %+v, want %+v", got, want)
		}
	}
	// Autocommit: one message per statement.
	xExec(t, c, "INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")
	xExec(t, c, "UPDATE t SET v = 'B' WHERE id = 2")
	xExec(t, c, "DELETE FROM t WHERE id = 1")
	expect(commit{rc("INSERT", 1), rc("INSERT", 2)}, commit{rc("UPDATE", 2)}, commit{rc("DELETE", 1)})
	// A rolled-back transaction sends nothing: the next change is the marker's.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	xExec(t, c, "INSERT INTO t (id, v) VALUES (10, 'x')")
	xExec(t, c, "DELETE FROM t WHERE id = 2")
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
	xExec(t, c, "INSERT INTO t (id, v) VALUES (3, 'marker')")
	expect(commit{rc("INSERT", 3)})
	// A committed transaction sends its changes, after the commit.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	xExec(t, c, "INSERT INTO t (id, v) VALUES (4, 'd')")
	xExec(t, c, "UPDATE t SET v = 'C' WHERE id = 3")
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
	xScript(t, c, "BEGIN; DELETE FROM t WHERE id = 5; COMMIT; BEGIN; DELETE FROM t WHERE id = 6; ROLLBACK")
	expect(commit{rc("DELETE", 5)})

	// Changes of a transaction lost in a crash are never sent.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	xExec(t, c, "INSERT INTO t (id, v) VALUES (40, 'lost')")
	if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatal(err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The hook survives the restart.
	xExec(t, c, "INSERT INTO t (id, v) VALUES (7, 'g')")
	expect(commit{rc("INSERT", 7)})

	// nil removes it: nothing is sent until it is set again.
	if err := c.SetUpdateHook(ctx, nil); err != nil {
		t.Fatal(err)
	}
	xExec(t, c, "INSERT INTO t (id, v) VALUES (8, 'h')")
	if err := c.SetUpdateHook(ctx, pid); err != nil {
		t.Fatal(err)
	}
	xExec(t, c, "INSERT INTO t (id, v) VALUES (9, 'i')")
	expect(commit{rc("INSERT", 9)})
}

func TestOpenBlob(t *testing.T) {
	var reads, writes atomic.Int64
	var tooBig atomic.Bool
	s, c := xOpen(t, actors.WithFaultHook(func(req messages.Request) {
		switch m := req.(type) {
		case *messages.BlobRead:
			reads.Add(1)
			tooBig.CompareAndSwap(false, m.N > 256<<10)
		case *messages.BlobWrite:
			writes.Add(1)
			tooBig.CompareAndSwap(false, len(m.Data) > 256<<10)
		}
	}))
	ctx := xCtx(t)
	const size = 600 << 10 // three messages of at most 256 KiB
	xExec(t, c, "CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
	id := xExec(t, c, "INSERT INTO files (name, data) VALUES ('big', zeroblob(?))", size).LastInsertID

	b, err := c.OpenBlob(ctx, "files", "data", id, true)
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != size {
		t.Fatalf("size %d", b.Size())
	}
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i * 7 % 251)
	}
	if n, err := b.Write(want); n != size || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if w := writes.Load(); w != 3 {
		t.Fatalf("%d write messages for 600 KiB, want 3", w)
	}
	// Writing past the end fails: a blob cannot grow.
	if n, err := b.Write([]byte{1}); n != 0 || err == nil {
		t.Fatalf("write past the end: %d, %v", n, err)
	}
	if pos, err := b.Seek(0, io.SeekStart); pos != 0 || err != nil {
		t.Fatal(pos, err)
	}
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("read back differs from what was written")
	}
	// Reads move at most 256 KiB per message.
	reads.Store(0)
	b.Seek(0, io.SeekStart)
	buf := make([]byte, size)
	if n, err := b.Read(buf); n != 256<<10 || err != nil {
		t.Fatalf("one read of 600 KiB: %d, %v; want 256 KiB", n, err)
	}
	if r := reads.Load(); r != 1 {
		t.Fatalf("%d messages for one read", r)
	}
	if tooBig.Load() {
		t.Fatal("a blob message carried more than 256 KiB")
	}
	// Seek.
	if pos, err := b.Seek(-10, io.SeekEnd); pos != size-10 || err != nil {
		t.Fatal(pos, err)
	}
	if pos, err := b.Seek(4, io.SeekCurrent); pos != size-6 || err != nil {
		t.Fatal(pos, err)
	}
	tail := make([]byte, 100)
	if n, err := io.ReadFull(b, tail); n != 6 || !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.Equal(tail[:6], want[size-6:]) {
		t.Fatalf("tail: %d, %v", n, err)
	}
	if n, err := b.Read(tail); n != 0 || err != io.EOF {
		t.Fatalf("read at the end: %d, %v", n, err)
	}
	if _, err := b.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("negative seek succeeded")
	}
	if _, err := b.Seek(0, 42); err == nil {
		t.Fatal("bad whence succeeded")
	}
	// Write in the middle, then read the row through SQL.
	b.Seek(10, io.SeekStart)
	if _, err := b.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := b.Read(buf); !errors.Is(err, messages.ErrBlobClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if v := xOne(t, c, "SELECT substr(data, 11, 5) FROM files WHERE id = ?", id); !bytes.Equal(v.([]byte), []byte("hello")) {
		t.Fatalf("SQL sees %q", v)
	}

	// Read-only blobs cannot be written.
	ro, err := c.OpenBlob(ctx, "files", "data", id, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Write([]byte("x")); err == nil {
		t.Fatal("write to a read-only blob succeeded")
	}
	ro.Close()

	// Bad input.
	for _, bad := range []struct {
		table, column string
		rowid         int64
	}{{"nosuch", "data", id}, {"files", "nosuch", id}, {"files", "data", 999}, {"", "", 0}} {
		if b, err := c.OpenBlob(ctx, bad.table, bad.column, bad.rowid, false); err == nil || b != nil {
			t.Fatalf("OpenBlob(%+v): %v, %v", bad, b, err)
		}
	}
	// Unknown blob ids by message.
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.BlobRead{Blob: 12345, N: 10, ReplyTo: reply})
	if err := (<-reply).ReplyErr(); !errors.Is(err, messages.ErrBlobClosed) {
		t.Fatalf("read of an unknown blob: %v", err)
	}

	// A crash invalidates open blobs.
	b2, err := c.OpenBlob(ctx, "files", "data", id, false)
	if err != nil {
		t.Fatal(err)
	}
	xCrash(t, s, c)
	if _, err := b2.Read(buf); !errors.Is(err, messages.ErrBlobClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("read after a crash: %v, want ErrBlobClosed and ErrCrashed", err)
	}
	if err := b2.Close(); err != nil {
		t.Fatalf("close after a crash: %v", err)
	}
	// And so does closing the connection.
	b3, err := c.OpenBlob(ctx, "files", "data", id, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b3.Read(buf); !errors.Is(err, messages.ErrBlobClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := b3.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenBlob(ctx, "files", "data", id, false); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("OpenBlob on a closed conn: %v", err)
	}
}

func TestBlobInvalidatedByUpdate(t *testing.T) {
	_, c := xOpen(t)
	ctx := xCtx(t)
	xExec(t, c, "CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB)")
	xExec(t, c, "INSERT INTO files VALUES (1, x'00010203')")
	b, err := c.OpenBlob(ctx, "files", "data", 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	xExec(t, c, "UPDATE files SET data = x'ff' WHERE id = 1")
	if _, err := b.Read(make([]byte, 4)); err == nil {
		t.Fatal("a blob read after its row changed succeeded")
	}
	// The connection is fine.
	if v := xOne(t, c, "SELECT hex(data) FROM files"); v != "FF" {
		t.Fatal(v)
	}
}

// dumpSetup is a database that exercises Dump: awkward values and names, an index, a trigger,
// a view, AUTOINCREMENT, a generated column and a WITHOUT ROWID table.
const dumpSetup = `
CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, price REAL, data BLOB, note TEXT);
INSERT INTO items (name, price, data, note) VALUES
	('plain', 1.5, x'00ff10', NULL),
	('it''s "quoted"', 0.1, NULL, 'line1
line2'),
	('unicode ☃', -2.25e-10, x'', ''),
	('big', 1e300, zeroblob(3), 'x'),
	('third', 0.30000000000000004, NULL, NULL);
DELETE FROM items WHERE name = 'big';
CREATE TABLE "odd ""name""" ("a b" INTEGER, "c""d" TEXT, total INTEGER GENERATED ALWAYS AS ("a b" * 2) VIRTUAL);
INSERT INTO "odd ""name""" VALUES (1, 'one'), (NULL, NULL), (9223372036854775807, 'max');
CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID;
INSERT INTO kv VALUES ('a', 1), ('b', 2.5), ('c', 'text'), ('d', x'01'), ('e', NULL), ('f', 'nul' || char(0) || 'after');
CREATE TABLE log (item_id INTEGER, what TEXT);
CREATE INDEX items_name ON items (name);
CREATE UNIQUE INDEX items_price ON items (price) WHERE price IS NOT NULL;
CREATE TRIGGER items_log AFTER INSERT ON items BEGIN INSERT INTO log VALUES (new.id, 'insert ' || new.name); END;
CREATE VIEW cheap AS SELECT name FROM items WHERE price < 1;
INSERT INTO items (name, price) VALUES ('after trigger', 7);
`

// xSchema returns sqlite_schema, ordered.
func xSchema(t testing.TB, c *actors.Conn) [][]any {
	return xValues(t, c, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
}

func xTableRows(t testing.TB, c *actors.Conn) map[string][][]any {
	out := make(map[string][][]any)
	for _, q := range []string{
		`SELECT * FROM items ORDER BY id`,
		`SELECT *, total FROM "odd ""name""" ORDER BY rowid`,
		`SELECT k, v, typeof(v) FROM kv ORDER BY k`,
		`SELECT * FROM log ORDER BY rowid`,
		`SELECT * FROM cheap ORDER BY name`,
		`SELECT name, seq FROM sqlite_sequence`,
		`SELECT typeof(price), typeof(data), typeof(note) FROM items ORDER BY id`,
	} {
		out[q] = xValues(t, c, q)
	}
	return out
}

func TestDumpRoundTrip(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xScript(t, c, dumpSetup)
	var dump strings.Builder
	if err := c.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	t.Logf("dump:\n%s", dump.String())

	fresh, err := s.Open(ctx, filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.ExecScript(ctx, dump.String()); err != nil {
		t.Fatalf("loading the dump: %v", err)
	}
	if got, want := xSchema(t, fresh), xSchema(t, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("schema differs:\n got %v\nwant %v", got, want)
	}
	if got, want := xTableRows(t, fresh), xTableRows(t, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows differ:\n got %v\nwant %v", got, want)
	}
	// The trigger and the index work in the copy.
	xExec(t, fresh, "INSERT INTO items (name, price) VALUES ('new', 3)")
	if v := xOne(t, fresh, "SELECT what FROM log ORDER BY rowid DESC LIMIT 1"); v != "insert new" {
		t.Fatalf("trigger in the copy: %v", v)
	}
	if _, err := fresh.Exec(ctx, "INSERT INTO items (name, price) VALUES ('dup', 3)"); !errors.Is(err, messages.ErrConstraint) {
		t.Fatalf("unique index in the copy: %v", err)
	}
	if v := xOne(t, fresh, "PRAGMA integrity_check"); v != "ok" {
		t.Fatalf("integrity: %v", v)
	}
	// A dump of the copy is the same text.
	var again strings.Builder
	xExec(t, fresh, "DELETE FROM items WHERE name = 'new'")
	xExec(t, fresh, "DELETE FROM log WHERE what = 'insert new'")
	xExec(t, fresh, "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence) - 1")
	if err := fresh.Dump(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != dump.String() {
		t.Fatalf("the copy dumps differently:\n%s", again.String())
	}
}

func TestDumpEmptyAndInTransaction(t *testing.T) {
	_, c := xOpen(t)
	ctx := xCtx(t)
	var empty strings.Builder
	if err := c.Dump(ctx, &empty); err != nil {
		t.Fatal(err)
	}
	if want := "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCOMMIT;\n"; empty.String() != want {
		t.Fatalf("empty dump %q, want %q", empty.String(), want)
	}
	// Inside a transaction, the dump sees its changes and leaves it open.
	xExec(t, c, "CREATE TABLE t (x)")
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	xExec(t, c, "INSERT INTO t VALUES (42)")
	var in strings.Builder
	if err := c.Dump(ctx, &in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(in.String(), `INSERT INTO "t"("x") VALUES(42);`) {
		t.Fatalf("dump in a transaction misses its row:\n%s", in.String())
	}
	if in, err := c.InTransaction(ctx); !in || err != nil {
		t.Fatalf("after dump: in transaction %v, %v", in, err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, "SELECT count(*) FROM t"); v != int64(0) {
		t.Fatal(v)
	}
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

var errWriterFull = errors.New("writer full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errWriterFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestDumpErrors(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	// Enough rows for several chunks.
	xScript(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT);
		WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20000)
		INSERT INTO t (s) SELECT printf('row %08d padding padding padding', i) FROM r`)
	for range 20 {
		err := c.Dump(ctx, &failingWriter{n: 100 << 10})
		if !errors.Is(err, errWriterFull) {
			t.Fatalf("dump to a failing writer: %v", err)
		}
	}
	// The connection is fine, and not left in a transaction.
	if in, err := c.InTransaction(ctx); in || err != nil {
		t.Fatalf("in transaction %v, %v", in, err)
	}
	if v := xOne(t, c, "SELECT count(*) FROM t"); v != int64(20000) {
		t.Fatal(v)
	}
	// A cancelled dump returns the ctx error.
	cctx, cancel := context.WithCancel(ctx)
	w := writerFunc(func(p []byte) (int, error) { cancel(); return len(p), nil })
	if err := c.Dump(cctx, w); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dump: %v", err)
	}
	if in, err := c.InTransaction(ctx); in || err != nil {
		t.Fatalf("after a cancelled dump: in transaction %v, %v", in, err)
	}
	// The caller gives up while the actor is blocked handing it a chunk: the actor must not
	// crash (a send on the chunks channel closed under it would panic).
	for range 10 {
		cctx, cancel := context.WithCancel(ctx)
		w := writerFunc(func(p []byte) (int, error) {
			for range 2000 { // let the actor fill the chunk buffer and block
				runtime.Gosched()
			}
			cancel()
			for range 2000 {
				runtime.Gosched()
			}
			return len(p), nil
		})
		if err := c.Dump(cctx, w); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled dump: %v", err)
		}
	}
	if err := c.Dump(ctx, nil); err == nil {
		t.Fatal("dump to a nil writer succeeded")
	}
	if v := xOne(t, c, "SELECT count(*) FROM t"); v != int64(20000) {
		t.Fatal(v)
	}
	xNoCrash(t, s)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestSerializeDeserialize(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xScript(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT);
		INSERT INTO t (s) VALUES ('a'), ('b')`)
	data, err := c.Serialize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
		t.Fatalf("serialized %d bytes, not a database file", len(data))
	}
	other, err := s.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Deserialize(ctx, data); err != nil {
		t.Fatal(err)
	}
	if got := xValues(t, other, "SELECT s FROM t ORDER BY id"); !reflect.DeepEqual(got, [][]any{{"a"}, {"b"}}) {
		t.Fatalf("deserialized rows: %v", got)
	}
	// The deserialized database is writable.
	xExec(t, other, "INSERT INTO t (s) VALUES ('c')")
	if v := xOne(t, other, "SELECT count(*) FROM t"); v != int64(3) {
		t.Fatal(v)
	}
	if err := other.Deserialize(ctx, nil); err == nil {
		t.Fatal("deserializing nothing succeeded")
	}
	if err := other.Deserialize(ctx, []byte("not a database, not at all, no")); err == nil {
		if _, err := other.QueryAll(ctx, "SELECT * FROM sqlite_schema"); err == nil {
			t.Fatal("garbage deserialized into a readable database")
		}
	}
	xNoCrash(t, s)
}

func TestTotalChangesExecInsertQueryAll(t *testing.T) {
	s, c := xOpen(t)
	ctx := xCtx(t)
	xExec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
	if n, err := c.TotalChanges(ctx); n != 0 || err != nil {
		t.Fatalf("total changes %d, %v", n, err)
	}
	for i, want := range []int64{1, 2, 3} {
		id, err := c.ExecInsert(ctx, "INSERT INTO t (s) VALUES (?)", fmt.Sprint(i))
		if id != want || err != nil {
			t.Fatalf("ExecInsert: %d, %v; want %d", id, err, want)
		}
	}
	if id, err := c.ExecInsert(ctx, "INSERT INTO nosuch VALUES (1)"); id != 0 || !errors.Is(err, messages.ErrSQL) {
		t.Fatalf("ExecInsert bad: %d, %v", id, err)
	}
	xExec(t, c, "UPDATE t SET s = 'x'")
	if n, err := c.TotalChanges(ctx); n != 6 || err != nil {
		t.Fatalf("total changes %d, %v; want 6", n, err)
	}
	// QueryAll returns every row, past the fetch size, in one round trip.
	xScript(t, c, `WITH RECURSIVE r(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM r WHERE i < 500)
		INSERT INTO t (id, s) SELECT i, 'y' FROM r`)
	rows, err := c.QueryAll(ctx, "SELECT id FROM t WHERE id > ? ORDER BY id", 0)
	if err != nil || len(rows) != 500 || rows[499].Index(0) != int64(500) {
		t.Fatalf("QueryAll: %d rows, %v", len(rows), err)
	}
	if rows, err := c.QueryAll(ctx, "SELECT id FROM t WHERE 0"); err != nil || len(rows) != 0 {
		t.Fatalf("QueryAll of nothing: %v, %v", rows, err)
	}
	if _, err := c.QueryAll(ctx, "SELECT nosuch FROM t"); !errors.Is(err, messages.ErrSQL) {
		t.Fatalf("QueryAll bad: %v", err)
	}
	if _, err := c.QueryAll(ctx, "SELECT ?", struct{}{}); !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("QueryAll bad argument: %v", err)
	}
	// A restart starts the count again.
	xCrash(t, s, c)
	if n, err := c.TotalChanges(ctx); n != 0 || err != nil {
		t.Fatalf("total changes after restart %d, %v", n, err)
	}
}

// longQuery counts to a billion: minutes of work unless interrupted. started() reports when it runs.
const xLongQuery = `WITH RECURSIVE c(x) AS (SELECT started() UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)
	SELECT count(*) FROM c`

// xStarted registers started(), which reports on the returned channel each time it runs.
func xStarted(t testing.TB, c *actors.Conn) <-chan struct{} {
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
	s, c := xOpen(t)
	ctx := xCtx(t)
	// Nothing running: nothing happens.
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, "SELECT 42"); v != int64(42) {
		t.Fatal(v)
	}
	started := xStarted(t, c)
	done := make(chan error, 1)
	go func() {
		_, err := c.QueryRow(ctx, xLongQuery)
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
	if v := xOne(t, c, "SELECT 43"); v != int64(43) {
		t.Fatal(v)
	}
	// An Exec, and within a transaction, which stays open.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := c.Exec(ctx, "CREATE TABLE big AS "+xLongQuery)
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
	xNoCrash(t, s)
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Interrupt(ctx); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("Interrupt on a closed conn: %v", err)
	}
}

// captureHandler is a slog.Handler that keeps the records at Info and above.
type captureHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

// warned reports whether a Warn record has an attribute dsn=dsn.
func (h *captureHandler) warned(dsn string) (msg string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if r.Level != slog.LevelWarn {
			continue
		}
		found := false
		r.Attrs(func(a slog.Attr) bool {
			found = a.Key == "dsn" && a.Value.String() == dsn
			return !found
		})
		if found {
			return r.Message, true
		}
	}
	return "", false
}

// openAndDrop opens a connection, uses it, and drops the handle without Close.
func openAndDrop(t *testing.T, s *supervisor.Supervisor, dsn string) {
	c, err := s.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(context.Background(), "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
}

func TestConnGarbageCollected(t *testing.T) {
	dir := t.TempDir()
	h := &captureHandler{}
	s := xSup(t, supervisor.Config{Logger: slog.New(h)})
	dsn := filepath.Join(dir, "dropped.db")
	openAndDrop(t, s, dsn)
	if n := s.Stats().OpenConns; n != 1 {
		t.Fatalf("%d open connections", n)
	}
	ctx := xCtx(t)
	for {
		if msg, ok := h.warned(dsn); ok {
			t.Logf("warning: %s", msg)
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no warning naming the DSN of the collected Conn")
		}
		runtime.GC()
		runtime.Gosched()
	}
	for s.Stats().OpenConns != 0 {
		if ctx.Err() != nil {
			t.Fatalf("the collected Conn's connection is still open: %+v", s.Stats())
		}
		runtime.Gosched()
	}
	// What it wrote is there, and the file is free to open again.
	c, err := s.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if v := xOne(t, c, "SELECT count(*) FROM t"); v != int64(0) {
		t.Fatal(v)
	}
	// A Conn that was closed is not warned about when collected.
	h.mu.Lock()
	h.recs = nil
	h.mu.Unlock()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c = nil
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
	if _, ok := h.warned(dsn); ok {
		t.Fatal("a closed Conn was warned about")
	}
}

func TestExtensions(t *testing.T) {
	dir := t.TempDir()
	s := xSup(t, supervisor.Config{})
	ctx := xCtx(t)
	plain, err := s.Open(ctx, filepath.Join(dir, "plain.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Exec(ctx, "CREATE VIRTUAL TABLE f USING fts5(x)"); err == nil || !strings.Contains(err.Error(), "no such module") {
		t.Fatalf("fts5 without WithFTS5: %v", err)
	}
	if _, err := plain.Exec(ctx, "CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)"); err == nil || !strings.Contains(err.Error(), "no such module") {
		t.Fatalf("rtree without WithRTree: %v", err)
	}
	// Math and JSON functions are built in.
	if v := xOne(t, plain, "SELECT sqrt(16) + pow(2, 3) + floor(log10(1000)) + json_extract('{\"a\": 1}', '$.a')"); v != float64(16) {
		t.Fatalf("math: %v", v)
	}

	c, err := s.Open(ctx, filepath.Join(dir, "ext.db"), actors.WithFTS5(), actors.WithRTree())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom!") }); err != nil {
		t.Fatal(err)
	}
	xScript(t, c, `CREATE VIRTUAL TABLE docs USING fts5(title, body);
		INSERT INTO docs VALUES ('Go', 'actors and channels'), ('SQLite', 'a small fast database engine');
		CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1, y0, y1);
		INSERT INTO boxes VALUES (1, 0, 10, 0, 10), (2, 20, 30, 20, 30)`)
	if v := xOne(t, c, "SELECT title FROM docs WHERE docs MATCH 'database'"); v != "SQLite" {
		t.Fatalf("fts5: %v", v)
	}
	if v := xOne(t, c, "SELECT id FROM boxes WHERE x0 <= 25 AND x1 >= 25 AND y0 <= 25 AND y1 >= 25"); v != int64(2) {
		t.Fatalf("rtree: %v", v)
	}
	// The extensions are loaded again after a restart.
	xCrash(t, s, c)
	if v := xOne(t, c, "SELECT title FROM docs WHERE docs MATCH 'actors'"); v != "Go" {
		t.Fatalf("fts5 after restart: %v", v)
	}
	if v := xOne(t, c, "SELECT count(*) FROM boxes WHERE x1 >= 5"); v != int64(2) {
		t.Fatalf("rtree after restart: %v", v)
	}
	// A dump of virtual tables loads into a fresh database with the extensions.
	var dump strings.Builder
	if err := c.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.Open(ctx, filepath.Join(dir, "fresh.db"), actors.WithFTS5(), actors.WithRTree())
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.ExecScript(ctx, dump.String()); err != nil {
		t.Fatalf("loading a dump with virtual tables: %v\n%s", err, dump.String())
	}
	if v := xOne(t, fresh, "SELECT title FROM docs WHERE docs MATCH 'engine'"); v != "SQLite" {
		t.Fatalf("fts5 in the copy: %v", v)
	}
	if v := xOne(t, fresh, "SELECT id FROM boxes WHERE x0 <= 5 AND x1 >= 5"); v != int64(1) {
		t.Fatalf("rtree in the copy: %v", v)
	}
}

// TestRegistrationsSurviveRestart registers one thing of each kind, crashes the connection
// with a panicking function, and checks that the registration still works.
func TestRegistrationsSurviveRestart(t *testing.T) {
	type check func(t *testing.T, s *supervisor.Supervisor, c *actors.Conn)
	kinds := map[string]struct{ register, verify check }{
		"function": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateFunction(xCtx(t), "twice", 1, func(a []any) (any, error) { return a[0].(int64) * 2, nil }); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if v := xOne(t, c, "SELECT twice(21)"); v != int64(42) {
					t.Fatal(v)
				}
			},
		},
		"aggregate": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateAggregate(xCtx(t), "mysum", 1, func() actors.Aggregate { return &sumAgg{} }); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if v := xOne(t, c, "SELECT mysum(value) FROM generate_series(1, 4)"); v != int64(10) {
					t.Fatal(v)
				}
			},
		},
		"window function": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateWindowFunction(xCtx(t), "msum", 1, func() actors.WindowAggregate { return &movingSum{} }); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				got := xValues(t, c, "SELECT msum(value) OVER (ORDER BY value ROWS 1 PRECEDING) FROM generate_series(1, 3)")
				if !reflect.DeepEqual(got, [][]any{{int64(1)}, {int64(3)}, {int64(5)}}) {
					t.Fatal(got)
				}
			},
		},
		"collation": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateCollation(xCtx(t), "reverse", reverseCmp); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if v := xOne(t, c, "SELECT v FROM (SELECT column1 AS v FROM (VALUES ('a'), ('c'), ('b'))) ORDER BY v COLLATE reverse"); v != "c" {
					t.Fatal(v)
				}
			},
		},
		"authorizer": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				err := c.SetAuthorizer(xCtx(t), func(r messages.AuthRequest) messages.AuthResult {
					if r.Action == "PRAGMA" {
						return messages.AuthDeny
					}
					return messages.AuthOK
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if _, err := c.QueryAll(xCtx(t), "PRAGMA user_version"); !errors.Is(err, messages.ErrNotAuthorized) {
					t.Fatalf("%v, want ErrNotAuthorized", err)
				}
			},
		},
		"trace": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.SetTrace(xCtx(t), func(sql string, _ time.Duration) {
					if strings.Contains(sql, "trace me") {
						panic("traced: " + sql)
					}
				}); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if _, err := c.Exec(xCtx(t), "SELECT 'trace me'"); err == nil || !strings.Contains(err.Error(), "traced: SELECT 'trace me'") {
					t.Fatalf("%v, want the trace's panic", err)
				}
			},
		},
		"progress handler": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.SetProgressHandler(xCtx(t), 1000, abortProgress.Load); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				abortProgress.Store(true)
				_, err := c.QueryRow(xCtx(t), "SELECT count(*) FROM generate_series(1, 100000)")
				abortProgress.Store(false)
				if !errors.Is(err, messages.ErrInterrupted) {
					t.Fatalf("%v, want ErrInterrupted", err)
				}
			},
		},
		"update hook": {
			register: func(t *testing.T, s *supervisor.Supervisor, c *actors.Conn) {
				pid, ch := xSink(t, s)
				xExec(t, c, "CREATE TABLE t (x)")
				if err := c.SetUpdateHook(xCtx(t), pid); err != nil {
					t.Fatal(err)
				}
				xExec(t, c, "INSERT INTO t VALUES (1)")
				xCommits(t, c, ch, 1)
				sinks.Store(c, ch)
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				ch, _ := sinks.Load(c)
				id := xExec(t, c, "INSERT INTO t VALUES (2)").LastInsertID
				got := xCommits(t, c, ch.(<-chan *messages.RowChanges), 1)
				if want := []messages.RowChange{{Op: "INSERT", Database: "main", Table: "t", RowID: id}}; !reflect.DeepEqual(got[0], want) {
					t.Fatalf("%+v, want %+v", got[0], want)
				}
			},
		},
	}
	for name, k := range kinds {
		t.Run(name, func(t *testing.T) {
			s, c := xOpen(t)
			k.register(t, s, c)
			k.verify(t, s, c)
			xCrash(t, s, c)
			k.verify(t, s, c)
			xCrash(t, s, c)
			k.verify(t, s, c)
		})
	}
}

// sinks holds the update hook's channel between register and verify.
var sinks sync.Map

// abortProgress is what the progress handler of TestRegistrationsSurviveRestart answers.
var abortProgress atomic.Bool
