package sqlitewasm

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// TestQueryOnlyGuard checks what a query-only connection runs and refuses, and that nothing
// it refuses changed it.
func TestQueryOnlyGuard(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(context.Background(), dir+"/q.db", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.ExecScript("CREATE TABLE t (x); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), dir+"/q.db", Config{QueryOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, sql := range []string{
		"PRAGMA query_only=0", "PRAGMA query_only=''", "PRAGMA query_only(0)", "PRAGMA cache_size=''",
		"ATTACH '" + dir + "/other.db' AS o", "DETACH main", "BEGIN", "BEGIN IMMEDIATE", "SAVEPOINT s",
		"COMMIT", "ROLLBACK", "RELEASE s",
	} {
		if _, err := c.Query(sql, nil); !errors.Is(err, messages.ErrNotReadOnly) {
			t.Errorf("Query(%q) = %v, want ErrNotReadOnly", sql, err)
		}
		if err := c.ExecScript(sql); !errors.Is(err, messages.ErrNotReadOnly) {
			t.Errorf("ExecScript(%q) = %v, want ErrNotReadOnly", sql, err)
		}
	}
	for sql, want := range map[string]any{
		"PRAGMA query_only":                           int64(1),
		"PRAGMA cache_size":                           int64(-2000),
		"SELECT count(*) FROM pragma_table_info('t')": int64(1),
		"PRAGMA integrity_check":                      "ok",
		"SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp')": int64(0),
		"SELECT x FROM t": int64(1),
	} {
		row, err := c.QueryRow(sql, nil)
		if err != nil || row.Index(0) != want {
			t.Errorf("QueryRow(%q) = %v, %v; want %v", sql, row.Index(0), err, want)
		}
	}
	if c.InTransaction() {
		t.Error("left in a transaction")
	}
	// A pragma function is refused when it runs (SQLite prepares its pragma then), or by SQLite.
	for _, sql := range []string{"SELECT * FROM pragma_query_only(0)", "SELECT * FROM pragma_cache_size"} {
		if _, err := c.QueryRow(sql, nil); err == nil {
			t.Errorf("QueryRow(%q) ran", sql)
		}
	}
	for sql, want := range map[string]int64{"PRAGMA query_only": 1, "PRAGMA cache_size": -2000} {
		if row, err := c.QueryRow(sql, nil); err != nil || row.Index(0) != want {
			t.Errorf("after the refusals, %s = %v, %v; want %d", sql, row.Index(0), err, want)
		}
	}
	if _, err := c.Exec("INSERT INTO t VALUES (2)", nil); !errors.Is(err, messages.ErrReadOnly) {
		t.Errorf("insert: %v, want ErrReadOnly", err)
	}
	// Its own transactions still run.
	if err := c.Dump(io.Discard); err != nil {
		t.Errorf("dump: %v", err)
	}
	if _, err := c.ExecMany("SELECT ?", [][]any{{1}, {2}}); err != nil {
		t.Errorf("exec many: %v", err)
	}
	// And stay refused to callers afterwards, though the same text was just run.
	for _, sql := range []string{"BEGIN", "COMMIT", "SAVEPOINT actorlite_dump"} {
		if _, err := c.Exec(sql, nil); !errors.Is(err, messages.ErrNotReadOnly) {
			t.Errorf("Exec(%q) after the connection's own = %v, want ErrNotReadOnly", sql, err)
		}
	}
}
