package sqldriver_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

func TestPlaceholders(t *testing.T) {
	db, _ := openDB(t)
	mustExec(t, db, "CREATE TABLE t (a, b, c)")
	tests := []struct {
		name  string
		query string
		args  []any
	}{
		{"question marks", "INSERT INTO t VALUES (?, ?, ?)", []any{1, 2, 3}},
		{"numbered", "INSERT INTO t VALUES (?1, ?2, ?3)", []any{1, 2, 3}},
		{"numbered, reused", "INSERT INTO t VALUES (?1, ?2, ?1 + 2)", []any{1, 2}},
		{"colon", "INSERT INTO t VALUES (:a, :b, :c)", []any{sql.Named("c", 3), sql.Named("b", 2), sql.Named("a", 1)}},
		{"at", "INSERT INTO t VALUES (@a, @b, @c)", []any{sql.Named("a", 1), sql.Named("b", 2), sql.Named("c", 3)}},
		{"dollar", "INSERT INTO t VALUES ($a, $b, $c)", []any{sql.Named("b", 2), sql.Named("a", 1), sql.Named("c", 3)}},
		{"mixed", "INSERT INTO t VALUES (?, :b, $c)", []any{1, sql.Named("b", 2), sql.Named("c", 3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustExec(t, db, "DELETE FROM t")
			res := mustExec(t, db, tt.query, tt.args...)
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("RowsAffected %d, %v", n, err)
			}
			var a, b, c int
			if err := db.QueryRow("SELECT a, b, c FROM t").Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			if a != 1 || b != 2 || c != 3 {
				t.Fatalf("got %d, %d, %d", a, b, c)
			}
		})
	}
	_, err := db.Exec("INSERT INTO t VALUES (:a, :b, :c)", sql.Named("a", 1), sql.Named("b", 2))
	if !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("a parameter without its argument: %v, want ErrBadArgument", err)
	}
	_, err = db.Exec("INSERT INTO t VALUES (?, ?, ?)", 1, 2)
	if !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("too few arguments: %v, want ErrBadArgument", err)
	}
}

// stamp is a driver.Valuer.
type stamp struct{ day int }

func (s stamp) Value() (driver.Value, error) { return int64(s.day * 10), nil }

// failing is a driver.Valuer that fails.
type failing struct{}

func (failing) Value() (driver.Value, error) { return nil, errors.New("no value") }

func TestValues(t *testing.T) {
	db, _ := openDB(t)
	mustExec(t, db, `CREATE TABLE v (i INTEGER, r REAL, s TEXT, b BLOB, at DATETIME, ok BOOLEAN, doc JSON, n)`)
	at := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("x", 3600))
	doc := json.RawMessage(`{"k":[1,2]}`)
	mustExec(t, db, "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?)", int64(-7), 2.5, "text", []byte{0, 1, 2}, at, true, doc, stamp{4})
	var (
		i    int64
		r    float64
		s    string
		b    []byte
		got  time.Time
		ok   bool
		jdoc json.RawMessage
		n    any
	)
	err := db.QueryRow("SELECT i, r, s, b, at, ok, doc, n FROM v").Scan(&i, &r, &s, &b, &got, &ok, &jdoc, &n)
	if err != nil {
		t.Fatal(err)
	}
	if i != -7 || r != 2.5 || s != "text" || string(b) != "\x00\x01\x02" || !got.Equal(at) || !ok || string(jdoc) != string(doc) || n != int64(40) {
		t.Fatalf("read back %v %v %q %v %v %v %s %v", i, r, s, b, got, ok, jdoc, n)
	}
	if got.Location() != time.UTC {
		t.Errorf("a DATETIME reads back in %v, want UTC", got.Location())
	}
	// As stored: time as fixed-width RFC 3339 text in UTC, JSON as text, the blob as a blob.
	var atText, docType, bType string
	if err := db.QueryRow("SELECT at, typeof(doc), typeof(b) FROM v").Scan(&atText, &docType, &bType); err != nil {
		t.Fatal(err)
	}
	_ = atText
	if err := db.QueryRow("SELECT CAST(at AS TEXT) FROM v").Scan(&atText); err != nil {
		t.Fatal(err)
	}
	if atText != at.UTC().Format(messages.TimeLayout) || docType != "text" || bType != "blob" {
		t.Fatalf("stored %q, %s, %s", atText, docType, bType)
	}
	// A nil pointer binds NULL; so does a nil pointer to a Valuer with a value receiver.
	var np *int
	var nv *stamp
	mustExec(t, db, "INSERT INTO v (i, n) VALUES (?, ?)", np, nv)
	var cnt int
	if err := db.QueryRow("SELECT count(*) FROM v WHERE i IS NULL AND n IS NULL").Scan(&cnt); err != nil || cnt != 1 {
		t.Fatalf("NULLs from nil pointers: %d, %v", cnt, err)
	}
	// What actorlite cannot bind is an error naming the argument, before anything runs.
	_, err = db.Exec("INSERT INTO v (i, n) VALUES (?, ?)", 1, make(chan int))
	var ae *messages.ArgError
	if !errors.As(err, &ae) || ae.Pos != 2 || ae.Type != "chan int" {
		t.Fatalf("a channel argument: %v", err)
	}
	_, err = db.Exec("INSERT INTO v (i) VALUES (?)", failing{})
	if !errors.Is(err, messages.ErrBadArgument) || !strings.Contains(err.Error(), "no value") {
		t.Fatalf("a failing Valuer: %v", err)
	}
}

