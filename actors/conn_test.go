package actors_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// countRequests is a fault hook that counts the requests of type T the connection serves.
func countRequests[T messages.Request](n *atomic.Int64) actors.Option {
	return actors.WithFaultHook(func(req messages.Request) {
		if _, ok := req.(T); ok {
			n.Add(1)
		}
	})
}

func TestExec(t *testing.T) {
	c := newConn(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")

	res := exec(t, c, "INSERT INTO t (name) VALUES (?)", "a")
	if res != (messages.Result{LastInsertID: 1, RowsAffected: 1}) {
		t.Errorf("first insert: %+v", res)
	}
	res = exec(t, c, "INSERT INTO t (name) VALUES (?), (?)", "b", "c")
	if res != (messages.Result{LastInsertID: 3, RowsAffected: 2}) {
		t.Errorf("second insert: %+v", res)
	}
	res = exec(t, c, "UPDATE t SET name = upper(name) WHERE id >= ?", 2)
	if res.RowsAffected != 2 {
		t.Errorf("update: RowsAffected = %d, want 2", res.RowsAffected)
	}
	res = exec(t, c, "DELETE FROM t WHERE name = :name", "a") // named parameters bind by position
	if res.RowsAffected != 1 {
		t.Errorf("delete: RowsAffected = %d, want 1", res.RowsAffected)
	}
	if n := count(t, c, "t"); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
}

func TestExecMany(t *testing.T) {
	c := newConn(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
	res, err := c.ExecMany(t.Context(), "INSERT INTO t (name) VALUES (?)", [][]any{{"a"}, {"b"}, {"c"}})
	if err != nil {
		t.Fatal(err)
	}
	if res != (messages.Result{LastInsertID: 3, RowsAffected: 3}) {
		t.Errorf("ExecMany: %+v", res)
	}

	// One failing element: nothing of the call is kept.
	_, err = c.ExecMany(t.Context(), "INSERT INTO t (name) VALUES (?)", [][]any{{"d"}, {"a"}})
	if !errors.Is(err, messages.ErrConstraint) {
		t.Fatalf("duplicate in ExecMany: err = %v, want ErrConstraint", err)
	}
	if n := count(t, c, "t"); n != 3 {
		t.Errorf("after the failed ExecMany: count = %d, want 3", n)
	}
	if in, err := c.InTransaction(t.Context()); err != nil || in {
		t.Errorf("after the failed ExecMany: InTransaction = %v, %v", in, err)
	}

	// Inside the caller's transaction, the caller decides.
	if err := c.Begin(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecMany(t.Context(), "INSERT INTO t (name) VALUES (?)", [][]any{{"x"}, {"y"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c, "t"); n != 3 {
		t.Errorf("after rollback: count = %d, want 3", n)
	}
}

func TestExecScript(t *testing.T) {
	c := newConn(t)
	err := c.ExecScript(t.Context(), `
		CREATE TABLE a (x);
		CREATE TABLE b (y);
		INSERT INTO a VALUES (1), (2);
		INSERT INTO b SELECT x * 10 FROM a;`)
	if err != nil {
		t.Fatal(err)
	}
	row, err := c.QueryRow(t.Context(), "SELECT sum(y) FROM b")
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Index(0); got != int64(30) {
		t.Errorf("sum = %v, want 30", got)
	}
	if err := c.ExecScript(t.Context(), "INSERT INTO a VALUES (3); SELEC oops;"); !errors.Is(err, messages.ErrSQL) {
		t.Errorf("bad script: err = %v, want ErrSQL", err)
	}
}

func TestQueryColumns(t *testing.T) {
	c := newConn(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, price DECIMAL(10,2), at DATETIME)")
	exec(t, c, "INSERT INTO t (name, price) VALUES ('a', 1.5), ('b', 2)")

	cur, err := c.Query(t.Context(), "SELECT id, name AS label, price, at, price * 2 AS double FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(t.Context())
	want := []messages.Column{
		{Name: "id", DeclType: "INTEGER"},
		{Name: "label", DeclType: "TEXT"},
		{Name: "price", DeclType: "DECIMAL(10,2)"},
		{Name: "at", DeclType: "DATETIME"},
		{Name: "double", DeclType: ""},
	}
	if got := cur.Columns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %+v\nwant %+v", got, want)
	}
	rows, err := cur.FetchAll(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	if got, want := rows[0].Values(), []any{int64(1), "a", 1.5, nil, 3.0}; !reflect.DeepEqual(got, want) {
		t.Errorf("row 0 = %#v, want %#v", got, want)
	}
	if got, want := rows[1].Values(), []any{int64(2), "b", int64(2), nil, int64(4)}; !reflect.DeepEqual(got, want) {
		t.Errorf("row 1 = %#v, want %#v", got, want)
	}
	if !reflect.DeepEqual(rows[0].Columns(), want) {
		t.Errorf("Row.Columns() = %+v", rows[0].Columns())
	}

	// A query with no rows still describes its columns.
	cur, err = c.Query(t.Context(), "SELECT id FROM t WHERE id < 0")
	if err != nil {
		t.Fatal(err)
	}
	if got := cur.Columns(); !reflect.DeepEqual(got, []messages.Column{{Name: "id", DeclType: "INTEGER"}}) {
		t.Errorf("empty result: Columns() = %+v", got)
	}
	if _, err := cur.FetchOne(t.Context()); err != io.EOF {
		t.Errorf("empty result: FetchOne err = %v, want io.EOF", err)
	}
}

func TestQueryRow(t *testing.T) {
	c := newConn(t)
	seed(t, c, 100)
	row, err := c.QueryRow(t.Context(), "SELECT id, x FROM t WHERE x > ? ORDER BY x", 41)
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Values(); !reflect.DeepEqual(got, []any{int64(42), int64(42)}) {
		t.Errorf("QueryRow = %v", got)
	}
	_, err = c.QueryRow(t.Context(), "SELECT id FROM t WHERE x > 1000")
	if !errors.Is(err, messages.ErrNoRows) {
		t.Errorf("no rows: err = %v, want ErrNoRows", err)
	}
	// QueryRow leaves no cursor open: the table can be dropped at once.
	if _, err := c.QueryRow(t.Context(), "SELECT x FROM t"); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "DROP TABLE t")
}

func TestTransactions(t *testing.T) {
	ctx := t.Context()
	c := newConn(t)
	exec(t, c, "CREATE TABLE t (x)")

	inTx := func(want bool) {
		t.Helper()
		got, err := c.InTransaction(ctx)
		if err != nil || got != want {
			t.Fatalf("InTransaction() = %v, %v; want %v", got, err, want)
		}
	}
	inTx(false)

	for _, tc := range []struct {
		name   string
		begin  func(context.Context) error
		commit bool
	}{
		{"Begin+Rollback", c.Begin, false},
		{"Begin+Commit", c.Begin, true},
		{"BeginImmediate+Rollback", c.BeginImmediate, false},
		{"BeginImmediate+Commit", c.BeginImmediate, true},
		{"BeginExclusive+Rollback", c.BeginExclusive, false},
		{"BeginExclusive+Commit", c.BeginExclusive, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := count(t, c, "t")
			if err := tc.begin(ctx); err != nil {
				t.Fatal(err)
			}
			inTx(true)
			exec(t, c, "INSERT INTO t VALUES (1)")
			inTx(true) // Exec inside a transaction does not commit by itself
			end := c.Rollback
			if tc.commit {
				end = c.Commit
			}
			if err := end(ctx); err != nil {
				t.Fatal(err)
			}
			inTx(false)
			want := before
			if tc.commit {
				want++
			}
			if n := count(t, c, "t"); n != want {
				t.Errorf("count = %d, want %d", n, want)
			}
		})
	}

	// Autocommit: a write outside Begin is visible to another connection at once.
	other := reopen(t, c)
	exec(t, c, "INSERT INTO t VALUES (2)")
	if n, m := count(t, c, "t"), count(t, other, "t"); n != m {
		t.Errorf("autocommit: this connection sees %d rows, another %d", n, m)
	}
}

// reopen opens a second connection to c's database file, under a supervisor of its own.
func reopen(t testing.TB, c *actors.Conn) *actors.Conn {
	t.Helper()
	s := newSupervisor(t, supervisor.Config{})
	other, err := s.Open(t.Context(), c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	return other
}

func TestConnClose(t *testing.T) {
	ctx := t.Context()
	c := newConn(t)
	seed(t, c, 200)
	cur, err := c.Query(ctx, "SELECT x FROM t") // more rows than the first chunk: left open
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "DELETE FROM t")

	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done() not closed after Close returned")
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var nilConn *actors.Conn
	if err := nilConn.Close(ctx); err != nil {
		t.Errorf("Close on a nil Conn: %v", err)
	}

	// Every call now fails with ErrClosed, cursors with ErrCursorClosed.
	if _, err := c.Exec(ctx, "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
		t.Errorf("Exec after Close: err = %v, want ErrClosed", err)
	}
	if _, err := cur.FetchOne(ctx); !errors.Is(err, messages.ErrCursorClosed) {
		t.Errorf("FetchOne after Conn.Close: err = %v, want ErrCursorClosed", err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Errorf("Cursor.Close after Conn.Close: %v", err)
	}

	// The open transaction was rolled back, not committed.
	other := reopen(t, c)
	if n := count(t, other, "t"); n != 200 {
		t.Errorf("after Close with an open transaction: count = %d, want 200", n)
	}
}

func TestPID(t *testing.T) {
	s, c := newConnSup(t)
	pid := c.PID()
	if pid == nil {
		t.Fatal("PID() is nil")
	}
	if pid != c.PID() {
		t.Error("PID() changes between calls")
	}
	res, err := s.System().Root.RequestFuture(pid, &messages.Query{SQL: "SELECT 6 * 7"}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	rows, ok := res.(*messages.Rows)
	if !ok || rows.Err != nil || !rows.Done || len(rows.Rows) != 1 || rows.Rows[0].Index(0) != int64(42) {
		t.Errorf("Query by message: %#v", res)
	}
}

func TestRowByName(t *testing.T) {
	ctx := t.Context()
	c := newConn(t)
	exec(t, c, "CREATE TABLE people (id INTEGER PRIMARY KEY, Name TEXT, score REAL, photo BLOB, note TEXT)")
	exec(t, c, "INSERT INTO people (Name, score, photo, note) VALUES (?, ?, ?, ?)", "ann", 9.5, []byte{1, 2}, nil)
	row, err := c.QueryRow(ctx, "SELECT id, Name, score, photo, note FROM people")
	if err != nil {
		t.Fatal(err)
	}

	if row.Len() != 5 {
		t.Errorf("Len() = %d", row.Len())
	}
	for _, tc := range []struct {
		name string
		want any
		ok   bool
	}{
		{"id", int64(1), true},
		{"Name", "ann", true},
		{"name", "ann", true}, // case-insensitive fallback
		{"score", 9.5, true},
		{"photo", []byte{1, 2}, true},
		{"note", nil, true},
		{"missing", nil, false},
	} {
		got, ok := row.Get(tc.name)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Get(%q) = %#v, %v; want %#v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	wantMap := map[string]any{"id": int64(1), "Name": "ann", "score": 9.5, "photo": []byte{1, 2}, "note": nil}
	if got := row.Map(); !reflect.DeepEqual(got, wantMap) {
		t.Errorf("Map() = %#v", got)
	}

	var (
		id    int
		name  string
		score float64
		photo []byte
		note  any
	)
	if err := row.Scan(&id, &name, &score, &photo, &note); err != nil {
		t.Fatal(err)
	}
	if id != 1 || name != "ann" || score != 9.5 || !reflect.DeepEqual(photo, []byte{1, 2}) || note != nil {
		t.Errorf("Scan: %v %q %v %v %v", id, name, score, photo, note)
	}
	var (
		id64  int64
		ns    sql.NullString
		nf    sql.NullFloat64
		raw   json.RawMessage
		nnote sql.NullString
	)
	if err := row.Scan(&id64, &ns, &nf, &raw, &nnote); err != nil {
		t.Fatal(err)
	}
	if id64 != 1 || ns != (sql.NullString{String: "ann", Valid: true}) || nf.Float64 != 9.5 || string(raw) != "\x01\x02" || nnote.Valid {
		t.Errorf("Scan into Scanners: %v %v %v %q %v", id64, ns, nf, raw, nnote)
	}
}

func TestConverters(t *testing.T) {
	ctx := t.Context()
	c := newConn(t)
	exec(t, c, `CREATE TABLE e (at DATETIME, ts TIMESTAMP, ok BOOLEAN, props JSON, plain TEXT)`)
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	props := json.RawMessage(`{"page":"/home","n":1}`)
	exec(t, c, "INSERT INTO e VALUES (?, ?, ?, ?, ?)", at, "2024-05-06 05:08:09", true, props, "2024-05-06")
	exec(t, c, "INSERT INTO e VALUES (NULL, 1700000000, 0, 42, NULL)")

	cur, err := c.Query(ctx, "SELECT at, ts, ok, props, plain FROM e ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := cur.FetchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	gotAt, ok := r.Index(0).(time.Time)
	if !ok || !gotAt.Equal(at) {
		t.Errorf("DATETIME = %#v, want %v", r.Index(0), at)
	}
	if got, ok := r.Index(1).(time.Time); !ok || !got.Equal(time.Date(2024, 5, 6, 5, 8, 9, 0, time.UTC)) {
		t.Errorf("TIMESTAMP = %#v", r.Index(1))
	}
	if got := r.Index(2); got != true {
		t.Errorf("BOOLEAN = %#v, want true", got)
	}
	if got, ok := r.Index(3).(json.RawMessage); !ok || string(got) != string(props) {
		t.Errorf("JSON = %#v, want json.RawMessage %s", r.Index(3), props)
	}
	if got := r.Index(4); got != "2024-05-06" {
		t.Errorf("TEXT = %#v: no converter applies", got)
	}
	// Scan reads the converted values into typed destinations.
	var (
		at2  time.Time
		ts2  time.Time
		ok2  bool
		raw  json.RawMessage
		text string
	)
	if err := r.Scan(&at2, &ts2, &ok2, &raw, &text); err != nil {
		t.Fatal(err)
	}
	if !at2.Equal(at) || !ok2 || string(raw) != string(props) || text != "2024-05-06" {
		t.Errorf("Scan: %v %v %v %s %q", at2, ts2, ok2, raw, text)
	}

	r = rows[1]
	if got, want := r.Values(), []any{nil, time.Unix(1700000000, 0).UTC(), false, json.RawMessage("42"), nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("row 2 = %#v\nwant %#v", got, want)
	}

	// Text order is time order: times are stored fixed-width in UTC.
	row, err := c.QueryRow(ctx, "SELECT at || '' FROM e WHERE at IS NOT NULL") // no declared type: raw text
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := row.Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != "2024-05-06T05:08:09.123456789Z" {
		t.Errorf("stored time = %q", stored)
	}
}

func TestConcurrentUse(t *testing.T) {
	const (
		workers = 16
		rounds  = 20
	)
	c := newConn(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, worker INTEGER, round INTEGER)")
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			errs <- func() error {
				for r := range rounds {
					res, err := c.Exec(ctx, "INSERT INTO t (worker, round) VALUES (?, ?)", w, r)
					if err != nil {
						return err
					}
					row, err := c.QueryRow(ctx, "SELECT worker, round FROM t WHERE id = ?", res.LastInsertID)
					if err != nil {
						return err
					}
					if got := row.Values(); got[0] != int64(w) || got[1] != int64(r) {
						return fmt.Errorf("worker %d round %d: row %d holds %v", w, r, res.LastInsertID, got)
					}
					cur, err := c.Query(ctx, "SELECT round FROM t WHERE worker = ? ORDER BY round", w)
					if err != nil {
						return err
					}
					rows, err := cur.FetchAll(ctx)
					if err != nil {
						return err
					}
					if len(rows) != r+1 {
						return fmt.Errorf("worker %d round %d: sees %d of its rows", w, r, len(rows))
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := count(t, c, "t"); n != workers*rounds {
		t.Errorf("count = %d, want %d", n, workers*rounds)
	}
}

// unsupported is a type no argument rule accepts.
type unsupported struct{ A, B int }

func TestBadInput(t *testing.T) {
	c := newConn(t)
	seed(t, c, 100)

	isSQL := func(t *testing.T, err error) {
		t.Helper()
		var se *messages.Error
		if !errors.Is(err, messages.ErrSQL) || !errors.As(err, &se) {
			t.Errorf("err = %v, want ErrSQL and *messages.Error", err)
		}
	}
	isArg := func(pos int, typ string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			t.Helper()
			var ae *messages.ArgError
			if !errors.Is(err, messages.ErrBadArgument) || !errors.As(err, &ae) {
				t.Fatalf("err = %v, want ErrBadArgument and *messages.ArgError", err)
			}
			if ae.Pos != pos || ae.Type != typ {
				t.Errorf("ArgError{Pos: %d, Type: %q}, want {%d, %q}", ae.Pos, ae.Type, pos, typ)
			}
		}
	}
	is := func(target error) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			t.Helper()
			if !errors.Is(err, target) {
				t.Errorf("err = %v, want %v", err, target)
			}
		}
	}

	tests := []struct {
		name  string
		run   func(ctx context.Context) error
		check func(*testing.T, error)
	}{
		{"syntax error in Exec", func(ctx context.Context) error {
			_, err := c.Exec(ctx, "INSERT INTO t VALUE (1)")
			return err
		}, isSQL},
		{"syntax error in Query", func(ctx context.Context) error {
			_, err := c.Query(ctx, "SELECT FROM WHERE")
			return err
		}, isSQL},
		{"syntax error in QueryRow", func(ctx context.Context) error {
			_, err := c.QueryRow(ctx, "SELEC 1")
			return err
		}, isSQL},
		{"missing table", func(ctx context.Context) error {
			_, err := c.QueryRow(ctx, "SELECT * FROM nowhere")
			return err
		}, isSQL},
		{"syntax error in ExecMany", func(ctx context.Context) error {
			_, err := c.ExecMany(ctx, "INSERT INTO t VALUES", [][]any{{1}})
			return err
		}, isSQL},
		{"too many arguments", func(ctx context.Context) error {
			_, err := c.Exec(ctx, "INSERT INTO t (x) VALUES (?)", 1, 2)
			return err
		}, isArg(0, "")},
		{"too few arguments", func(ctx context.Context) error {
			_, err := c.QueryRow(ctx, "SELECT x FROM t WHERE x BETWEEN ? AND ?", 1)
			return err
		}, isArg(0, "")},
		{"arguments for a statement without parameters", func(ctx context.Context) error {
			_, err := c.Query(ctx, "SELECT 1", 1)
			return err
		}, isArg(0, "")},
		{"wrong count in ExecMany", func(ctx context.Context) error {
			_, err := c.ExecMany(ctx, "INSERT INTO t (x) VALUES (?)", [][]any{{1}, {2, 3}})
			return err
		}, isArg(0, "")},
		{"argument of an unsupported type: chan", func(ctx context.Context) error {
			_, err := c.Exec(ctx, "INSERT INTO t (id, x) VALUES (?, ?)", 1000, make(chan int))
			return err
		}, isArg(2, "chan int")},
		{"argument of an unsupported type: struct", func(ctx context.Context) error {
			_, err := c.QueryRow(ctx, "SELECT ?", unsupported{1, 2})
			return err
		}, isArg(1, "actors_test.unsupported")},
		{"argument of an unsupported type: map in ExecMany", func(ctx context.Context) error {
			_, err := c.ExecMany(ctx, "INSERT INTO t (x) VALUES (?)", [][]any{{1}, {map[string]int{}}})
			return err
		}, isArg(1, "map[string]int")},
		{"Scan into a mismatched destination", func(ctx context.Context) error {
			row, err := c.QueryRow(ctx, "SELECT 'abc', x FROM t")
			if err != nil {
				return err
			}
			var n int64
			var x int
			err = row.Scan(&n, &x)
			var se *messages.ScanError
			if errors.As(err, &se) && (se.Column != 0 || se.Dest != "*int64") {
				return fmt.Errorf("ScanError names column %d, dest %s: %w", se.Column, se.Dest, err)
			}
			return err
		}, is(messages.ErrScan)},
		{"Scan into too few destinations", func(ctx context.Context) error {
			row, err := c.QueryRow(ctx, "SELECT 1, 2")
			if err != nil {
				return err
			}
			var n int64
			return row.Scan(&n)
		}, is(messages.ErrScan)},
		{"Scan NULL into *int", func(ctx context.Context) error {
			row, err := c.QueryRow(ctx, "SELECT NULL")
			if err != nil {
				return err
			}
			var n int
			return row.Scan(&n)
		}, is(messages.ErrScan)},
		{"several statements in Exec", func(ctx context.Context) error {
			_, err := c.Exec(ctx, "INSERT INTO t (x) VALUES (1); INSERT INTO t (x) VALUES (2)")
			return err
		}, is(messages.ErrMultipleStatements)},
		{"constraint", func(ctx context.Context) error {
			_, err := c.Exec(ctx, "INSERT INTO t (id, x) VALUES (1, 1)")
			return err
		}, is(messages.ErrConstraint)},
		{"closed cursor", func(ctx context.Context) error {
			cur, err := c.Query(ctx, "SELECT x FROM t")
			if err != nil {
				return err
			}
			if err := cur.Close(ctx); err != nil {
				return err
			}
			_, err = cur.FetchMany(ctx, 10)
			return err
		}, is(messages.ErrCursorClosed)},
		{"Begin inside a transaction", func(ctx context.Context) error {
			if err := c.Begin(ctx); err != nil {
				return err
			}
			defer c.Rollback(ctx)
			return c.BeginImmediate(ctx)
		}, is(messages.ErrInTransaction)},
		{"Commit without a transaction", func(ctx context.Context) error {
			return c.Commit(ctx)
		}, is(messages.ErrNoTransaction)},
		{"Rollback without a transaction", func(ctx context.Context) error {
			return c.Rollback(ctx)
		}, is(messages.ErrNoTransaction)},
		{"nil function", func(ctx context.Context) error {
			return c.CreateFunction(ctx, "f", 1, nil)
		}, is(messages.ErrBadArgument)},
		{"function with a bad argument count", func(ctx context.Context) error {
			return c.CreateFunction(ctx, "f", 1000, func([]any) (any, error) { return nil, nil })
		}, is(messages.ErrBadArgument)},
		{"function returning an unsupported type", func(ctx context.Context) error {
			if err := c.CreateFunction(ctx, "badresult", 0, func([]any) (any, error) { return struct{}{}, nil }); err != nil {
				return err
			}
			_, err := c.QueryRow(ctx, "SELECT badresult()")
			return err
		}, is(messages.ErrSQL)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A hang would end with DeadlineExceeded instead of blocking the test.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic: %v", p)
					}
				}()
				return tc.run(ctx)
			}()
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("hung: %v", err)
			}
			tc.check(t, err)
			// The connection is still usable, and nothing of the bad call is left.
			row, err := c.QueryRow(ctx, "SELECT count(*) FROM t")
			if err != nil {
				t.Fatalf("connection unusable afterwards: %v", err)
			}
			if n := row.Index(0); n != int64(100) {
				t.Errorf("count = %v, want 100", n)
			}
			if in, err := c.InTransaction(ctx); err != nil || in {
				t.Errorf("InTransaction = %v, %v afterwards", in, err)
			}
		})
	}
}

func TestClosedConn(t *testing.T) {
	ctx := t.Context()
	c := newConn(t)
	seed(t, c, 10)
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Exec":           func() error { _, err := c.Exec(ctx, "SELECT 1"); return err },
		"ExecMany":       func() error { _, err := c.ExecMany(ctx, "SELECT ?", [][]any{{1}}); return err },
		"ExecScript":     func() error { return c.ExecScript(ctx, "SELECT 1") },
		"Query":          func() error { _, err := c.Query(ctx, "SELECT 1"); return err },
		"QueryRow":       func() error { _, err := c.QueryRow(ctx, "SELECT 1"); return err },
		"Begin":          func() error { return c.Begin(ctx) },
		"BeginImmediate": func() error { return c.BeginImmediate(ctx) },
		"BeginExclusive": func() error { return c.BeginExclusive(ctx) },
		"Commit":         func() error { return c.Commit(ctx) },
		"Rollback":       func() error { return c.Rollback(ctx) },
		"InTransaction":  func() error { _, err := c.InTransaction(ctx); return err },
		"CreateFunction": func() error {
			return c.CreateFunction(ctx, "f", 0, func([]any) (any, error) { return 1, nil })
		},
		"Backup": func() error { return c.Backup(ctx, filepath.Join(t.TempDir(), "b.db")) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, messages.ErrClosed) {
			t.Errorf("%s on a closed Conn: err = %v, want ErrClosed", name, err)
		}
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close again: %v", err)
	}
}

// notARequest is a message no connection actor understands.
type notARequest struct{ N int }

func TestUnknownMessage(t *testing.T) {
	s, c := newConnSup(t)
	seed(t, c, 3)
	root := s.System().Root

	// Asked with a sender: answered with an error reply.
	res, err := root.RequestFuture(c.PID(), &notARequest{N: 1}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	ack, ok := res.(*messages.Ack)
	if !ok {
		t.Fatalf("reply is %T, want *messages.Ack", res)
	}
	if !errors.Is(ack.Err, messages.ErrUnknownRequest) {
		t.Errorf("reply error = %v, want ErrUnknownRequest", ack.Err)
	}
	if n := count(t, c, "t"); n != 3 {
		t.Errorf("count = %d, want 3", n)
	}

	// Sent without a sender: ignored. Requests sent after it are served in order.
	root.Send(c.PID(), &notARequest{N: 2})
	root.Send(c.PID(), "a string")
	if n := count(t, c, "t"); n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
}

func TestOpenBadDSN(t *testing.T) {
	s := newSupervisor(t, supervisor.Config{})
	dir := t.TempDir()
	for name, dsn := range map[string]string{
		"missing directory": filepath.Join(dir, "missing", "test.db"),
		"a directory":       dir,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := s.Open(t.Context(), dsn)
			if !errors.Is(err, messages.ErrCantOpen) {
				t.Errorf("err = %v, want ErrCantOpen", err)
			}
			var se *messages.Error
			if !errors.As(err, &se) {
				t.Errorf("err = %v, want a *messages.Error", err)
			}
			if c != nil {
				t.Errorf("Open returned a non-nil *Conn with its error")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("Open created the missing directory: %v", err)
	}
	// A bad pragma fails Open too.
	c, err := s.Open(t.Context(), filepath.Join(dir, "ok.db"), actors.WithPragma("bad name", "1"))
	if !errors.Is(err, messages.ErrBadArgument) || c != nil {
		t.Errorf("bad pragma: Open = %v, %v; want nil, ErrBadArgument", c, err)
	}
	// The supervisor is still fine.
	c, err = s.Open(t.Context(), filepath.Join(dir, "ok.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryRow(t.Context(), "SELECT 1"); err != nil {
		t.Error(err)
	}
}

func TestCancelledContext(t *testing.T) {
	var served atomic.Int64
	c := newConn(t, actors.WithFaultHook(func(messages.Request) { served.Add(1) }))
	seed(t, c, 100)
	cur, err := c.Query(t.Context(), "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(t.Context())

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	before := served.Load()
	calls := map[string]func() error{
		"Exec":            func() error { _, err := c.Exec(ctx, "INSERT INTO t (x) VALUES (1)"); return err },
		"ExecMany":        func() error { _, err := c.ExecMany(ctx, "INSERT INTO t (x) VALUES (?)", [][]any{{1}}); return err },
		"ExecScript":      func() error { return c.ExecScript(ctx, "INSERT INTO t (x) VALUES (1)") },
		"Query":           func() error { _, err := c.Query(ctx, "SELECT 1"); return err },
		"QueryRow":        func() error { _, err := c.QueryRow(ctx, "SELECT 1"); return err },
		"Begin":           func() error { return c.Begin(ctx) },
		"Commit":          func() error { return c.Commit(ctx) },
		"InTransaction":   func() error { _, err := c.InTransaction(ctx); return err },
		"Backup":          func() error { return c.Backup(ctx, filepath.Join(t.TempDir(), "b.db")) },
		"Cursor.FetchAll": func() error { _, err := cur.FetchAll(ctx); return err },
		"CreateFunction": func() error {
			return c.CreateFunction(ctx, "f", 0, func([]any) (any, error) { return 1, nil })
		},
	}
	// (Rollback and the Close calls are not here: releasing never depends on ctx, see
	// TestReleaseWithDoneCtx in package supervisor.)
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx: err = %v, want context.Canceled", name, err)
		}
	}
	if n := served.Load() - before; n != 0 {
		t.Errorf("the connection served %d requests of cancelled callers", n)
	}
	if n := count(t, c, "t"); n != 100 {
		t.Errorf("count = %d, want 100", n)
	}
	if rows, err := cur.FetchAll(t.Context()); err != nil || len(rows) != 100 {
		t.Errorf("the cursor after a cancelled fetch: %d rows, %v; want 100", len(rows), err)
	}
}

// sentCtx tells when the handle waits for its reply, that is once its request was sent: the
// handle only looks at ctx.Done() after sending (at worst, earlier, and the test asks less).
type sentCtx struct {
	context.Context
	once sync.Once
	sent chan struct{}
}

func (c *sentCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.sent) })
	return c.Context.Done()
}

// TestCancelWhileQueued cancels a request that waits behind another: the caller returns at
// once, and the actor skips the request without effect.
func TestCancelWhileQueued(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{})
	c := newConn(t, actors.WithFaultHook(func(req messages.Request) {
		if m, ok := req.(*messages.Exec); ok && m.SQL == "SELECT 'gate'" {
			close(entered)
			<-gate
		}
	}))
	seed(t, c, 10)

	first := make(chan error, 1)
	go func() { _, err := c.Exec(t.Context(), "SELECT 'gate'"); first <- err }()
	<-entered // the actor is busy with the first request

	inner, cancel := context.WithCancel(t.Context())
	ctx := &sentCtx{Context: inner, sent: make(chan struct{})}
	queued := make(chan error, 1)
	go func() { _, err := c.Exec(ctx, "INSERT INTO t (x) VALUES (-1)"); queued <- err }()
	<-ctx.sent // queued behind the gate
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("queued request: err = %v, want context.Canceled", err)
	}
	close(gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := count(t, c, "t"); n != 10 {
		t.Errorf("count = %d, want 10: the cancelled insert ran", n)
	}
}

