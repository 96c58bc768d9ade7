package sqldriver_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

// Tests written as a hostile user of database/sql would: every corner of the driver's promises.

type errValuer struct{}

func (errValuer) Value() (driver.Value, error) { return nil, errors.New("valuer refuses") }

type ptrValuer struct{ v int64 }

func (p *ptrValuer) Value() (driver.Value, error) { return p.v, nil }

type valValuer struct{ v int64 }

func (v valValuer) Value() (driver.Value, error) { return v.v, nil }

type structValuer struct{}

func (structValuer) Value() (driver.Value, error) { return struct{ A int }{1}, nil }

type valuerValuer struct{}

func (valuerValuer) Value() (driver.Value, error) { return valValuer{1}, nil }

type panicValuer struct{}

func (panicValuer) Value() (driver.Value, error) { panic("valuer panics") }

type myUint uint64

type selfPtr *selfPtr

// Arguments actorlite cannot bind are refused with a typed error naming them, before
// anything runs; nothing is written.
func TestHostileArguments(t *testing.T) {
	db, _ := openDB(t)
	db.SetMaxOpenConns(1) // a connection a refused or panicking argument leaked would hang the next call
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	bad := []struct {
		name string
		arg  any
	}{
		{"channel", make(chan int)},
		{"func", func() {}},
		{"struct", struct{ A int }{1}},
		{"map", map[string]int{"a": 1}},
		{"slice of ints", []int{1, 2}},
		{"uint64 above int64", uint64(math.MaxInt64) + 1},
		{"uint above int64", uint(math.MaxInt64) + 1},
		{"named uint above int64", myUint(math.MaxUint64)},
		{"valuer error", errValuer{}},
		{"valuer returns a struct", structValuer{}},
		{"valuer returns a valuer", valuerValuer{}},
		{"sql.Out", sql.Out{Dest: new(int)}},
		{"a pointer to itself", func() any { var p selfPtr; p = &p; return p }()},
		{"a pointer to a struct", &struct{ A int }{1}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?)", tc.arg)
			if err == nil {
				t.Fatalf("%T bound", tc.arg)
			}
			var ae *messages.ArgError
			if !errors.As(err, &ae) || !errors.Is(err, messages.ErrBadArgument) {
				t.Fatalf("%T: %v, want a *messages.ArgError", tc.arg, err)
			}
			if _, err := db.QueryContext(ctx, "SELECT ?", tc.arg); !errors.As(err, &ae) {
				t.Fatalf("query with %T: %v, want a *messages.ArgError", tc.arg, err)
			}
		})
	}
	if n := count(t, db, "t"); n != 0 {
		t.Fatalf("%d rows written by refused arguments", n)
	}

	good := []struct {
		name string
		arg  any
		want any
	}{
		{"MaxInt64 as uint64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"nil", nil, nil},
		{"typed nil pointer to a value-receiver Valuer", (*valValuer)(nil), nil},
		{"value Valuer", valValuer{7}, int64(7)},
		{"pointer Valuer", &ptrValuer{8}, int64(8)},
		{"nil *int", (*int)(nil), nil},
		{"**int", func() **int { i := 9; p := &i; return &p }(), int64(9)},
		{"sql.NullString invalid", sql.NullString{}, nil},
		{"sql.NullInt64", sql.NullInt64{Int64: 3, Valid: true}, int64(3)},
		{"empty bytes", []byte{}, []byte{}},
		{"string with a NUL", "a\x00b", "a\x00b"},
		{"+Inf", math.Inf(1), math.Inf(1)},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			var got any
			if err := db.QueryRowContext(ctx, "SELECT ?", tc.arg).Scan(&got); err != nil {
				t.Fatalf("%T: %v", tc.arg, err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
				t.Fatalf("%T: read back %#v, want %#v", tc.arg, got, tc.want)
			}
		})
	}

	t.Run("NaN", func(t *testing.T) {
		var got any
		err := db.QueryRowContext(ctx, "SELECT ?", math.NaN()).Scan(&got)
		// SQLite stores a NaN as NULL: either it is refused, or it reads back as NULL.
		if err == nil && got != nil {
			t.Fatalf("NaN read back as %#v", got)
		}
		t.Logf("NaN: %v, %#v", err, got)
	})

	t.Run("valuer panics", func(t *testing.T) {
		// As actorlite binds a Valuer (sqlitewasm's callValuer): a panic in Value, such as a
		// nil pointer receiver's, is an argument error, not a panic of the caller.
		for _, arg := range []any{panicValuer{}, (*ptrValuer)(nil)} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%T: the caller panicked: %v", arg, r)
					}
				}()
				_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?)", arg)
				var ae *messages.ArgError
				if !errors.As(err, &ae) {
					t.Errorf("%T: %v, want a *messages.ArgError", arg, err)
				}
			}()
		}
		// The pool survives.
		mustExec(t, db, "INSERT INTO t VALUES (1)")
		if n := count(t, db, "t"); n != 1 {
			t.Fatalf("%d rows", n)
		}
		mustExec(t, db, "DELETE FROM t")
	})
}

