package sqldriver_test

import (
	"testing"
)

// BenchmarkReadThenWriteTx is one read-then-write transaction through database/sql, on one
// goroutine: the cost of the driver's path with no contention.
func BenchmarkReadThenWriteTx(b *testing.B) {
	db, _ := openDB(b)
	ctx := b.Context()
	mustExec(b, db, "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
	mustExec(b, db, "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 99) INSERT INTO counter SELECT i, 0 FROM c")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := i % 100
		i++
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT n FROM counter WHERE id = ?", id).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE counter SET n = ? WHERE id = ?", n+1, id); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
