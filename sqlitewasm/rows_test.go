package sqlitewasm_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestColumns(t *testing.T) {
	c := memConn(t)
	exec(t, c, `CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, at timestamp with time zone, price DECIMAL(10,2), untyped)`)
	r, err := c.Query("SELECT id, name AS n, at, price, untyped, 1 + 1 AS two FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []messages.Column{
		{Name: "id", DeclType: "INTEGER"},
		{Name: "n", DeclType: "TEXT"},
		{Name: "at", DeclType: "timestamp with time zone"},
		{Name: "price", DeclType: "DECIMAL(10,2)"},
		{Name: "untyped", DeclType: ""},
		{Name: "two", DeclType: ""},
	}
	if got := r.Columns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %v, want %v", got, want)
	}
}

// TestQueryInto reuses one Rows for queries that succeed, fail and return nothing, and for a
// result left unread when the connection closes.
func TestQueryInto(t *testing.T) {
	c, err := sqlitewasm.Open(t.Context(), ":memory:", sqlitewasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	script(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)")
	var r sqlitewasm.Rows
	read := func(sql string, args ...any) ([]any, error) {
		if err := c.QueryInto(&r, sql, args); err != nil {
			return nil, err
		}
		b := messages.NewRowsBuilder(r.Columns(), 0)
		done, err := r.Next(&b, 0)
		if !done || !r.Done() {
			t.Errorf("%s: not done after reading everything", sql)
		}
		var vals []any
		for _, row := range b.Rows() {
			vals = append(vals, row.Values()...)
		}
		return vals, err
	}
	for range 3 { // the same statement, from the cache, each time
		if got, err := read("SELECT x FROM t WHERE x >= ? ORDER BY x", 2); err != nil || !reflect.DeepEqual(got, []any{int64(2), int64(3)}) {
			t.Fatalf("read = %v, %v", got, err)
		}
	}
	if _, err := read("SELECT nope FROM t"); !errors.Is(err, messages.ErrSQL) || !r.Done() {
		t.Errorf("bad SQL = %v, done %v", err, r.Done())
	}
	if _, err := read("SELECT x FROM t WHERE x = ?"); err == nil || !r.Done() {
		t.Errorf("missing argument = %v, done %v", err, r.Done())
	}
	if got, err := read("-- nothing"); err != nil || got != nil {
		t.Errorf("empty SQL = %v, %v", got, err)
	}
	if err := c.QueryInto(&r, "SELECT x FROM t", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	b := messages.NewRowsBuilder(r.Columns(), 0)
	if done, err := r.Next(&b, 0); !done || !errors.Is(err, messages.ErrClosed) {
		t.Errorf("Next after the Conn closed = %v, %v; want done, ErrClosed", done, err)
	}
	r.Close()
}

// TestRowsNextReservesBoundedRoom checks that a chunk sized from a first row holding a large
// blob does not reserve room for a thousand such rows, and that its rows read back intact.
func TestRowsNextReservesBoundedRoom(t *testing.T) {
	c := memConn(t)
	script(t, c, "CREATE TABLE t(b BLOB)")
	big := bytes.Repeat([]byte{7}, 2<<20)
	exec(t, c, "INSERT INTO t VALUES (?)", big)
	for i := range 19 {
		exec(t, c, "INSERT INTO t VALUES (?)", []byte{byte(i)})
	}
	r, err := c.Query("SELECT b FROM t ORDER BY rowid", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b := messages.NewRowsBuilder(r.Columns(), 1)
	done, err := r.Next(&b, 1000)
	runtime.ReadMemStats(&after)
	if err != nil || !done {
		t.Fatalf("Next = %v, %v", done, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("reading 2 MiB and 19 bytes allocated %d MiB", got>>20)
	}
	rows := b.Rows()
	if len(rows) != 20 || !bytes.Equal(rows[0].Index(0).([]byte), big) || !bytes.Equal(rows[19].Index(0).([]byte), []byte{18}) {
		t.Fatalf("read %d rows, not the ones written", len(rows))
	}
}

func TestRowsNext(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(n INTEGER, s TEXT)")
	args := make([][]any, 10)
	for i := range args {
		args[i] = []any{i, fmt.Sprint("row", i)}
	}
	if _, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", args); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		n      int
		chunks []int // rows per call to Next
		dones  []bool
	}{
		{"chunks of 3", 3, []int{3, 3, 3, 1}, []bool{false, false, false, true}},
		{"chunks of 5", 5, []int{5, 5, 0}, []bool{false, false, true}},
		{"chunks of 10", 10, []int{10, 0}, []bool{false, true}},
		{"chunks of 11", 11, []int{10}, []bool{true}},
		{"chunks of 1", 1, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, []bool{false, false, false, false, false, false, false, false, false, false, true}},
		{"all (0)", 0, []int{10}, []bool{true}},
		{"all (-1)", -1, []int{10}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Query("SELECT n, s FROM t ORDER BY n", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			next := 0
			for i, want := range tt.chunks {
				b := messages.NewRowsBuilder(r.Columns(), tt.n)
				done, err := r.Next(&b, tt.n)
				if err != nil {
					t.Fatalf("Next #%d = %v", i, err)
				}
				if done != tt.dones[i] || r.Done() != done {
					t.Errorf("Next #%d: done = %v (Done() %v), want %v", i, done, r.Done(), tt.dones[i])
				}
				rows := b.Rows()
				if len(rows) != want {
					t.Fatalf("Next #%d: %d rows, want %d", i, len(rows), want)
				}
				for _, row := range rows {
					var n int
					var s string
					if err := row.Scan(&n, &s); err != nil {
						t.Fatal(err)
					}
					if n != next || s != fmt.Sprint("row", next) {
						t.Errorf("row (%d, %q), want %d", n, s, next)
					}
					next++
				}
			}
			// After the end, Next reads nothing.
			b := messages.NewRowsBuilder(r.Columns(), 1)
			if done, err := r.Next(&b, 1); !done || err != nil || b.Len() != 0 {
				t.Errorf("Next after the end = %v, %v, %d rows", done, err, b.Len())
			}
		})
	}
}

func TestRowsCloseEarly(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(x)")
	exec(t, c, "INSERT INTO t VALUES (1), (2), (3)")
	for range 5 { // the statement goes back to the cache each time
		r, err := c.Query("SELECT x FROM t", nil)
		if err != nil {
			t.Fatal(err)
		}
		b := messages.NewRowsBuilder(r.Columns(), 1)
		if _, err := r.Next(&b, 1); err != nil {
			t.Fatal(err)
		}
		r.Close()
		r.Close()
		if !r.Done() {
			t.Error("not done after Close")
		}
	}
	// Two result sets of the same SQL at once.
	r1, err := c.Query("SELECT x FROM t ORDER BY x", nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Query("SELECT x FROM t ORDER BY x", nil)
	if err != nil {
		t.Fatal(err)
	}
	b1 := messages.NewRowsBuilder(r1.Columns(), 3)
	b2 := messages.NewRowsBuilder(r2.Columns(), 3)
	r1.Next(&b1, 1)
	r2.Next(&b2, 0)
	r1.Next(&b1, 0)
	if b1.Len() != 3 || b2.Len() != 3 {
		t.Errorf("interleaved result sets read %d and %d rows", b1.Len(), b2.Len())
	}
	r1.Close()
	r2.Close()
}

func TestQueryEmpty(t *testing.T) {
	c := memConn(t)
	for _, q := range []string{"", "   ", "-- only a comment", "/* c */", ";"} {
		r, err := c.Query(q, nil)
		if err != nil {
			t.Fatalf("Query(%q) = %v", q, err)
		}
		if !r.Done() || len(r.Columns()) != 0 {
			t.Errorf("Query(%q): Done %v, Columns %v", q, r.Done(), r.Columns())
		}
		b := messages.NewRowsBuilder(nil, 0)
		if done, err := r.Next(&b, 0); !done || err != nil {
			t.Errorf("Query(%q).Next = %v, %v", q, done, err)
		}
		r.Close()
		if res, err := c.Exec(q, nil); err != nil || res != (messages.Result{}) {
			t.Errorf("Exec(%q) = %v, %v", q, res, err)
		}
		if _, err := c.QueryRow(q, nil); !errors.Is(err, messages.ErrNoRows) {
			t.Errorf("QueryRow(%q) = %v, want ErrNoRows", q, err)
		}
	}
}

func TestQueryRow(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)")
	exec(t, c, "INSERT INTO t(name) VALUES ('a'), ('b')")
	row, err := c.QueryRow("SELECT id, name FROM t ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Values(); !reflect.DeepEqual(got, []any{int64(1), "a"}) {
		t.Errorf("first row = %v", got)
	}
	if name, ok := row.Get("NAME"); !ok || name != "a" {
		t.Errorf("Get(NAME) = %v, %v", name, ok)
	}
	_, err = c.QueryRow("SELECT id FROM t WHERE name = ?", []any{"zzz"})
	if !errors.Is(err, messages.ErrNoRows) {
		t.Errorf("QueryRow with no rows = %v, want ErrNoRows", err)
	}
	_, err = c.QueryRow("SELECT nope FROM t", nil)
	wantSQLiteErr(t, err, messages.ErrSQL)
	// A run-time error in the first step.
	_, err = c.QueryRow("SELECT json_extract('not json', '$')", nil)
	wantSQLiteErr(t, err, messages.ErrSQL)
}