// Argument counts and placeholder styles that do not match: a typed error, never a silent NULL
// or a value bound to the wrong parameter.
func TestHostileArgumentCounts(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (a, b)")
	cases := []struct {
		name  string
		query string
		args  []any
	}{
		{"too few", "INSERT INTO t VALUES (?, ?)", []any{1}},
		{"too many", "INSERT INTO t VALUES (?, ?)", []any{1, 2, 3}},
		{"args for none", "INSERT INTO t VALUES (1, 2)", []any{1}},
		{"named missing", "INSERT INTO t VALUES (:a, :b)", []any{sql.Named("a", 1)}},
		{"named unknown", "INSERT INTO t VALUES (:a, :b)", []any{sql.Named("a", 1), sql.Named("b", 2), sql.Named("c", 3)}},
		{"mixing, named first", "INSERT INTO t VALUES (?, :b)", []any{sql.Named("b", 2), 1}},
		{"?NNN beyond", "INSERT INTO t VALUES (?2, ?2)", []any{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := db.ExecContext(ctx, tc.query, tc.args...)
			if err == nil {
				var a, b any
				db.QueryRow("SELECT a, b FROM t").Scan(&a, &b)
				db.Exec("DELETE FROM t")
				t.Fatalf("ran (%v), wrote (%#v, %#v)", res, a, b)
			}
			if !errors.Is(err, messages.ErrBadArgument) && !errors.Is(err, messages.ErrSQL) {
				t.Fatalf("%v: want ErrBadArgument", err)
			}
		})
	}
	// Mixing positional and named where both are well defined binds each where it belongs.
	mustExec(t, db, "INSERT INTO t VALUES (?, :b)", 1, sql.Named("b", 2))
	var a, b int64
	if err := db.QueryRowContext(ctx, "SELECT a, b FROM t").Scan(&a, &b); err != nil || a != 1 || b != 2 {
		t.Fatalf("mixed: %d, %d, %v", a, b, err)
	}
	if n := count(t, db, "t"); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// SQL text that is not one plain statement.
func TestHostileSQLText(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "INSERT INTO t VALUES (1), (2)")

	for _, q := range []string{"DELETE FROM t\x00 WHERE x = 1", "DELETE FROM t WHERE x = 1;\x00DELETE FROM t"} {
		if _, err := db.ExecContext(ctx, q); err == nil {
			t.Errorf("%q ran", q)
		}
		if _, err := db.ExecContext(ctx, q, 1); err == nil {
			t.Errorf("%q with an argument ran", q)
		}
		if rows, err := db.QueryContext(ctx, q); err == nil {
			rows.Close()
			t.Errorf("%q queried", q)
		}
	}
	if n := count(t, db, "t"); n != 2 {
		t.Fatalf("%d rows after NUL-holding SQL, want 2", n)
	}

	for _, q := range []string{"", "   ", "-- only a comment", "/* a comment */", ";", ";;"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Logf("Exec(%q): %v", q, err)
		}
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			if rows.Next() {
				t.Errorf("Query(%q) returned a row", q)
			}
			rows.Close()
		} else {
			t.Logf("Query(%q): %v", q, err)
		}
	}

	// A multi-statement Exec with arguments: refused as a whole, nothing of it runs.
	_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?); INSERT INTO t VALUES (?)", 3, 4)
	if !errors.Is(err, messages.ErrMultipleStatements) {
		t.Fatalf("multi-statement with args: %v", err)
	}
	if n := count(t, db, "t"); n != 2 {
		t.Fatalf("%d rows after a refused multi-statement exec", n)
	}
	// A multi-statement Query: refused.
	if rows, err := db.QueryContext(ctx, "SELECT 1; DELETE FROM t"); err == nil {
		rows.Close()
		t.Fatal("multi-statement query ran")
	}
	if n := count(t, db, "t"); n != 2 {
		t.Fatalf("%d rows after a refused multi-statement query", n)
	}
	// A script with an error in the middle: the statements before it ran (as sqlite3_exec).
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (5); INSERT INTO nosuch VALUES (1); INSERT INTO t VALUES (6)"); !errors.Is(err, messages.ErrSQL) {
		t.Fatalf("script with an error: %v", err)
	}
}

// Transaction control sent as SQL outside a transaction must not leave the shared writer
// inside a transaction nobody owns.
func TestHostileTransactionControlAsSQL(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	for _, q := range []string{
		"BEGIN",
		"BEGIN IMMEDIATE",
		"SAVEPOINT s",
		"INSERT INTO t VALUES (1); BEGIN; INSERT INTO t VALUES (2)",
		"BEGIN; INSERT INTO t VALUES (3)",
		"SAVEPOINT a; INSERT INTO t VALUES (4)",
		"COMMIT",
		"ROLLBACK",
	} {
		db.ExecContext(ctx, q)
		if rows, err := db.QueryContext(ctx, q); err == nil {
			rows.Close()
		}
		if st, err := db.PrepareContext(ctx, q); err == nil {
			st.ExecContext(ctx)
			st.Close()
		}
		// The writer must not be left in a transaction: a BeginTx works, and what it commits
		// is seen by a reader.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("after %q: BeginTx: %v", q, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (100)"); err != nil {
			t.Fatalf("after %q: %v", q, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("after %q: commit: %v", q, err)
		}
		var n100 int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE x = 100").Scan(&n100); err != nil || n100 != 1 {
			t.Fatalf("after %q: %d committed rows seen, %v", q, n100, err)
		}
		mustExec(t, db, "DELETE FROM t")
	}
}

