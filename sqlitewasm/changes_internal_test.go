package sqlitewasm

import (
	"reflect"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

func TestChangeLog(t *testing.T) {
	var l changeLog
	if got := l.take(); got != nil {
		t.Fatalf("empty log: %+v", got)
	}
	// Rows of tables in turn keep their order and names; a table's name strings are shared.
	l.add(sqlite3.AUTH_INSERT, "main", "t", 1)
	l.add(sqlite3.AUTH_INSERT, "main", "u", 1)
	l.add(sqlite3.AUTH_UPDATE, "temp", "t", 2)
	l.add(sqlite3.AUTH_DELETE, "main", "t", 3)
	want := []RowChange{
		{Op: "INSERT", Database: "main", Table: "t", RowID: 1},
		{Op: "INSERT", Database: "main", Table: "u", RowID: 1},
		{Op: "UPDATE", Database: "temp", Table: "t", RowID: 2},
		{Op: "DELETE", Database: "main", Table: "t", RowID: 3},
	}
	got := l.take()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if len(l.names) != 0 || len(l.index) != 0 || len(l.rows) != 0 {
		t.Fatalf("take left %+v", l)
	}
	// A rolled-back transaction leaves nothing.
	l.add(sqlite3.AUTH_INSERT, "main", "v", 9)
	l.reset()
	l.add(sqlite3.AUTH_INSERT, "main", "t", 4)
	if got := l.take(); !reflect.DeepEqual(got, []RowChange{{Op: "INSERT", Database: "main", Table: "t", RowID: 4}}) {
		t.Fatalf("after a rollback: %+v", got)
	}

	// A large transaction's buffer is kept while transactions fill a quarter of it.
	large := func(n int) {
		for i := range n {
			l.add(sqlite3.AUTH_INSERT, "main", "t", int64(i))
		}
		if got := l.take(); len(got) != n || got[n-1].RowID != int64(n-1) {
			t.Fatalf("%d rows: got %d", n, len(got))
		}
	}
	large(3 * keepRows)
	c := cap(l.rows)
	large(3 * keepRows)
	if cap(l.rows) != c {
		t.Fatalf("a second large transaction regrew the buffer: cap %d, was %d", cap(l.rows), c)
	}
	large(10)
	if cap(l.rows) != 0 {
		t.Fatalf("a small transaction kept a buffer of %d rows", cap(l.rows))
	}
	large(10)
	if cap(l.rows) == 0 {
		t.Fatal("a small buffer was released")
	}
}