func TestColumnTypes(t *testing.T) {
	db, _ := openDB(t)
	mustExec(t, db, `CREATE TABLE c (i INTEGER, big BIGINT, r REAL, d DOUBLE PRECISION, s TEXT, v VARCHAR(10), b BLOB, at DATETIME, ts timestamp, ok BOOLEAN, doc JSON, num NUMERIC, x)`)
	mustExec(t, db, "INSERT INTO c VALUES (1, 2, 1.5, 2.5, 's', 'v', x'00', ?, ?, 1, '{}', 3, 4)", time.Now(), time.Now())
	rows, err := db.Query("SELECT *, 1 + 1 AS expr FROM c")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, decl string
		scan       reflect.Type
	}{
		{"i", "INTEGER", reflect.TypeFor[int64]()},
		{"big", "BIGINT", reflect.TypeFor[int64]()},
		{"r", "REAL", reflect.TypeFor[float64]()},
		{"d", "DOUBLE PRECISION", reflect.TypeFor[float64]()},
		{"s", "TEXT", reflect.TypeFor[string]()},
		{"v", "VARCHAR(10)", reflect.TypeFor[string]()},
		{"b", "BLOB", reflect.TypeFor[[]byte]()},
		{"at", "DATETIME", reflect.TypeFor[time.Time]()},
		{"ts", "TIMESTAMP", reflect.TypeFor[time.Time]()},
		{"ok", "BOOLEAN", reflect.TypeFor[bool]()},
		{"doc", "JSON", reflect.TypeFor[[]byte]()},
		{"num", "NUMERIC", reflect.TypeFor[any]()},
		{"x", "", reflect.TypeFor[any]()},
		{"expr", "", reflect.TypeFor[any]()},
	}
	if len(types) != len(want) {
		t.Fatalf("%d columns, want %d", len(types), len(want))
	}
	for i, w := range want {
		ct := types[i]
		if ct.Name() != w.name || ct.DatabaseTypeName() != w.decl || ct.ScanType() != w.scan {
			t.Errorf("column %d: %s %q %v, want %s %q %v", i, ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), w.name, w.decl, w.scan)
		}
	}
	// Each column scans into a value of its ScanType.
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	dest := make([]any, len(types))
	for i, ct := range types {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	if err := rows.Scan(dest...); err != nil {
		t.Fatal(err)
	}
}

func TestExecSeveralStatements(t *testing.T) {
	db, _ := openDB(t)
	res := mustExec(t, db, `
		CREATE TABLE a (x INTEGER PRIMARY KEY, y TEXT); -- a comment; with a semicolon
		CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO b VALUES (new.x); END;
		CREATE TABLE b (x);
		INSERT INTO a (y) VALUES ('one;two'), ('three');
	`)
	if id, _ := res.LastInsertId(); id != 2 {
		t.Errorf("LastInsertId %d, want 2 (the last statement's)", id)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("RowsAffected %d, want 2 (the last statement's)", n)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM b").Scan(&n); err != nil || n != 2 {
		t.Fatalf("the trigger logged %d rows (%v)", n, err)
	}
	// In a transaction too; an error stops the script there, and the rollback undoes it all.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO a (y) VALUES ('four'); INSERT INTO nowhere VALUES (1); INSERT INTO a (y) VALUES ('five')"); err == nil {
		t.Fatal("a script with a bad statement succeeded")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM a").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d rows after the rollback (%v), want 2", n, err)
	}
	// With arguments, one statement only.
	if _, err := db.Exec("INSERT INTO a (y) VALUES (?); INSERT INTO a (y) VALUES (?)", "x", "y"); !errors.Is(err, messages.ErrMultipleStatements) {
		t.Fatalf("several statements with arguments: %v, want ErrMultipleStatements", err)
	}
}