// A transaction's statement from another session, sent as SQL, must never end someone
// else's transaction.
func TestHostileRollbackFromOutside(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (1)")
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "ROLLBACK")
		done <- err
	}()
	select {
	case err := <-done:
		t.Logf("ROLLBACK from outside: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	<-done
	if n := count(t, db, "t"); n != 1 {
		t.Fatalf("%d rows, want 1: another session's ROLLBACK ended the transaction", n)
	}
}

// Query with a statement that writes: the write happens once, on the writer.
func TestHostileQueryThatWrites(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, x)")
	for i, q := range []string{
		"INSERT INTO t (x) VALUES (1)",
		"INSERT INTO t (x) VALUES (2) RETURNING id",
		"UPDATE t SET x = x + 10 RETURNING x",
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		for rows.Next() {
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("%q: close: %v", q, err)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		_ = i
	}
	var sum int
	if err := db.QueryRowContext(ctx, "SELECT sum(x) FROM t").Scan(&sum); err != nil || sum != 23 {
		t.Fatalf("sum %d, %v; want 23 (each write once)", sum, err)
	}
	// A writing query left unread: its write is still whole, and the writer is free again.
	rows, err := db.QueryContext(ctx, "INSERT INTO t (x) VALUES (100), (200) RETURNING id")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	mustExec(t, db, "INSERT INTO t (x) VALUES (1000)")
	if err := db.QueryRowContext(ctx, "SELECT sum(x) FROM t").Scan(&sum); err != nil || (sum != 1323 && sum != 1023) {
		t.Fatalf("sum %d, %v", sum, err)
	}
}

// A ctx already done at every step: the ctx's error, at once, and nothing left behind.
func TestHostileDoneContext(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "INSERT INTO t VALUES (1), (2), (3)")
	done, cancel := context.WithCancel(ctx)
	cancel()

	if _, err := db.BeginTx(done, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("BeginTx: %v", err)
	}
	if _, err := db.BeginTx(done, &sql.TxOptions{ReadOnly: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("BeginTx ReadOnly: %v", err)
	}
	if _, err := db.ExecContext(done, "INSERT INTO t VALUES (9)"); !errors.Is(err, context.Canceled) {
		t.Errorf("Exec: %v", err)
	}
	if _, err := db.ExecContext(done, "INSERT INTO t VALUES (9); INSERT INTO t VALUES (9)"); !errors.Is(err, context.Canceled) {
		t.Errorf("Exec script: %v", err)
	}
	if _, err := db.QueryContext(done, "SELECT x FROM t"); !errors.Is(err, context.Canceled) {
		t.Errorf("Query: %v", err)
	}
	if err := db.PingContext(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping: %v", err)
	}
	if _, err := db.PrepareContext(done, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Prepare: %v", err)
	}

	// Inside a transaction, on a driver connection, with the ctx of the statements done.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(done, "INSERT INTO t VALUES (9)"); !errors.Is(err, context.Canceled) {
		t.Errorf("tx Exec: %v", err)
	}
	if _, err := tx.QueryContext(done, "SELECT x FROM t"); !errors.Is(err, context.Canceled) {
		t.Errorf("tx Query: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("rollback: %v", err)
	}
	conn.Close()

	// Next mid-iteration, with the query's ctx ended after the first row.
	qctx, qcancel := context.WithCancel(ctx)
	rows, err := db.QueryContext(qctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	qcancel()
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		t.Errorf("close after cancel: %v", err)
	}

	// A transaction whose ctx ends: Commit reports it, nothing is committed, the writer is free.
	tctx, tcancel := context.WithCancel(ctx)
	tx, err = db.BeginTx(tctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (50)")
	tcancel()
	if err := tx.Commit(); err == nil {
		t.Error("commit after the ctx ended succeeded")
	}
	// database/sql rolls it back when its ctx ends, or this does: either way it ends.
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("rollback after: %v", err)
	}
	if n := count(t, db, "t"); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
	// The writer is free again (a leaked hold would hang this).
	mustExec(t, db, "INSERT INTO t VALUES (4)")
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
}

// Rows left open when the transaction commits, and a transaction used after its end.
func TestHostileTxLifecycle(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "INSERT INTO t VALUES (1), (2), (3)")

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (4)")
	rows, err := tx.QueryContext(ctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit with rows open: %v", err)
	}
	for rows.Next() {
	}
	rows.Close()
	if n := count(t, db, "t"); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (5)"); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("exec after commit: %v", err)
	}
	if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("second commit: %v", err)
	}

	// The same through the driver's own Tx, reached with Raw: no panic, a typed error.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		bt := dc.(driver.ConnBeginTx)
		dtx, err := bt.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		if _, err := bt.BeginTx(ctx, driver.TxOptions{}); !errors.Is(err, messages.ErrInTransaction) {
			t.Errorf("nested BeginTx: %v", err)
		}
		if err := dtx.Commit(); err != nil {
			return err
		}
		if err := dtx.Commit(); !errors.Is(err, messages.ErrNoTransaction) {
			t.Errorf("second driver commit: %v", err)
		}
		if err := dtx.Rollback(); !errors.Is(err, messages.ErrNoTransaction) {
			t.Errorf("driver rollback after commit: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Nested BeginTx through database/sql on one sql.Conn.
	tx1, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx2, err := conn.BeginTx(ctx, nil)
	if err == nil {
		tx2.Rollback()
		t.Error("a second transaction on one sql.Conn began")
	}
	tx1.Rollback()
	mustExec(t, conn, "INSERT INTO t VALUES (6)")
}

// A ReadOnly transaction that writes: refused with a typed error, nothing written, in every
// mode.
func TestHostileReadOnlyWrites(t *testing.T) {
	t.Run("WAL", func(t *testing.T) {
		db, _ := openDB(t)
		readOnlyWrites(t, db)
	})
	t.Run("rollback journal", func(t *testing.T) {
		// No readers: every ReadOnly transaction holds the writer with query_only on.
		s := startSupervisor(t, supervisor.Config{})
		ctr, err := sqldriver.NewConnector(s, filepath.Join(t.TempDir(), "j.db"), actors.WithPragma("journal_mode", "DELETE"))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(ctr)
		defer db.Close()
		readOnlyWrites(t, db)
	})
}

func readOnlyWrites(t *testing.T, db *sql.DB) {
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	for _, lvl := range []sql.IsolationLevel{sql.LevelDefault, sql.LevelSerializable, sql.LevelLinearizable} {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: lvl})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"INSERT INTO t VALUES (1)",
			"INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)",
			"PRAGMA query_only = OFF; INSERT INTO t VALUES (3)",
			"PRAGMA main.\"QUERY_ONLY\" = 0; INSERT INTO t VALUES (4)",
			"CREATE TABLE u (y)",
		} {
			if _, err := tx.ExecContext(ctx, q); err == nil {
				t.Errorf("%v: %q ran in a ReadOnly transaction", lvl, q)
			} else if !errors.Is(err, messages.ErrReadOnly) && !errors.Is(err, messages.ErrNotReadOnly) && !errors.Is(err, messages.ErrSQL) {
				t.Errorf("%v: %q: %v, want a typed error", lvl, q, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Errorf("%v: commit: %v", lvl, err)
		}
		if n := count(t, db, "t"); n != 0 {
			t.Fatalf("%v: %d rows written by a ReadOnly transaction", lvl, n)
		}
	}
	// The writer is writable after the ReadOnly transactions on it.
	mustExec(t, db, "INSERT INTO t VALUES (1)")
}

