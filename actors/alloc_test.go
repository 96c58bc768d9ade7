package actors_test

import (
	"context"
	"testing"
	"time"
)

// A point select through a connection actor allocates no more than the values it returns:
// the request and the reply are reused, the row is one allocation of its own size, and a
// string scanned from a one-row result shares that row's memory. So a QueryRow + Scan of an
// integer and a text allocates once (the row, where the string lives), and one that also reads
// a blob twice (a []byte is the caller's to modify: always a copy). A change that adds an
// allocation on the path (a boxed value, a closure, a copy, a request or reply of its own)
// fails here.
func TestQueryRowAllocBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (its instrumentation allocates)")
	}
	c := newConn(t)
	ctx := context.Background()
	execScript(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data BLOB, at DATETIME);
		INSERT INTO t VALUES (7, 'a name of some length', x'0102030405', '2026-01-02 03:04:05');`)
	for _, tc := range []struct {
		name    string
		sql     string
		dest    func(id *int64, name *string, data *[]byte, at *time.Time) []any
		strings int // strings and blobs the Scan returns: the budget
	}{
		{"integer and text", "SELECT id, name FROM t WHERE id = ?",
			func(id *int64, name *string, _ *[]byte, _ *time.Time) []any { return []any{id, name} }, 1},
		{"integer, text, blob and time", "SELECT id, name, data, at FROM t WHERE id = ?",
			func(id *int64, name *string, data *[]byte, at *time.Time) []any { return []any{id, name, data, at} }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				id   int64
				name string
				data []byte
				at   time.Time
			)
			dest := tc.dest(&id, &name, &data, &at)
			run := func() {
				row, err := c.QueryRow(ctx, tc.sql, 7) // 7: boxed without allocating, as any small integer
				if err != nil {
					t.Fatal(err)
				}
				if err := row.Scan(dest...); err != nil {
					t.Fatal(err)
				}
			}
			run() // the statement is prepared and cached
			if got := testing.AllocsPerRun(200, run); got > float64(tc.strings) {
				t.Errorf("QueryRow + Scan allocates %.1f times per call, more than the %d strings and blobs it returns", got, tc.strings)
			}
			if id != 7 || name != "a name of some length" {
				t.Fatalf("scanned %d, %q", id, name)
			}
		})
	}
}
