package actors_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

func TestCreateFunction(t *testing.T) {
	ctx := t.Context()
	c := newConn(t)
	err := c.CreateFunction(ctx, "double", 1, func(args []any) (any, error) {
		switch v := args[0].(type) {
		case int64:
			return v * 2, nil
		case float64:
			return v * 2, nil
		case string:
			return v + v, nil
		case nil:
			return nil, nil
		}
		return nil, fmt.Errorf("double: unsupported %T", args[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	row, err := c.QueryRow(ctx, "SELECT double(21), double(1.25), double('ab'), double(NULL)")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := row.Values(), []any{int64(42), 2.5, "abab", nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("double(...) = %#v, want %#v", got, want)
	}

	// A variadic function.
	err = c.CreateFunction(ctx, "nargs", -1, func(args []any) (any, error) { return len(args), nil })
	if err != nil {
		t.Fatal(err)
	}
	row, err = c.QueryRow(ctx, "SELECT nargs(), nargs(1, 2, 3)")
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Values(); !reflect.DeepEqual(got, []any{int64(0), int64(3)}) {
		t.Errorf("nargs(...) = %v", got)
	}

	// The function's error fails the statement, and the connection goes on.
	_, err = c.QueryRow(ctx, "SELECT double(x'00')")
	if err == nil || !strings.Contains(err.Error(), "double: unsupported []uint8") {
		t.Errorf("function error: err = %v", err)
	}
	if _, err := c.QueryRow(ctx, "SELECT double(1)"); err != nil {
		t.Errorf("after a function error: %v", err)
	}

	// Wrong arity is an SQL error.
	if _, err := c.QueryRow(ctx, "SELECT double(1, 2)"); !errors.Is(err, messages.ErrSQL) {
		t.Errorf("wrong arity: err = %v, want ErrSQL", err)
	}
}

func lowerFunc(args []any) (any, error) {
	s, _ := args[0].(string)
	return strings.ToLower(s), nil
}

func TestCreateFunctionFlags(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	execScript(t, c, `CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);
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
	exec(t, c, "CREATE INDEX people_lower ON people (det_lower(name))")
	exec(t, c, "INSERT INTO people (name) VALUES ('Edsger')") // evaluates the index expression
	plan := fmt.Sprint(queryValues(t, c, "EXPLAIN QUERY PLAN SELECT id FROM people WHERE det_lower(name) = 'alan'"))
	if !strings.Contains(plan, "people_lower") {
		t.Fatalf("query plan %s does not use the expression index", plan)
	}
	if v := queryValue(t, c, "SELECT id FROM people WHERE det_lower(name) = 'alan'"); v != int64(2) {
		t.Fatalf("lookup through the index: %v", v)
	}
	// And in a generated column.
	exec(t, c, "CREATE TABLE g (a TEXT, b TEXT GENERATED ALWAYS AS (det_lower(a)) STORED)")
	exec(t, c, "INSERT INTO g (a) VALUES ('MiXeD')")
	if v := queryValue(t, c, "SELECT b FROM g"); v != "mixed" {
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
		exec(t, c, fmt.Sprintf("CREATE VIEW v_%s AS SELECT %s(name) AS n FROM people", name, name))
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
		if v := queryValue(t, c, fmt.Sprintf("SELECT %s('ÉtÉ X')", name)); v != "été x" {
			t.Errorf("%s: %v", name, v)
		}
	}

	// After a crash the function is registered again, with its flags: the index still works.
	crashAndRestart(t, s, c)
	exec(t, c, "INSERT INTO people (name) VALUES ('Barbara')")
	if v := queryValue(t, c, "SELECT id FROM people WHERE det_lower(name) = 'barbara'"); v != int64(5) {
		t.Fatalf("lookup after restart: %v", v)
	}
	if _, err := c.QueryAll(ctx, "SELECT n FROM v_direct_lower"); err == nil {
		t.Fatal("after restart, a direct-only function ran in a view")
	}
}

func TestCreateFunctionBadInput(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	fn := func([]any) (any, error) { return int64(1), nil }
	isArgError(t, "nil function", c.CreateFunction(ctx, "f", 0, nil))
	isArgError(t, "empty name", c.CreateFunction(ctx, "", 0, fn))
	isArgError(t, "nargs -2", c.CreateFunction(ctx, "f", -2, fn))
	isArgError(t, "nargs 128", c.CreateFunction(ctx, "f", 128, fn))
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
	if v := queryValue(t, c, "SELECT one()"); v != int64(1) {
		t.Fatalf("one() = %v", v)
	}
	noCrash(t, s)
	// A panic is a crash: answered with ErrCrashed, the connection restarted and usable.
	var ce *messages.CrashError
	_, err = c.Exec(ctx, "SELECT boom()")
	if !errors.Is(err, messages.ErrCrashed) || !errors.As(err, &ce) || ce.Panic != "boom!" {
		t.Fatalf("panicking function: %v", err)
	}
	if v := queryValue(t, c, "SELECT one()"); v != int64(1) {
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
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	execScript(t, c, `CREATE TABLE sales (region TEXT, amount INTEGER);
		INSERT INTO sales VALUES ('north', 10), ('north', 5), ('south', 7), ('south', NULL), ('east', NULL)`)
	var finals atomic.Int64
	newSum := func() actors.Aggregate { return &sumAgg{fail: "bad", final: func() { finals.Add(1) }} }
	if err := c.CreateAggregate(ctx, "mysum", 1, newSum, actors.Deterministic()); err != nil {
		t.Fatal(err)
	}
	got := queryValues(t, c, "SELECT region, mysum(amount) FROM sales GROUP BY region ORDER BY region")
	want := [][]any{{"east", int64(0)}, {"north", int64(15)}, {"south", int64(7)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("grouped: %v, want %v", got, want)
	}
	// Each group had its own state, and got its Final.
	if n := finals.Load(); n != 3 {
		t.Fatalf("%d Final calls for 3 groups", n)
	}
	// No row at all: Final of a fresh state.
	if v := queryValue(t, c, "SELECT mysum(amount) FROM sales WHERE 0"); v != nil {
		t.Fatalf("empty aggregate: %v", v)
	}
	// As in SQLite, an aggregate can be used with OVER while its frame only grows; a sliding
	// frame needs Inverse (CreateWindowFunction): an error, not a crash.
	got = queryValues(t, c, "SELECT mysum(amount) OVER (ORDER BY rowid) FROM sales WHERE region = 'north'")
	if !reflect.DeepEqual(got, [][]any{{int64(10)}, {int64(15)}}) {
		t.Fatalf("aggregate over a growing frame: %v", got)
	}
	_, err := c.QueryAll(ctx, "SELECT mysum(amount) OVER (ROWS 1 PRECEDING) FROM sales")
	if err == nil || errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("aggregate over a sliding frame: %v, want an error", err)
	}
	// A Step error fails the statement, and only it.
	exec(t, c, "INSERT INTO sales VALUES ('west', 'bad')")
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
	if v := queryValue(t, c, "SELECT nargs(1, 2, 3) FROM sales WHERE region = 'north'"); v != int64(6) {
		t.Fatalf("nargs: %v", v)
	}
	noCrash(t, s)

	// Bad input.
	isArgError(t, "nil constructor", c.CreateAggregate(ctx, "x", 1, nil))
	isArgError(t, "empty name", c.CreateAggregate(ctx, "", 1, newSum))
	isArgError(t, "nargs 200", c.CreateAggregate(ctx, "x", 200, newSum))

	// A panic in Step is a crash; the aggregate is registered again after the restart.
	_, err = c.QueryAll(ctx, "SELECT mysum(v) FROM (SELECT 'panic' AS v)")
	if !errors.Is(err, messages.ErrCrashed) || !strings.Contains(err.Error(), "aggregate step panicked") {
		t.Fatalf("panicking step: %v, want ErrCrashed with the panic", err)
	}
	if v := queryValue(t, c, "SELECT mysum(amount) FROM sales WHERE region = 'north'"); v != int64(15) {
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
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	execScript(t, c, `CREATE TABLE pts (x INTEGER PRIMARY KEY, y INTEGER);
		INSERT INTO pts VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)`)
	if err := c.CreateWindowFunction(ctx, "msum", 1, func() actors.WindowAggregate { return &movingSum{} }); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT x, msum(y) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM pts ORDER BY x"
	got := queryValues(t, c, q)
	want := [][]any{{int64(1), int64(1)}, {int64(2), int64(3)}, {int64(3), int64(5)}, {int64(4), int64(7)}, {int64(5), int64(9)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("moving sum: %v, want %v", got, want)
	}
	// Running total (no Inverse), partitions, and use as a plain aggregate.
	got = queryValues(t, c, "SELECT x, msum(y) OVER (PARTITION BY x % 2 ORDER BY x) FROM pts ORDER BY x")
	want = [][]any{{int64(1), int64(1)}, {int64(2), int64(2)}, {int64(3), int64(4)}, {int64(4), int64(6)}, {int64(5), int64(9)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("partitioned running sum: %v, want %v", got, want)
	}
	if v := queryValue(t, c, "SELECT msum(y) FROM pts"); v != int64(15) {
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
	isArgError(t, "nil constructor", c.CreateWindowFunction(ctx, "w", 1, nil))
	isArgError(t, "bad nargs", c.CreateWindowFunction(ctx, "w", -5, func() actors.WindowAggregate { return &movingSum{} }))
	noCrash(t, s)

	// A panic in Inverse is a crash; the window function is registered again.
	if err := c.CreateWindowFunction(ctx, "msum_panics", 1, func() actors.WindowAggregate { return &movingSum{panicInverse: true} }); err != nil {
		t.Fatal(err)
	}
	_, err := c.QueryAll(ctx, strings.Replace(q, "msum", "msum_panics", 1))
	if !errors.Is(err, messages.ErrCrashed) || !strings.Contains(err.Error(), "inverse panicked") {
		t.Fatalf("panicking inverse: %v", err)
	}
	if got := queryValues(t, c, q); len(got) != 5 || got[4][1] != int64(9) {
		t.Fatalf("after restart: %v", got)
	}
}

func reverseCmp(a, b string) int { return strings.Compare(b, a) }

func TestCreateCollation(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	if err := c.CreateCollation(ctx, "reverse", reverseCmp); err != nil {
		t.Fatal(err)
	}
	execScript(t, c, `CREATE TABLE words (w TEXT COLLATE reverse);
		INSERT INTO words VALUES ('b'), ('a'), ('c');
		CREATE INDEX words_w ON words (w)`)
	col := func(sql string) []any {
		var out []any
		for _, r := range queryValues(t, c, sql) {
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
	isArgError(t, "nil cmp", c.CreateCollation(ctx, "x", nil))
	isArgError(t, "empty name", c.CreateCollation(ctx, "", reverseCmp))
	noCrash(t, s)

	// A panic in cmp is a crash; the collations are registered again (the table needs one).
	if err := c.CreateCollation(ctx, "panics", func(a, b string) int { panic("cmp panicked") }); err != nil {
		t.Fatal(err)
	}
	_, err := c.QueryAll(ctx, "SELECT v FROM (SELECT column1 AS v FROM (VALUES ('b'), ('a'))) ORDER BY v COLLATE panics")
	if !errors.Is(err, messages.ErrCrashed) || !strings.Contains(err.Error(), "cmp panicked") {
		t.Fatalf("panicking collation: %v", err)
	}
	exec(t, c, "INSERT INTO words VALUES ('d')")
	if got := col("SELECT w FROM words ORDER BY w"); !reflect.DeepEqual(got, []any{"d", "c", "b", "a"}) {
		t.Fatalf("after restart: %v", got)
	}
	if v := queryValue(t, c, "SELECT count(*) FROM words WHERE w > 'b'"); v != int64(1) { // only 'a' sorts after 'b'
		t.Fatalf("comparison through the index after restart: %v", v)
	}
}