// 32 goroutines on one *sql.DB with one connection, and with no limit: no error, no lost
// update, no hang.
func TestHostileConcurrency(t *testing.T) {
	for _, maxOpen := range []int{1, 0} {
		t.Run(fmt.Sprint("maxOpen=", maxOpen), func(t *testing.T) {
			db, _ := openDB(t)
			db.SetMaxOpenConns(maxOpen)
			ctx := deadline(t)
			mustExec(t, db, "CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)")
			mustExec(t, db, "INSERT INTO c VALUES (1, 0)")
			const G, N = 32, 10
			var wg sync.WaitGroup
			errs := make(chan error, G*N)
			for g := range G {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range N {
						var err error
						switch (g + i) % 4 {
						case 0:
							_, err = db.ExecContext(ctx, "UPDATE c SET n = n + 1 WHERE id = 1")
						case 1:
							err = func() error {
								tx, err := db.BeginTx(ctx, nil)
								if err != nil {
									return err
								}
								defer tx.Rollback()
								var n int
								if err := tx.QueryRowContext(ctx, "SELECT n FROM c WHERE id = 1").Scan(&n); err != nil {
									return err
								}
								if _, err := tx.ExecContext(ctx, "UPDATE c SET n = ? WHERE id = 1", n+1); err != nil {
									return err
								}
								return tx.Commit()
							}()
						case 2:
							var n int
							err = db.QueryRowContext(ctx, "SELECT n FROM c WHERE id = 1").Scan(&n)
							if err == nil {
								_, err = db.ExecContext(ctx, "UPDATE c SET n = n + 1 WHERE id = 1")
							}
						case 3:
							err = func() error {
								tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
								if err != nil {
									return err
								}
								defer tx.Rollback()
								var n int
								if err := tx.QueryRowContext(ctx, "SELECT n FROM c").Scan(&n); err != nil {
									return err
								}
								return tx.Rollback()
							}()
							if err == nil {
								_, err = db.ExecContext(ctx, "UPDATE c SET n = n + 1 WHERE id = 1")
							}
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT n FROM c WHERE id = 1").Scan(&n); err != nil || n != G*N {
				t.Fatalf("n = %d, %v; want %d", n, err, G*N)
			}
		})
	}
}

// sql.DB.Close while queries and transactions run: every call ends with a result or an
// error, nothing hangs, nothing leaks.
func TestHostileCloseWhileRunning(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{})
	ctx := deadline(t)
	path := filepath.Join(t.TempDir(), "close.db")
	db := connectorDB(t, s, path)
	mustExec(t, db, "CREATE TABLE t (x)")
	stmt, err := db.PrepareContext(ctx, "INSERT INTO t VALUES (?)")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ran atomic.Int64
	underWay := make(chan struct{})
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				var err error
				switch g % 4 {
				case 0:
					_, err = stmt.ExecContext(ctx, i)
				case 1:
					var rows *sql.Rows
					rows, err = db.QueryContext(ctx, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 1000) SELECT i FROM r")
					if err == nil {
						for rows.Next() {
						}
						err = errors.Join(rows.Err(), rows.Close())
					}
				case 2:
					var tx *sql.Tx
					tx, err = db.BeginTx(ctx, nil)
					if err == nil {
						_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (?)", -i)
						err = errors.Join(err, tx.Commit())
					}
				case 3:
					var tx *sql.Tx
					tx, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
					if err == nil {
						var n int
						err = tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
						err = errors.Join(err, tx.Rollback())
					}
				}
				if err != nil {
					return
				}
				if ran.Add(1) == 50 {
					close(underWay)
				}
			}
		}()
	}
	select {
	case <-underWay:
	case <-ctx.Done():
		t.Fatal("the work never got under way")
	}
	if err := db.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	wg.Wait()
	// Statements prepared before: a clear error, no panic.
	if _, err := stmt.ExecContext(ctx, 1); err == nil {
		t.Fatal("a statement ran after Close")
	}
	// The program's own pool on the same database still works: the connector closed its share
	// only.
	p, err := s.OpenPool(ctx, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if _, err := p.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
}

