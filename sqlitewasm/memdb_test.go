package sqlitewasm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestOpenMemDBShared(t *testing.T) {
	dsn := memDSN(t)
	a := open(t, dsn, sqlitewasm.Config{})
	b := open(t, dsn, sqlitewasm.Config{})
	exec(t, a, "CREATE TABLE t(x)")
	exec(t, a, "INSERT INTO t VALUES ('from a')")
	if got := value(t, b, "SELECT x FROM t"); got != "from a" {
		t.Errorf("b reads %v, want the row a wrote", got)
	}
	exec(t, b, "INSERT INTO t VALUES ('from b')")
	if got := count(t, a, "t"); got != 2 {
		t.Errorf("a counts %d rows, want 2", got)
	}
	// Another name is another database.
	other := open(t, memDSN(t), sqlitewasm.Config{})
	if _, err := other.Exec("SELECT * FROM t", nil); !errors.Is(err, messages.ErrSQL) {
		t.Errorf("another memdb name sees table t: %v", err)
	}
	// Plain :memory: databases are private.
	m1, m2 := memConn(t), memConn(t)
	exec(t, m1, "CREATE TABLE t(x)")
	if _, err := m2.Exec("SELECT * FROM t", nil); !errors.Is(err, messages.ErrSQL) {
		t.Errorf(":memory: is shared: %v", err)
	}
}

// TestOpenMemDBOutlivesConnections checks what the package promises and actorlite's restart
// relies on: a memdb database keeps its data when its last connection closes.
func TestOpenMemDBOutlivesConnections(t *testing.T) {
	tests := []struct {
		name          string
		first, second func(dsn string) string // the DSNs to write through, then read through
	}{
		{"same DSN", func(d string) string { return d }, func(d string) string { return d }},
		{"file:/// then file:/", func(d string) string { return strings.Replace(d, "file:/", "file:///", 1) }, func(d string) string { return d }},
		{"with another parameter", func(d string) string { return d + "&cache=private" }, func(d string) string { return d }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := memDSN(t)
			c, err := sqlitewasm.Open(t.Context(), tt.first(dsn), sqlitewasm.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec("CREATE TABLE t(x)", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec("INSERT INTO t VALUES (42)", nil); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			c2 := open(t, tt.second(dsn), sqlitewasm.Config{})
			if got := value(t, c2, "SELECT x FROM t"); got != int64(42) {
				t.Errorf("after reopening: %v, want 42", got)
			}
		})
	}
}
