package sqldriver_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

func count(t testing.TB, q interface {
	QueryRow(string, ...any) *sql.Row
}, table string) int {
	t.Helper()
	var n int
	if err := q.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTransactions(t *testing.T) {
	db, _ := openDB(t)
	mustExec(t, db, "CREATE TABLE t (x INTEGER)")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (1)")
	if n := count(t, tx, "t"); n != 1 {
		t.Fatalf("the transaction sees %d rows of its own", n)
	}
	if n := count(t, db, "t"); n != 0 {
		t.Fatalf("a reader sees %d uncommitted rows", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
		t.Fatalf("second commit: %v", err)
	}
	if n := count(t, db, "t"); n != 1 {
		t.Fatalf("%d rows after commit", n)
	}
	tx, err = db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (2)")
	// Savepoints inside a transaction.
	mustExec(t, tx, "SAVEPOINT sp")
	mustExec(t, tx, "INSERT INTO t VALUES (3)")
	mustExec(t, tx, "ROLLBACK TO sp")
	mustExec(t, tx, "RELEASE sp")
	if n := count(t, tx, "t"); n != 2 {
		t.Fatalf("%d rows after ROLLBACK TO", n)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "t"); n != 1 {
		t.Fatalf("%d rows after rollback", n)
	}
	// Outside a transaction, SQL may not leave the shared writer inside one.
	for _, q := range []string{"BEGIN", "SAVEPOINT x"} {
		if _, err := db.Exec(q); !errors.Is(err, messages.ErrInTransaction) {
			t.Errorf("%s outside a transaction: %v, want ErrInTransaction", q, err)
		}
	}
	mustExec(t, db, "INSERT INTO t VALUES (4)") // the writer serves on
	if n := count(t, db, "t"); n != 2 {
		t.Fatalf("%d rows", n)
	}
}

func TestIsolationLevels(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x INTEGER)")
	for _, lvl := range []sql.IsolationLevel{sql.LevelDefault, sql.LevelSerializable, sql.LevelLinearizable} {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: lvl})
		if err != nil {
			t.Fatalf("%v: %v", lvl, err)
		}
		mustExec(t, tx, "INSERT INTO t VALUES (1)")
		if err := tx.Commit(); err != nil {
			t.Fatalf("%v: %v", lvl, err)
		}
	}
	for _, lvl := range []sql.IsolationLevel{sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelWriteCommitted, sql.LevelRepeatableRead, sql.LevelSnapshot} {
		if _, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: lvl}); !errors.Is(err, messages.ErrBadArgument) {
			t.Errorf("%v: %v, want ErrBadArgument", lvl, err)
		}
	}
}

func TestReadOnlyTransactions(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE t (x INTEGER)")
	mustExec(t, db, "INSERT INTO t VALUES (1)")
	for _, lvl := range []sql.IsolationLevel{sql.LevelDefault, sql.LevelLinearizable} {
		t.Run(lvl.String(), func(t *testing.T) {
			tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: lvl})
			if err != nil {
				t.Fatal(err)
			}
			before := count(t, tx, "t")
			if _, err := tx.Exec("INSERT INTO t VALUES (2)"); err == nil {
				t.Fatal("a ReadOnly transaction wrote")
			}
			if lvl == sql.LevelDefault {
				// A snapshot: a commit meanwhile is not seen, and did not wait for the reader.
				mustExec(t, db, "INSERT INTO t VALUES (3)")
				if n := count(t, tx, "t"); n != before {
					t.Fatalf("the snapshot saw %d rows, then %d", before, n)
				}
			} else {
				// Linearizable holds the writer: other writes wait.
				wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				_, err := db.ExecContext(wctx, "INSERT INTO t VALUES (3)")
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("a write during a linearizable read: %v, want it to wait", err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		})
	}
	// query_only was reset on the writer.
	mustExec(t, db, "INSERT INTO t VALUES (5)")
}

// The connector and the program's own pool on one database share the writer and its lock: a
// database/sql transaction keeps the pool's writes out, and a Pool.Tx keeps database/sql's out.
func TestSharesTheWriterWithThePrograms(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{})
	ctx := deadline(t)
	path := filepath.Join(t.TempDir(), "shared.db")
	pool, err := s.OpenPool(ctx, path, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close(ctx)
	if err := pool.ExecScript(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db := connectorDB(t, s, path)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn.Raw(func(dc any) error {
		type pooled interface{ Pool() *actors.Pool }
		if got := dc.(pooled).Pool().WriterPID(); got != pool.WriterPID() {
			t.Errorf("the connector's writer %v is not the program's %v", got, pool.WriterPID())
		}
		return nil
	})
	conn.Close()

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (1)")
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = pool.Exec(wctx, "INSERT INTO t VALUES (2)")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the pool's write during a database/sql transaction: %v, want it to wait", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	err = pool.Tx(ctx, func(c *actors.Conn) error {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := db.ExecContext(wctx, "INSERT INTO t VALUES (3)")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("database/sql's write during Pool.Tx: %v, want it to wait", err)
		}
		_, err = c.Exec(ctx, "INSERT INTO t VALUES (4)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "t"); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	// Closing the *sql.DB leaves the program's pool its writer.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO t VALUES (5)"); err != nil {
		t.Fatalf("the pool lost its writer with the *sql.DB: %v", err)
	}
}