// Prepared statements: used after the *sql.DB closed, and after their transaction ended.
func TestHostilePreparedAfterClose(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{})
	ctx := deadline(t)
	db := connectorDB(t, s, filepath.Join(t.TempDir(), "p.db"))
	mustExec(t, db, "CREATE TABLE t (x)")
	st, err := db.PrepareContext(ctx, "SELECT count(*) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cst, err := conn.PrepareContext(ctx, "INSERT INTO t VALUES (1)")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tst, err := tx.PrepareContext(ctx, "INSERT INTO t VALUES (2)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tst.ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if _, err := tst.ExecContext(ctx); err == nil {
		t.Error("a transaction's statement ran after its commit")
	}
	db.Close()
	var n int
	if err := st.QueryRowContext(ctx).Scan(&n); err == nil {
		t.Error("a DB statement ran after Close")
	}
	// The sql.Conn outlives its DB's Close: its statements fail, cleanly.
	if _, err := cst.ExecContext(ctx); err == nil {
		t.Error("a Conn statement ran after the DB's Close")
	} else if !errors.Is(err, messages.ErrClosed) && !errors.Is(err, sql.ErrConnDone) {
		t.Errorf("a Conn statement after Close: %v, want ErrClosed", err)
	}
	conn.Close()
}

// database/sql's retry on driver.ErrBadConn: a write that ran is never retried, even when
// the writer stopped for good during it.
func TestHostileNoDoubleWrite(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{MaxRestarts: -1})
	ctx := deadline(t)
	db := connectorDB(t, s, filepath.Join(t.TempDir(), "once.db"))
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "CREATE TABLE log (x)")
	var calls atomic.Int64
	// register registers boom on the connector's pool and returns that pool.
	register := func() (p *actors.Pool) {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			type pooled interface{ Pool() *actors.Pool }
			p = dc.(pooled).Pool()
			return p.CreateFunction(ctx, "boom", 0, func([]any) (any, error) {
				calls.Add(1)
				panic("boom")
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	crashed := register()
	// A script whose second statement crashes the writer: the first ran, so the call must
	// not be retried.
	_, err := db.ExecContext(ctx, "INSERT INTO log VALUES (1); INSERT INTO t VALUES (boom())")
	if err == nil || errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("crashing script: %v", err)
	}
	if c := calls.Load(); c != 1 {
		t.Fatalf("the crashing function ran %d times: the script was retried", c)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 1 {
		t.Fatalf("%d log rows: a write applied twice", n)
	}
	// A write query (RETURNING) that crashes: not retried either. (Registered once the
	// crashed writer has stopped: until then the connector still hands out its pool.)
	<-crashed.Writer().Done()
	register()
	calls.Store(0)
	rows, err := db.QueryContext(ctx, "INSERT INTO t VALUES (boom()) RETURNING x")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Fatal("a crashing query succeeded")
	}
	if c := calls.Load(); c != 1 {
		t.Fatalf("the crashing function ran %d times in a query", c)
	}
	// A transaction's BEGIN on a writer that stopped for good: retried by database/sql on a
	// new pool, since nothing ran.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("BeginTx after the writer stopped: %v", err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (7)")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

// time.Time with zones and sub-second parts round-trips to the same instant, through every
// placeholder style and a DATETIME column.
func TestHostileTimeZones(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME, raw)")
	tokyo := time.FixedZone("JST", 9*3600)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	times := []time.Time{
		time.Date(2024, 3, 10, 1, 59, 59, 999999999, ny),
		time.Date(2024, 3, 10, 12, 0, 0, 1, tokyo),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 10, 59, 59, 999999999, time.FixedZone("", -(12*3600+30*60))),
		time.Now(), // with a monotonic reading
	}
	for i, at := range times {
		mustExec(t, db, "INSERT INTO t (id, at, raw) VALUES (?, @at, $at)", i, sql.Named("at", at))
		var got time.Time
		var raw any
		if err := db.QueryRowContext(ctx, "SELECT at, raw FROM t WHERE id = ?", i).Scan(&got, &raw); err != nil {
			t.Fatalf("%v: %v", at, err)
		}
		if !got.Equal(at) {
			t.Errorf("%v read back as %v", at, got)
		}
		// Lookup by the same instant in another zone finds the row (text order is time order).
		var id int
		if err := db.QueryRowContext(ctx, "SELECT id FROM t WHERE at = ?", at.In(tokyo)).Scan(&id); err != nil || id != i {
			t.Errorf("%v looked up in another zone: %d, %v", at, id, err)
		}
	}
	// Beyond what the fixed-width text holds (year 0000 to 9999 in UTC): a typed error.
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -2*3600)),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if _, err := db.ExecContext(ctx, "INSERT INTO t (at) VALUES (?)", at); !errors.Is(err, messages.ErrBadArgument) {
			t.Errorf("%v: %v, want ErrBadArgument", at, err)
		}
	}
	// Ordering by the column is time order, across zones.
	rows, err := db.QueryContext(ctx, "SELECT at FROM t ORDER BY at")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	prev := time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		if at.Before(prev) {
			t.Errorf("%v after %v in ORDER BY", at, prev)
		}
		prev = at
	}
}

