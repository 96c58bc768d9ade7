package sqlitewasm_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// open opens dsn with cfg and closes the connection when the test ends.
func open(t *testing.T, dsn string, cfg sqlitewasm.Config) *sqlitewasm.Conn {
	t.Helper()
	c, err := sqlitewasm.Open(t.Context(), dsn, cfg)
	if err != nil {
		t.Fatalf("Open(%q) = %v", dsn, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close(%q) = %v", dsn, err)
		}
	})
	return c
}

// tempDB returns the path of a new database file in the test's temporary directory.
func tempDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "test.db")
}

// memDSN returns a memdb DSN whose name is unique to the test.
func memDSN(t *testing.T) string {
	t.Helper()
	name := strings.NewReplacer("/", "_", " ", "_", "#", "_").Replace(t.Name())
	return fmt.Sprintf("file:/%s_%d?vfs=memdb", name, time.Now().UnixNano())
}

// memConn opens a private in-memory database.
func memConn(t *testing.T) *sqlitewasm.Conn {
	t.Helper()
	return open(t, ":memory:", sqlitewasm.Config{})
}

func exec(t *testing.T, c *sqlitewasm.Conn, query string, args ...any) messages.Result {
	t.Helper()
	res, err := c.Exec(query, args)
	if err != nil {
		t.Fatalf("Exec(%q) = %v", query, err)
	}
	return res
}

func script(t *testing.T, c *sqlitewasm.Conn, sql string) {
	t.Helper()
	if err := c.ExecScript(sql); err != nil {
		t.Fatalf("ExecScript(%q) = %v", sql, err)
	}
}

// queryAll reads every row of query.
func queryAll(t *testing.T, c *sqlitewasm.Conn, query string, args ...any) []messages.Row {
	t.Helper()
	rows, err := readAll(c, query, args...)
	if err != nil {
		t.Fatalf("Query(%q) = %v", query, err)
	}
	return rows
}

func readAll(c *sqlitewasm.Conn, query string, args ...any) ([]messages.Row, error) {
	r, err := c.Query(query, args)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b := messages.NewRowsBuilder(r.Columns(), 8)
	done, err := r.Next(&b, 0)
	if err != nil {
		return nil, err
	}
	if !done || !r.Done() {
		return nil, fmt.Errorf("Next(0) did not read every row")
	}
	return b.Rows(), nil
}

// value returns the first column of the first row of query.
func value(t *testing.T, c *sqlitewasm.Conn, query string, args ...any) any {
	t.Helper()
	row, err := c.QueryRow(query, args)
	if err != nil {
		t.Fatalf("QueryRow(%q) = %v", query, err)
	}
	return row.Index(0)
}

func count(t *testing.T, c *sqlitewasm.Conn, table string) int64 {
	t.Helper()
	return value(t, c, "SELECT count(*) FROM "+table).(int64)
}

// wantErr checks that err matches every target with errors.Is.
func wantErr(t *testing.T, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("error %q does not match %v", err, target)
		}
	}
}

// wantSQLiteErr checks that err is a *messages.Error of class class.
func wantSQLiteErr(t *testing.T, err error, class error) *messages.Error {
	t.Helper()
	wantErr(t, err, class)
	var me *messages.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %q (%T) is not a *messages.Error", err, err)
	}
	if me.Message == "" || me.Err == nil {
		t.Errorf("messages.Error lacks a message or the driver's error: %+v", me)
	}
	return me
}

// wantArgErr checks that err is an *messages.ArgError at pos with type typ.
func wantArgErr(t *testing.T, err error, pos int, typ string) {
	t.Helper()
	wantErr(t, err, messages.ErrBadArgument)
	var ae *messages.ArgError
	if !errors.As(err, &ae) {
		t.Fatalf("error %q (%T) is not a *messages.ArgError", err, err)
	}
	if ae.Pos != pos || ae.Type != typ || ae.Reason == "" {
		t.Errorf("ArgError = %+v, want Pos %d, Type %q and a reason", ae, pos, typ)
	}
}