// A crash is the crash error for the call whose statement ran; a call nothing ran for, because
// the writer had stopped for good, is driver.ErrBadConn, which database/sql retries on a new
// connection and a new pool.
func TestCrashes(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{MaxRestarts: -1}) // the first crash stops a connection
	ctx := deadline(t)
	db := connectorDB(t, s, filepath.Join(t.TempDir(), "crash.db"))
	mustExec(t, db, "CREATE TABLE t (x INTEGER)")
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Raw(func(dc any) error {
		type pooled interface{ Pool() *actors.Pool }
		return dc.(pooled).Pool().CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom") })
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "INSERT INTO t VALUES (boom())")
	if !errors.Is(err, messages.ErrCrashed) || errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("the crashing call: %v, want the crash error", err)
	}
	// That connection's writer is gone: database/sql drops it and retries on a new one.
	_, err = conn.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if !errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("a call on the stopped writer: %v, want driver.ErrBadConn", err)
	}
	conn.Close()
	mustExec(t, db, "INSERT INTO t VALUES (2)") // retried by database/sql on a new pool
	if n := count(t, db, "t"); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}

	// A transaction whose writer crashed: its statements fail, nothing of it is committed.
	conn, err = db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Raw(func(dc any) error {
		type pooled interface{ Pool() *actors.Pool }
		return dc.(pooled).Pool().CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom") })
	})
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (3)")
	if _, err := tx.Exec("SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("crash in a transaction: %v", err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("a transaction whose connection crashed committed")
	}
	if n := count(t, db, "t"); n != 1 {
		t.Fatalf("%d rows, want 1: the crashed transaction left some", n)
	}
}

// A crash inside a transaction, with restarts left: the writer is restarted, the transaction
// is lost (its statements fail with ErrTransactionLost, nothing of it is committed), Rollback
// ends it, and the same pool serves on.
func TestCrashInTransactionRestarts(t *testing.T) {
	s := startSupervisor(t, supervisor.Config{})
	ctx := deadline(t)
	db := connectorDB(t, s, filepath.Join(t.TempDir(), "restart.db"))
	mustExec(t, db, "CREATE TABLE t (x INTEGER)")
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var writer any
	conn.Raw(func(dc any) error {
		type pooled interface{ Pool() *actors.Pool }
		p := dc.(pooled).Pool()
		writer = p.WriterPID()
		return p.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom") })
	})
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (1)")
	if _, err := tx.Exec("SELECT boom()"); !errors.Is(err, messages.ErrCrashed) || errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("the crashing statement: %v", err)
	}
	if _, err := tx.Exec("INSERT INTO t VALUES (2)"); !errors.Is(err, messages.ErrTransactionLost) {
		t.Fatalf("after the crash: %v, want ErrTransactionLost", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback of the lost transaction: %v", err)
	}
	mustExec(t, conn, "INSERT INTO t VALUES (3)")
	if n := count(t, db, "t"); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
	conn.Raw(func(dc any) error {
		type pooled interface{ Pool() *actors.Pool }
		if got := dc.(pooled).Pool().WriterPID(); got != writer {
			t.Errorf("the pool was replaced after a crash with restarts left")
		}
		return nil
	})
}

// TestReadOnlyTxHasThePoolsRegistrations: a ReadOnly transaction, which runs on a connection
// beside the pool, has the functions, collations and authorizer registered through the pool,
// including those registered or replaced after its connection was opened (and kept idle).
func TestReadOnlyTxHasThePoolsRegistrations(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	mustExec(t, db, "CREATE TABLE secret (v TEXT)")
	mustExec(t, db, "INSERT INTO secret VALUES ('s')")
	var pool *actors.Pool
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn.Raw(func(dc any) error { pool = dc.(*sqldriver.Conn).Pool(); return nil })
	conn.Close()
	readOnly := func(query string) (string, error) {
		t.Helper()
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var s string
		err = tx.QueryRowContext(ctx, query).Scan(&s)
		return s, err
	}
	// A first ReadOnly transaction opens its connection, which stays idle afterwards.
	if _, err := readOnly("SELECT v FROM secret"); err != nil {
		t.Fatal(err)
	}
	deny := func(r messages.AuthRequest) messages.AuthResult {
		if r.Action == "READ" && r.Table == "secret" {
			return messages.AuthDeny
		}
		return messages.AuthOK
	}
	if err := pool.SetAuthorizer(ctx, deny); err != nil {
		t.Fatal(err)
	}
	if err := pool.CreateFunction(ctx, "shout", 1, func(args []any) (any, error) { return args[0].(string) + "!", nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := readOnly("SELECT v FROM secret"); !errors.Is(err, messages.ErrNotAuthorized) {
		t.Fatalf("a ReadOnly transaction read a table the pool's authorizer denies: %v", err)
	}
	if s, err := readOnly("SELECT shout('hi')"); err != nil || s != "hi!" {
		t.Fatalf("the pool's function in a ReadOnly transaction: %q, %v", s, err)
	}
	// Replaced, on the pool: the transaction follows.
	if err := pool.SetAuthorizer(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s, err := readOnly("SELECT v FROM secret"); err != nil || s != "s" {
		t.Fatalf("after the pool's authorizer was removed: %q, %v", s, err)
	}
}