// Callers queued behind a transaction whose ctx ends while they wait: they get the ctx's
// error, and what they asked for never runs later; the writer is not left held.
func TestHostileQueuedCallersGiveUp(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (1)")
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	wg.Add(4)
	go func() {
		defer wg.Done()
		_, errs[0] = db.ExecContext(short, "INSERT INTO t VALUES (2)")
	}()
	go func() {
		defer wg.Done()
		_, errs[1] = db.ExecContext(short, "INSERT INTO t VALUES (3); INSERT INTO t VALUES (4)")
	}()
	go func() {
		defer wg.Done()
		var tx2 *sql.Tx
		tx2, errs[2] = db.BeginTx(short, nil)
		if errs[2] == nil {
			tx2.Rollback()
		}
	}()
	go func() {
		defer wg.Done()
		var rows *sql.Rows
		rows, errs[3] = db.QueryContext(short, "INSERT INTO t VALUES (5) RETURNING x")
		if errs[3] == nil {
			rows.Close()
		}
	}()
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("queued call %d: %v, want the ctx's error", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO t VALUES (6)") // the writer is free
	rows, err := db.QueryContext(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var x int
		rows.Scan(&x)
		got = append(got, x)
	}
	if fmt.Sprint(got) != "[1 6]" {
		t.Fatalf("rows %v, want [1 6]: a call that gave up ran later", got)
	}
}

// Rows left open, more of them than the pool has readers, then more queries on the same
// goroutine (the nested-query pattern): no hang.
func TestHostileOpenRowsExhaustReaders(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 5000) INSERT INTO t SELECT i FROM r")
	var open []*sql.Rows
	defer func() {
		for _, r := range open {
			r.Close()
		}
	}()
	for range 3 * runtime.GOMAXPROCS(0) {
		rows, err := db.QueryContext(ctx, "SELECT x FROM t")
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatal(rows.Err())
		}
		open = append(open, rows)
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var n int
	if err := db.QueryRowContext(qctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 5000 {
		t.Fatalf("a query with every reader's cursor open: %d, %v", n, err)
	}
	tx, err := db.BeginTx(qctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(qctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 5000 {
		t.Fatalf("a ReadOnly transaction with every reader's cursor open: %d, %v", n, err)
	}
	for _, r := range open {
		for r.Next() {
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// Values stored by other programs in typed columns: CURRENT_TIMESTAMP in a DATETIME column
// (every migration's default) scans as time.Time; what cannot be read as the column's type
// comes back as what it is, or as a typed error, never a wrong value or a panic.
func TestHostileStoredValues(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME DEFAULT CURRENT_TIMESTAMP, ok BOOLEAN, j JSON)")
	mustExec(t, db, "INSERT INTO t (id) VALUES (1)")
	var at time.Time
	if err := db.QueryRowContext(ctx, "SELECT at FROM t WHERE id = 1").Scan(&at); err != nil {
		t.Fatalf("CURRENT_TIMESTAMP: %v", err)
	}
	if d := time.Since(at); d < -time.Minute || d > time.Minute {
		t.Fatalf("CURRENT_TIMESTAMP read as %v", at)
	}
	for i, v := range []any{"hello", int64(1700000000), 1.5, "2024-01-02", "2024-01-02 03:04:05.678", []byte{1, 2}} {
		id := 10 + i
		mustExec(t, db, "INSERT INTO t (id, at, ok, j) VALUES (?, ?, ?, ?)", id, v, v, v)
		rows, err := db.QueryContext(ctx, "SELECT at, ok, j FROM t WHERE id = ?", id)
		if err != nil {
			if !errors.Is(err, messages.ErrConvert) {
				t.Errorf("%#v: %v, want ErrConvert", v, err)
			}
			t.Logf("%#v: %v", v, err)
			continue
		}
		for rows.Next() {
			var a, b, c any
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Logf("%#v: scan: %v", v, err)
				continue
			}
			t.Logf("%#v: DATETIME %#v, BOOLEAN %#v, JSON %#v", v, a, b, c)
		}
		if err := rows.Err(); err != nil {
			t.Logf("%#v: %v", v, err)
		}
		rows.Close()
	}
}

// DSNs naming a private database (":memory:", "", a temporary file) or a bad one: either every
// statement sees the same database, or the DSN is refused with a typed error; never a reader
// that sees another database than the writer.
func TestHostileDSNs(t *testing.T) {
	ctx := deadline(t)
	for _, dsn := range []string{":memory:", "", "file::memory:", "file::memory:?cache=shared"} {
		t.Run(fmt.Sprintf("%q", dsn), func(t *testing.T) {
			db, err := sql.Open("actorlite", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(ctx, "CREATE TABLE t (x); INSERT INTO t VALUES (1)"); err != nil {
				if !errors.Is(err, messages.ErrBadArgument) && !errors.Is(err, messages.ErrConfig) && !errors.Is(err, messages.ErrCantOpen) {
					t.Fatalf("refused with an untyped error: %v", err)
				}
				t.Logf("refused: %v", err)
				return
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
				t.Fatalf("a query after the write: %d, %v", n, err)
			}
			tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
				t.Fatalf("a ReadOnly transaction: %d, %v", n, err)
			}
		})
	}
	t.Run("bad", func(t *testing.T) {
		dir := t.TempDir()
		for _, dsn := range []string{
			filepath.Join(dir, "no", "such", "dir", "x.db"),
			"file:" + filepath.Join(dir, "x.db") + "?mode=nonsense",
			"file:" + filepath.Join(dir, "y.db") + "?_pragma=nonsense(1",
		} {
			db, err := sql.Open("actorlite", dsn)
			if err != nil {
				t.Fatal(err)
			}
			err = db.PingContext(ctx)
			if err == nil {
				t.Errorf("%q: ping succeeded", dsn)
			} else if errors.Is(err, driver.ErrBadConn) {
				t.Errorf("%q: %v: ErrBadConn for a DSN that cannot open", dsn, err)
			} else {
				t.Logf("%q: %v", dsn, err)
			}
			db.Close()
		}
	})
}

// The driver's own Tx, reached with Raw, ended while one of its cursors is still open (which
// database/sql itself never does): it ends whole, and the shared writer is not left inside a
// transaction.
func TestHostileDriverTxWithOpenCursor(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 5000) INSERT INTO t SELECT i FROM r")
	for _, commit := range []bool{true, false} {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			dtx, err := dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
			if err != nil {
				return err
			}
			if _, err := dc.(driver.ExecerContext).ExecContext(ctx, "INSERT INTO t VALUES (-1)", nil); err != nil {
				return err
			}
			rows, err := dc.(driver.QueryerContext).QueryContext(ctx, "SELECT x FROM t", nil)
			if err != nil {
				return err
			}
			dest := make([]driver.Value, 1)
			if err := rows.Next(dest); err != nil {
				return err
			}
			if commit {
				err = dtx.Commit()
			} else {
				err = dtx.Rollback()
			}
			t.Logf("commit=%v with a cursor open: %v", commit, err)
			rows.Close()
			return nil
		})
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The writer is free and outside any transaction: a new transaction begins and commits.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("commit=%v: BeginTx after: %v", commit, err)
		}
		mustExec(t, tx, "INSERT INTO t VALUES (-2)")
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit=%v: commit after: %v", commit, err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE x = -2").Scan(&n); err != nil || n != 1 {
			t.Fatalf("commit=%v: the next transaction's row: %d, %v", commit, n, err)
		}
		mustExec(t, db, "DELETE FROM t WHERE x < 0")
	}
}

