package sqlitewasm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestCloseIdempotent(t *testing.T) {
	c, err := sqlitewasm.Open(t.Context(), tempDB(t), sqlitewasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := c.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
	}
	var nilConn *sqlitewasm.Conn
	if err := nilConn.Close(); err != nil {
		t.Errorf("nil Conn Close = %v", err)
	}
}

func TestCloseWithOpenRows(t *testing.T) {
	c, err := sqlitewasm.Open(t.Context(), ":memory:", sqlitewasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec("CREATE TABLE t(x)", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecMany("INSERT INTO t VALUES (?)", [][]any{{1}, {2}, {3}}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Query("SELECT x FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := messages.NewRowsBuilder(r.Columns(), 1)
	if done, err := r.Next(&b, 1); done || err != nil {
		t.Fatalf("Next = %v, %v", done, err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close with an open result set = %v", err)
	}
	r.Close() // safe after the connection closed
	if !r.Done() {
		t.Error("Rows not done after Close")
	}
	if done, err := r.Next(&b, 1); !done || err != nil {
		t.Errorf("Next after Close = %v, %v", done, err)
	}
}

// --- statements ------------------------------------------------------------------------------

func TestMultipleStatements(t *testing.T) {
	tests := []struct {
		name  string
		sql   string
		multi bool
	}{
		{"two statements", "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", true},
		{"two statements, no space", "INSERT INTO t VALUES (1);INSERT INTO t VALUES (2);", true},
		{"second after a comment", "INSERT INTO t VALUES (1); -- c\nINSERT INTO t VALUES (2)", true},
		{"second after an empty statement", "INSERT INTO t VALUES (1); ; INSERT INTO t VALUES (2)", true},
		{"second is invalid", "INSERT INTO t VALUES (1); nonsense", true},
		{"trailing semicolon", "INSERT INTO t VALUES (1);", false},
		{"trailing semicolons", "INSERT INTO t VALUES (1);;", false},
		{"trailing line comment", "INSERT INTO t VALUES (1); -- done", false},
		{"trailing block comment", "INSERT INTO t VALUES (1) /* done */", false},
		{"trailing whitespace", "INSERT INTO t VALUES (1);  \n\t", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := memConn(t)
			exec(t, c, "CREATE TABLE t(x)")
			_, err := c.Exec(tt.sql, nil)
			if tt.multi {
				wantErr(t, err, messages.ErrMultipleStatements)
				if n := count(t, c, "t"); n != 0 {
					t.Errorf("%d rows inserted", n)
				}
				_, err = c.Query(tt.sql, nil)
				wantErr(t, err, messages.ErrMultipleStatements)
				_, err = c.ExecMany(tt.sql, [][]any{nil})
				wantErr(t, err, messages.ErrMultipleStatements)
				// ExecScript runs scripts.
				if err := c.ExecScript(strings.ReplaceAll(tt.sql, "nonsense", "")); err != nil {
					t.Errorf("ExecScript = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exec = %v", err)
			}
			if n := count(t, c, "t"); n != 1 {
				t.Errorf("%d rows inserted, want 1", n)
			}
		})
	}
}

func TestExecResult(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
	res := exec(t, c, "INSERT INTO t(x) VALUES (?), (?), (?)", "a", "b", "c")
	if res != (messages.Result{LastInsertID: 3, RowsAffected: 3}) {
		t.Errorf("insert Result = %+v", res)
	}
	if c.LastInsertID() != 3 || c.Changes() != 3 {
		t.Errorf("LastInsertID %d, Changes %d", c.LastInsertID(), c.Changes())
	}
	res = exec(t, c, "UPDATE t SET x = ? WHERE id >= ?", "z", 2)
	if res.RowsAffected != 2 {
		t.Errorf("update Result = %+v", res)
	}
	res = exec(t, c, "DELETE FROM t")
	if res.RowsAffected != 3 {
		t.Errorf("delete Result = %+v", res)
	}
	if got := c.TotalChanges(); got != 8 {
		t.Errorf("TotalChanges = %d, want 8", got)
	}
	// Exec discards rows.
	if _, err := c.Exec("SELECT * FROM t", nil); err != nil {
		t.Errorf("Exec of a query = %v", err)
	}
}

func TestExecErrors(t *testing.T) {
	c := memConn(t)
	script(t, c, `
		CREATE TABLE p(id INTEGER PRIMARY KEY);
		CREATE TABLE t(id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL DEFAULT 'x', ck INTEGER CHECK (ck > 0), p INTEGER REFERENCES p(id));
		INSERT INTO p VALUES (1);
		INSERT INTO t(id, u) VALUES (1, 'taken');
	`)
	tests := []struct {
		name     string
		sql      string
		args     []any
		class    error
		wantCode int
		wantExt  int
	}{
		{"syntax", "SELEC 1", nil, messages.ErrSQL, 1, 1},
		{"missing table", "SELECT * FROM missing", nil, messages.ErrSQL, 1, 1},
		{"missing column", "SELECT nope FROM t", nil, messages.ErrSQL, 1, 1},
		{"primary key", "INSERT INTO t(id) VALUES (?)", []any{1}, messages.ErrConstraint, 19, 1555},
		{"unique", "INSERT INTO t(u) VALUES (?)", []any{"taken"}, messages.ErrConstraint, 19, 2067},
		{"not null", "INSERT INTO t(nn) VALUES (?)", []any{nil}, messages.ErrConstraint, 19, 1299},
		{"check", "INSERT INTO t(ck) VALUES (?)", []any{0}, messages.ErrConstraint, 19, 275},
		{"foreign key", "INSERT INTO t(p) VALUES (?)", []any{2}, messages.ErrConstraint, 19, 787},
		{"raise abort", "SELECT RAISE(ABORT, 'custom')", nil, messages.ErrSQL, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Exec(tt.sql, tt.args)
			me := wantSQLiteErr(t, err, tt.class)
			if me.Code != tt.wantCode || me.ExtendedCode != tt.wantExt {
				t.Errorf("codes = %d/%d, want %d/%d", me.Code, me.ExtendedCode, tt.wantCode, tt.wantExt)
			}
			if !strings.HasPrefix(err.Error(), "actorlite: ") || strings.Contains(err.Error(), "sqlite3: ") {
				t.Errorf("message %q", err)
			}
			if me.SQL != tt.sql {
				t.Errorf("SQL = %q, want %q", me.SQL, tt.sql)
			}
		})
	}
	if got := count(t, c, "t"); got != 1 {
		t.Errorf("%d rows after failing inserts, want 1", got)
	}
	if err := c.ExecScript("CREATE TABLE x(a); SELEC"); !errors.Is(err, messages.ErrSQL) {
		t.Errorf("ExecScript syntax error = %v", err)
	}
}

func TestExecMany(t *testing.T) {
	newConn := func(t *testing.T) *sqlitewasm.Conn {
		c := memConn(t)
		exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT NOT NULL)")
		return c
	}
	t.Run("commits all", func(t *testing.T) {
		c := newConn(t)
		res, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", [][]any{{1, "a"}, {2, "b"}, {7, "c"}})
		if err != nil {
			t.Fatal(err)
		}
		if res != (messages.Result{LastInsertID: 7, RowsAffected: 3}) {
			t.Errorf("Result = %+v", res)
		}
		if c.InTransaction() {
			t.Error("transaction left open")
		}
		if got := count(t, c, "t"); got != 3 {
			t.Errorf("%d rows", got)
		}
		res, err = c.ExecMany("UPDATE t SET s = ? WHERE id <= ?", [][]any{{"x", 1}, {"y", 7}})
		if err != nil || res.RowsAffected != 4 {
			t.Errorf("update = %+v, %v; want 4 rows affected in all", res, err)
		}
	})
	t.Run("no argument lists", func(t *testing.T) {
		c := newConn(t)
		if _, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", nil); err != nil {
			t.Fatal(err)
		}
		if c.InTransaction() {
			t.Error("transaction left open")
		}
	})
	failures := []struct {
		name    string
		args    [][]any
		failing int
		targets []error
	}{
		{"constraint", [][]any{{1, "a"}, {2, "b"}, {1, "dup"}, {3, "c"}}, 2, []error{messages.ErrConstraint}},
		{"not null", [][]any{{1, "a"}, {2, nil}}, 1, []error{messages.ErrConstraint}},
		{"bad argument", [][]any{{1, "a"}, {2, make(chan int)}}, 1, []error{messages.ErrBadArgument}},
		{"argument count", [][]any{{1, "a"}, {2}}, 1, []error{messages.ErrBadArgument}},
	}
	for _, tt := range failures {
		t.Run(tt.name+" keeps none", func(t *testing.T) {
			c := newConn(t)
			_, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", tt.args)
			wantErr(t, err, tt.targets...)
			if want := fmt.Sprintf("args[%d]", tt.failing); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			if c.InTransaction() {
				t.Error("transaction left open")
			}
			if got := count(t, c, "t"); got != 0 {
				t.Errorf("%d rows kept, want none", got)
			}
		})
		t.Run(tt.name+" in a transaction", func(t *testing.T) {
			c := newConn(t)
			if err := c.Begin(""); err != nil {
				t.Fatal(err)
			}
			exec(t, c, "INSERT INTO t VALUES (100, 'before')")
			_, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", tt.args)
			wantErr(t, err, tt.targets...)
			if !c.InTransaction() {
				t.Fatal("the caller's transaction was ended")
			}
			// The caller decides: the rows before the failing one are there until rollback.
			if got := count(t, c, "t"); got != int64(1+tt.failing) {
				t.Errorf("%d rows in the transaction, want %d", got, 1+tt.failing)
			}
			if err := c.Rollback(); err != nil {
				t.Fatal(err)
			}
			if got := count(t, c, "t"); got != 0 {
				t.Errorf("%d rows after rollback", got)
			}
		})
	}
	t.Run("interrupted keeps none", func(t *testing.T) {
		c := newConn(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		old := c.SetInterrupt(ctx)
		_, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", [][]any{{1, "a"}})
		c.SetInterrupt(old)
		wantErr(t, err, messages.ErrInterrupted)
		if c.InTransaction() {
			t.Error("transaction left open")
		}
		if got := count(t, c, "t"); got != 0 {
			t.Errorf("%d rows kept", got)
		}
	})
}

func TestTransactions(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(x)")
	if c.InTransaction() {
		t.Fatal("in a transaction after open")
	}
	wantErr(t, c.Commit(), messages.ErrNoTransaction)
	wantErr(t, c.Rollback(), messages.ErrNoTransaction)

	if err := c.Begin(""); err != nil {
		t.Fatal(err)
	}
	if !c.InTransaction() {
		t.Fatal("not in a transaction after Begin")
	}
	for _, mode := range []string{"", messages.Deferred, messages.Immediate, "exclusive"} {
		wantErr(t, c.Begin(mode), messages.ErrInTransaction)
	}
	exec(t, c, "INSERT INTO t VALUES (1)")
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.Commit(), messages.ErrNoTransaction)

	if err := c.Begin(messages.Immediate); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t VALUES (2)")
	if err := c.Rollback(); err != nil {
		t.Fatal(err)
	}
	if c.InTransaction() {
		t.Error("in a transaction after Rollback")
	}
	if got := count(t, c, "t"); got != 1 {
		t.Errorf("%d rows, want the committed one", got)
	}

	// Rollback runs even when the interrupt context is done.
	if err := c.Begin(""); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t VALUES (3)")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	old := c.SetInterrupt(ctx)
	err := c.Rollback()
	c.SetInterrupt(old)
	if err != nil {
		t.Fatalf("Rollback under a done ctx = %v", err)
	}
	if c.InTransaction() || count(t, c, "t") != 1 {
		t.Error("Rollback under a done ctx did not roll back")
	}
}

func TestBeginModes(t *testing.T) {
	tests := []struct {
		mode     string
		locks    bool // a second writer cannot begin an immediate transaction
		badInput bool
	}{
		{"", false, false},
		{messages.Deferred, false, false},
		{"deferred", false, false},
		{messages.Immediate, true, false},
		{"Immediate", true, false},
		{messages.Exclusive, true, false},
		{"NOW", false, true},
		{"IMMEDIATE; DROP TABLE t", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			path := tempDB(t)
			c := open(t, path, sqlitewasm.Config{})
			exec(t, c, "CREATE TABLE t(x)")
			other := open(t, path, sqlitewasm.Config{BusyTimeout: -1})
			err := c.Begin(tt.mode)
			if tt.badInput {
				wantErr(t, err, messages.ErrBadArgument)
				if c.InTransaction() {
					t.Error("a bad mode opened a transaction")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = other.Begin(messages.Immediate)
			if tt.locks {
				wantSQLiteErr(t, err, messages.ErrBusy)
			} else if err != nil {
				t.Errorf("second writer blocked by a %q transaction: %v", tt.mode, err)
			} else if err := other.Rollback(); err != nil {
				t.Fatal(err)
			}
			if err := c.Commit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBusy(t *testing.T) {
	path := tempDB(t)
	a := open(t, path, sqlitewasm.Config{})
	b := open(t, path, sqlitewasm.Config{BusyTimeout: -1})
	exec(t, a, "CREATE TABLE t(x)")
	if err := a.Begin(messages.Immediate); err != nil {
		t.Fatal(err)
	}
	exec(t, a, "INSERT INTO t VALUES (1)")
	_, err := b.Exec("INSERT INTO t VALUES (2)", nil)
	wantSQLiteErr(t, err, messages.ErrBusy)
	// WAL: the reader is not blocked, and sees the last commit.
	if got := count(t, b, "t"); got != 0 {
		t.Errorf("reader sees %d uncommitted rows", got)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	exec(t, b, "INSERT INTO t VALUES (2)")
}
