package sqldriver_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

// sql.Open's *sql.DBs share one process-wide supervisor (so two on one file share its writer),
// stopped with the last of them (the package's goleak check proves nothing is left running),
// and started again by the next.
func TestSQLOpenSharesOneSupervisor(t *testing.T) {
	dir := t.TempDir()
	a, err := sql.Open(sqldriver.DriverName, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := sql.Open(sqldriver.DriverName, "file:"+filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	pidOf := func(db *sql.DB) any {
		t.Helper()
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var pid any
		conn.Raw(func(dc any) error {
			pid = dc.(*sqldriver.Conn).Pool().WriterPID()
			return nil
		})
		return pid
	}
	if pidOf(a) != pidOf(b) {
		t.Error("two sql.Open DBs on one file have two writers")
	}
	mustExec(t, a, "CREATE TABLE t (x)")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // idempotent, and does not count twice
		t.Fatal(err)
	}
	mustExec(t, b, "INSERT INTO t VALUES (0)") // the supervisor, and the shared writer, still run
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := sql.Open(sqldriver.DriverName, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustExec(t, c, "INSERT INTO t VALUES (1)") // a new supervisor
}

func TestNewConnectorBadInput(t *testing.T) {
	if _, err := sqldriver.NewConnector(nil, "x.db"); !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("nil supervisor: %v", err)
	}
	// A private in-memory database cannot be shared by a pool's members: refused at Connect.
	db, err := sql.Open(sqldriver.DriverName, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf(":memory:: %v, want ErrBadArgument", err)
	}
}

// A shared in-memory database (memdb) has no WAL, so no readers: the writer serves reads, and
// ReadOnly transactions hold it.
func TestMemdb(t *testing.T) {
	// A memdb database lives as long as the process: a name of its own for each run.
	db, err := sql.Open(sqldriver.DriverName, fmt.Sprintf("file:/sqldriver-memdb-%d?vfs=memdb", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)")
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, tx, "t"); n != 2 {
		t.Fatalf("%d rows", n)
	}
	if _, err := tx.Exec("INSERT INTO t VALUES (3)"); err == nil {
		t.Fatal("a ReadOnly transaction wrote")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO t VALUES (3)")
}

// The driver.Driver interface alone (Open without a connector): the connection owns a
// connector, closed with it.
func TestDriverOpen(t *testing.T) {
	db, path := openDB(t)
	c, err := db.Driver().Open(path)
	if err != nil {
		t.Fatal(err)
	}
	execer := c.(driver.ExecerContext)
	if _, err := execer.ExecContext(context.Background(), "CREATE TABLE t (x)", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO t VALUES (1)")
}

// Closing the *sql.DB while a transaction holds the writer: database/sql closes the connector
// at once; the transaction's later calls fail (the process-wide supervisor stopped), its
// Rollback returns, and nothing hangs or leaks.
func TestCloseDuringTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.db")
	db, err := sql.Open(sqldriver.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE TABLE t (x)")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (1)")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO t VALUES (2)"); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("a statement after Close: %v, want ErrClosed", err)
	}
	tx.Rollback() // returns, whatever it says
	// Nothing of the transaction was committed.
	db, err = sql.Open(sqldriver.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows (%v), want 0", n, err)
	}
}

// sql.Open and Close from many goroutines at once: the process-wide supervisor is started and
// stopped as its users come and go, and every DB works while it is open.
func TestSQLOpenCloseConcurrently(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 3 {
				db, err := sql.Open(sqldriver.DriverName, filepath.Join(dir, fmt.Sprintf("%d-%d.db", g, i)))
				if err != nil {
					errs <- err
					return
				}
				if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
					errs <- err
				}
				if err := db.Close(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