// TestCancelWhileRunning interrupts a statement that runs: the caller returns promptly and the
// connection is free for the next request, long before the statement would have finished.
func TestCancelWhileRunning(t *testing.T) {
	c := newConn(t)
	started := make(chan struct{})
	var once sync.Once
	err := c.CreateFunction(t.Context(), "started", 0, func([]any) (any, error) {
		once.Do(func() { close(started) })
		return 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.QueryRow(ctx, `WITH RECURSIVE c(i) AS (
			SELECT started() UNION ALL SELECT i+1 FROM c WHERE i < 1000000000)
			SELECT count(*) FROM c`)
		done <- err
	}()
	<-started // SQLite is stepping the statement
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// Had the statement not been interrupted, this would wait for a billion steps.
	next, cancelNext := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancelNext()
	row, err := c.QueryRow(next, "SELECT 1")
	if err != nil {
		t.Fatalf("the next request: %v", err)
	}
	if row.Index(0) != int64(1) {
		t.Errorf("SELECT 1 = %v", row.Index(0))
	}
}

// TestQueryRowStepsOneRow checks that QueryRow reads only the row it returns, as
// database/sql's does, instead of stepping (and buffering) the whole result.
func TestQueryRowStepsOneRow(t *testing.T) {
	ctx := t.Context()
	c := newConn(t)
	seed(t, c, 1000)
	var calls atomic.Int64
	if err := c.CreateFunction(ctx, "tick", 1, func(args []any) (any, error) {
		calls.Add(1)
		return args[0], nil
	}); err != nil {
		t.Fatal(err)
	}
	row, err := c.QueryRow(ctx, "SELECT tick(x) FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if row.Index(0) != int64(1) {
		t.Errorf("QueryRow = %v, want 1", row.Index(0))
	}
	if n := calls.Load(); n > 2 {
		t.Errorf("QueryRow stepped %d rows of 1000 to return the first", n)
	}
}

// TestStopSendsNoDeadLetters checks that stopping a supervisor whose connections were open
// sends nothing to actors that already stopped.
func TestStopSendsNoDeadLetters(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown()
	var (
		mu   sync.Mutex
		dead []string
	)
	sub := sys.EventStream.Subscribe(func(evt any) {
		if dl, ok := evt.(*actor.DeadLetterEvent); ok {
			mu.Lock()
			dead = append(dead, fmt.Sprintf("%T to %s", dl.Message, dl.PID.Id))
			mu.Unlock()
		}
	})
	defer sys.EventStream.Unsubscribe(sub)
	dir := t.TempDir()
	for i := range 50 {
		s, err := supervisor.Start(t.Context(), supervisor.Config{System: sys})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Open(t.Context(), filepath.Join(dir, fmt.Sprintf("%d.db", i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.QueryRow(t.Context(), "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dead) > 0 {
		t.Errorf("%d dead letters in 50 Start/Open/Stop rounds, first: %s", len(dead), dead[0])
	}
}

func TestTotalChangesExecInsertQueryAll(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	exec(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
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
	exec(t, c, "UPDATE t SET s = 'x'")
	if n, err := c.TotalChanges(ctx); n != 6 || err != nil {
		t.Fatalf("total changes %d, %v; want 6", n, err)
	}
	// QueryAll returns every row, past the fetch size, in one round trip.
	execScript(t, c, `WITH RECURSIVE r(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM r WHERE i < 500)
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
	crashAndRestart(t, s, c)
	if n, err := c.TotalChanges(ctx); n != 0 || err != nil {
		t.Fatalf("total changes after restart %d, %v", n, err)
	}
}