// The program stops its supervisor under an open *sql.DB: calls fail with an error wrapping
// ErrClosed (never a hang, a panic or a bare driver.ErrBadConn), and Close returns.
func TestHostileSupervisorStoppedUnderDB(t *testing.T) {
	s, err := supervisor.Start(context.Background(), supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := deadline(t)
	ctr, err := sqldriver.NewConnector(s, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	mustExec(t, db, "CREATE TABLE t (x)")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, messages.ErrClosed) {
			t.Errorf("%s after the supervisor stopped: %v, want ErrClosed", what, err)
		}
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	check("tx exec", err)
	err = tx.Commit()
	check("commit", err)
	err = ro.Rollback()
	if err != nil && !errors.Is(err, messages.ErrClosed) {
		t.Errorf("read-only rollback: %v", err)
	}
	_, err = db.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	check("exec", err)
	_, err = db.QueryContext(ctx, "SELECT x FROM t")
	check("query", err)
	_, err = db.BeginTx(ctx, nil)
	check("begin", err)
	_, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	check("begin read-only", err)
	check("ping", db.PingContext(ctx))
	done := make(chan error, 1)
	go func() { done <- db.Close() }()
	select {
	case err := <-done:
		t.Logf("close: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("db.Close hung after the supervisor stopped")
	}
}

// Writes queued behind a statement that crashes the writer for good: each one that succeeded
// is applied exactly once (database/sql retried the ones nothing ran for, on a new pool), and
// each one that failed is not applied at all.
func TestHostileCrashWithQueuedWrites(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{MaxRestarts: -1})
	ctx := deadline(t)
	db := connectorDB(t, s, filepath.Join(t.TempDir(), "q.db"))
	mustExec(t, db, "CREATE TABLE t (v INTEGER)")
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	err = conn.Raw(func(dc any) error {
		type pooled interface{ Pool() *actors.Pool }
		return dc.(pooled).Pool().CreateFunction(ctx, "boom", 0, func([]any) (any, error) {
			<-release // let the other writes queue up behind this one
			panic("boom")
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	crashed := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(ctx, "INSERT INTO t VALUES (boom())")
		crashed <- err
	}()
	const G = 16
	var wg sync.WaitGroup
	errs := make([]error, G)
	var started sync.WaitGroup
	started.Add(G)
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			switch g % 3 {
			case 0:
				_, errs[g] = db.ExecContext(ctx, "INSERT INTO t VALUES (?)", g)
			case 1:
				errs[g] = func() error {
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer tx.Rollback()
					if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (?)", g); err != nil {
						return err
					}
					return tx.Commit()
				}()
			default:
				_, errs[g] = db.ExecContext(ctx, fmt.Sprintf("INSERT INTO t VALUES (%d); INSERT INTO t VALUES (%d)", g, g+1000))
			}
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // give the writes time to queue; the test holds either way
	close(release)
	if err := <-crashed; !errors.Is(err, messages.ErrCrashed) || errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("the crashing call: %v", err)
	}
	conn.Close()
	wg.Wait()
	for g, err := range errs {
		var n int
		if qerr := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE v = ?", g).Scan(&n); qerr != nil {
			t.Fatal(qerr)
		}
		switch {
		case err == nil && n != 1:
			t.Errorf("write %d succeeded and is applied %d times", g, n)
		case err != nil && n != 0:
			t.Errorf("write %d failed (%v) and is applied %d times", g, err, n)
		case err != nil:
			t.Logf("write %d: %v", g, err)
		}
	}
}

// json.RawMessage binds as JSON text, through a pointer too (a nullable JSON field of a
// struct, as sqlx binds it), so SQLite's JSON functions read it.
func TestHostileJSONPointers(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, j JSON)")
	raw := json.RawMessage(`{"a":1}`)
	praw := &raw
	for i, arg := range []any{raw, &raw, &praw} {
		if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", i, arg); err != nil {
			t.Fatalf("%T: %v", arg, err)
		}
		var typ string
		var a sql.NullInt64
		if err := db.QueryRowContext(ctx, "SELECT typeof(j), json_extract(j, '$.a') FROM t WHERE id = ?", i).Scan(&typ, &a); err != nil {
			t.Errorf("%T: %v", arg, err)
			continue
		}
		if typ != "text" || a.Int64 != 1 {
			t.Errorf("%T bound as %s, json_extract gives %v", arg, typ, a)
		}
	}
	var nilRaw *json.RawMessage
	mustExec(t, db, "INSERT INTO t VALUES (10, ?)", nilRaw)
	var typ string
	if err := db.QueryRowContext(ctx, "SELECT typeof(j) FROM t WHERE id = 10").Scan(&typ); err != nil || typ != "null" {
		t.Errorf("a nil *json.RawMessage bound as %s, %v", typ, err)
	}
}