func TestPreparedStatements(t *testing.T) {
	db, _ := openDB(t)
	mustExec(t, db, "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT)")
	ins, err := db.Prepare("INSERT INTO p (name) VALUES (?)")
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	for i := range 50 {
		res, err := ins.Exec(strings.Repeat("n", i))
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := res.LastInsertId(); id != int64(i+1) {
			t.Fatalf("LastInsertId %d, want %d", id, i+1)
		}
	}
	sel, err := db.Prepare("SELECT name FROM p WHERE id = :id")
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	var name string
	if err := sel.QueryRow(sql.Named("id", 10)).Scan(&name); err != nil || len(name) != 9 {
		t.Fatalf("%q, %v", name, err)
	}
	if err := sel.QueryRow(sql.Named("id", 1000)).Scan(&name); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("no such row: %v", err)
	}
	// In a transaction.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Stmt(ins).Exec("in tx"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// A bad statement fails when it runs.
	bad, err := db.Prepare("SELEKT 1")
	if err == nil {
		_, err = bad.Exec()
		bad.Close()
	}
	if err == nil {
		t.Fatal("a syntax error went unnoticed")
	}
}

func TestManyRows(t *testing.T) {
	db, _ := openDB(t)
	mustExec(t, db, "CREATE TABLE m (i INTEGER)")
	mustExec(t, db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000) INSERT INTO m SELECT i FROM c")
	rows, err := db.Query("SELECT i FROM m ORDER BY i")
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			t.Fatal(err)
		}
		if i != want {
			t.Fatalf("row %d, want %d", i, want)
		}
		want++
	}
	if err := rows.Err(); err != nil || want != 5001 {
		t.Fatalf("%d rows, %v", want-1, err)
	}
	// Closing before the end frees the cursor.
	rows, err = db.Query("SELECT i FROM m")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRaw(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*sqldriver.Conn)
		if !ok {
			t.Fatalf("Raw gave %T", dc)
		}
		if c.ActorConn() != c.Pool().Writer() {
			t.Error("outside a transaction, ActorConn is not the writer")
		}
		// What database/sql cannot express: a user function, on every member of the pool.
		return c.Pool().CreateFunction(ctx, "twice", 1, func(args []any) (any, error) { return args[0].(int64) * 2, nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT twice(21)").Scan(&n); err != nil || n != 42 {
		t.Fatalf("twice(21) = %d, %v", n, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Raw(func(dc any) error {
		var ac *actors.Conn = dc.(*sqldriver.Conn).ActorConn()
		if in, err := ac.InTransaction(ctx); err != nil || !in {
			t.Errorf("inside a transaction, ActorConn is not the transaction's connection: %v %v", in, err)
		}
		return nil
	})
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
}

func TestPing(t *testing.T) {
	db, _ := openDB(t)
	if err := db.PingContext(deadline(t)); err != nil {
		t.Fatal(err)
	}
	// A DSN that cannot be opened fails at the first connection, with its error.
	bad, err := sql.Open(sqldriver.DriverName, "/nonexistent-dir/x/y.db")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Ping(); err == nil {
		t.Fatal("Ping on an impossible path succeeded")
	}
}

func TestContextInterruptsTheStatement(t *testing.T) {
	db, _ := openDB(t)
	const forever = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) FROM c"
	for _, tt := range []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"query", func(ctx context.Context) error {
			var n int
			return db.QueryRowContext(ctx, forever).Scan(&n)
		}},
		{"exec", func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS f AS "+forever)
			return err
		}},
		{"in a transaction", func(ctx context.Context) error {
			tx, err := db.BeginTx(context.Background(), nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var n int
			return tx.QueryRowContext(ctx, forever).Scan(&n)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			t0 := time.Now()
			err := tt.run(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v, want DeadlineExceeded", err)
			}
			if d := time.Since(t0); d > 5*time.Second {
				t.Fatalf("returned after %v", d)
			}
		})
	}
	// The database serves on.
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
}
