package sqlitewasm_test

import (
	"reflect"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// TestUpdateHookPerCommit checks the update hook gets one call per commit, in order, and
// that a slice it was given stays as it was: later transactions never write into it.
func TestUpdateHookPerCommit(t *testing.T) {
	c := memConn(t)
	script(t, c, "CREATE TABLE t (id INTEGER PRIMARY KEY); CREATE TABLE u (id INTEGER PRIMARY KEY)")
	var got [][]messages.RowChange
	c.SetUpdateHook(func(rc []messages.RowChange) { got = append(got, rc) })
	rc := func(op, table string, id int64) messages.RowChange {
		return messages.RowChange{Op: op, Database: "main", Table: table, RowID: id}
	}
	script(t, c, `INSERT INTO t VALUES (1), (2);
		BEGIN; INSERT INTO u VALUES (1); DELETE FROM t WHERE id = 1; COMMIT;
		BEGIN; INSERT INTO t VALUES (3); ROLLBACK;
		BEGIN; SELECT 1; COMMIT`)
	if len(got) != 0 {
		t.Fatalf("called before EndRequest: %+v", got)
	}
	c.EndRequest()
	want := [][]messages.RowChange{
		{rc("INSERT", "t", 1), rc("INSERT", "t", 2)},
		{rc("INSERT", "u", 1), rc("DELETE", "t", 1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	script(t, c, "BEGIN; INSERT INTO t VALUES (4), (5), (6); ROLLBACK; INSERT INTO u VALUES (2)")
	c.EndRequest()
	want = append(want, []messages.RowChange{rc("INSERT", "u", 2)})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	c.EndRequest() // nothing new: no call
	if len(got) != len(want) {
		t.Fatalf("%d calls, want %d", len(got), len(want))
	}
}