// Rows still open, on a reader and on the writer, when the *sql.DB closes: reading on ends
// with an error or the end, never a hang; closing them returns.
func TestHostileRowsOpenAtClose(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{})
	ctx := deadline(t)
	path := filepath.Join(t.TempDir(), "r.db")
	db := connectorDB(t, s, path)
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 5000) INSERT INTO t SELECT i FROM r")
	rows, err := db.QueryContext(ctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	trows, err := tx.QueryContext(ctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	trows.Next()
	db.Close()
	n := 0
	for rows.Next() {
		n++
	}
	t.Logf("reader rows after Close: %d more, %v", n, rows.Err())
	n = 0
	for trows.Next() {
		n++
	}
	t.Logf("transaction rows after Close: %d more, %v", n, trows.Err())
	rows.Close()
	trows.Close()
	if err := tx.Commit(); err == nil {
		t.Error("a transaction committed after its *sql.DB closed")
	}
	// The writer is not left held: the program's own pool on the database writes.
	p, err := s.OpenPool(ctx, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := p.Exec(wctx, "INSERT INTO t VALUES (0)"); err != nil {
		t.Fatalf("the program's write after the *sql.DB closed: %v", err)
	}
}

// The *sql.DB closes while one of its transactions holds the writer it shares with the
// program's own pool: Close returns, the transaction still ends (Commit or Rollback), and the
// program's pool writes after it.
func TestHostileCloseWhileHoldingSharedWriter(t *testing.T) {
	for _, commit := range []bool{true, false} {
		s := startSupervisor(t, supervisor.Config{})
		ctx := deadline(t)
		path := filepath.Join(t.TempDir(), "h.db")
		p, err := s.OpenPool(ctx, path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Exec(ctx, "CREATE TABLE t (x)"); err != nil {
			t.Fatal(err)
		}
		db := connectorDB(t, s, path)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "INSERT INTO t VALUES (1)")
		done := make(chan error, 1)
		go func() { done <- db.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Logf("close: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("db.Close hangs while a transaction holds the shared writer")
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		t.Logf("commit=%v after Close: %v", commit, err)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if _, err := p.Exec(wctx, "INSERT INTO t VALUES (2)"); err != nil {
			t.Fatalf("commit=%v: the program's write after: %v", commit, err)
		}
		cancel()
		row, err := p.QueryRow(ctx, "SELECT count(*) FROM t WHERE x = 1")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("commit=%v: the transaction's row: %v", commit, row.Index(0))
		if commit == false && row.Index(0) != int64(0) {
			t.Errorf("a rolled back transaction's row is there")
		}
		p.Close(context.Background())
	}
}
