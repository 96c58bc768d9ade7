//go:build !race

package grid_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/supervisor/grid"
)

// benchSetup starts two members; it returns a local connection (member 0's supervisor, a file
// of its own), a tenant owned by member 0 and one owned by member 1, both called from member 0,
// each with a table t of 10,000 rows.
func benchSetup(b *testing.B) (local *actors.Conn, near, far *grid.Tenant) {
	tc := startCluster(b, 2, time.Hour)
	ctx := context.Background()
	var err error
	local, err = tc.sups[0].Open(ctx, filepath.Join(b.TempDir(), "local.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { local.Close(ctx) })
	for i := 0; near == nil || far == nil; i++ {
		name := "bench-" + string(rune('a'+i))
		if err := tc.members[0].CreateTenant(ctx, name); err != nil {
			b.Fatal(err)
		}
		switch tc.owner(b, name) {
		case 0:
			if near == nil {
				near = tc.members[0].Tenant(name)
			}
		case 1:
			if far == nil {
				far = tc.members[0].Tenant(name)
			}
		}
	}
	rows := make([][]any, 10000)
	for i := range rows {
		rows[i] = []any{i, "user-name-of-some-length", i * 7}
	}
	const schema = `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER); CREATE TABLE ins (id INTEGER PRIMARY KEY, v TEXT)`
	if err := local.ExecScript(ctx, schema); err != nil {
		b.Fatal(err)
	}
	if _, err := local.ExecMany(ctx, `INSERT INTO t VALUES (?, ?, ?)`, rows); err != nil {
		b.Fatal(err)
	}
	for _, t := range []*grid.Tenant{near, far} {
		if err := t.ExecScript(ctx, schema); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(rows); i += 2000 {
			if _, err := t.ExecMany(ctx, `INSERT INTO t VALUES (?, ?, ?)`, rows[i:i+2000]); err != nil {
				b.Fatal(err)
			}
		}
	}
	return local, near, far
}

// BenchmarkGrid compares, in one run, the local path (an actors.Conn of the member's own
// supervisor) with a tenant on the calling member (through its activation, no wire) and a
// tenant on another member (over remote, gRPC on loopback). Each iteration runs one
// operation of each, interleaved, so the ratios compare like with like.
func BenchmarkGrid(b *testing.B) {
	local, near, far := benchSetup(b)
	ctx := context.Background()

	b.Run("PointSelect", func(b *testing.B) {
		var dl, dn, df time.Duration
		for b.Loop() {
			id := rand.IntN(10000)
			t0 := time.Now()
			if _, err := local.QueryRow(ctx, `SELECT name, n FROM t WHERE id = ?`, id); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := near.QueryRow(ctx, `SELECT name, n FROM t WHERE id = ?`, id); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			if _, err := far.QueryRow(ctx, `SELECT name, n FROM t WHERE id = ?`, id); err != nil {
				b.Fatal(err)
			}
			t3 := time.Now()
			dl, dn, df = dl+t1.Sub(t0), dn+t2.Sub(t1), df+t3.Sub(t2)
		}
		n := float64(b.N)
		b.ReportMetric(float64(dl.Nanoseconds())/n, "local-ns/op")
		b.ReportMetric(float64(dn.Nanoseconds())/n, "owner-ns/op")
		b.ReportMetric(float64(df.Nanoseconds())/n, "remote-ns/op")
		b.ReportMetric(float64(dn)/float64(dl), "owner/local")
		b.ReportMetric(float64(df)/float64(dl), "remote/local")
	})

	// Insert throughput: 8 callers each insert one row at a time (autocommit), phases of
	// 256 inserts alternating between the local connection and the remote tenant.
	b.Run("Insert8", func(b *testing.B) {
		phase := func(exec func(context.Context, string, ...any) error) time.Duration {
			var wg sync.WaitGroup
			start := time.Now()
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 32 {
						if err := exec(ctx, `INSERT INTO ins (v) VALUES (?)`, "some value"); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			return time.Since(start)
		}
		var dl, df time.Duration
		for b.Loop() {
			dl += phase(func(ctx context.Context, sql string, args ...any) error {
				_, err := local.Exec(ctx, sql, args...)
				return err
			})
			df += phase(func(ctx context.Context, sql string, args ...any) error {
				_, err := far.Exec(ctx, sql, args...)
				return err
			})
		}
		ops := float64(b.N * 256)
		b.ReportMetric(ops/dl.Seconds(), "local-inserts/s")
		b.ReportMetric(ops/df.Seconds(), "remote-inserts/s")
		b.ReportMetric(dl.Seconds()/df.Seconds(), "remote/local-rate")
	})

	// Batched: ExecMany of 100 rows, one request.
	b.Run("ExecMany100", func(b *testing.B) {
		rows := make([][]any, 100)
		for i := range rows {
			rows[i] = []any{"some value"}
		}
		var dl, df time.Duration
		for b.Loop() {
			t0 := time.Now()
			if _, err := local.ExecMany(ctx, `INSERT INTO ins (v) VALUES (?)`, rows); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := far.ExecMany(ctx, `INSERT INTO ins (v) VALUES (?)`, rows); err != nil {
				b.Fatal(err)
			}
			dl, df = dl+t1.Sub(t0), df+time.Since(t1)
		}
		rowsN := float64(b.N * 100)
		b.ReportMetric(rowsN/dl.Seconds(), "local-rows/s")
		b.ReportMetric(rowsN/df.Seconds(), "remote-rows/s")
		b.ReportMetric(float64(df)/float64(dl), "remote/local")
	})

	// A full scan of 10,000 rows: QueryAll, in chunks over the wire.
	b.Run("Scan10k", func(b *testing.B) {
		var dl, df time.Duration
		for b.Loop() {
			t0 := time.Now()
			if rows, err := local.QueryAll(ctx, `SELECT * FROM t`); err != nil || len(rows) != 10000 {
				b.Fatal(err, len(rows))
			}
			t1 := time.Now()
			if rows, err := far.QueryAll(ctx, `SELECT * FROM t`); err != nil || len(rows) != 10000 {
				b.Fatal(err, len(rows))
			}
			dl, df = dl+t1.Sub(t0), df+time.Since(t1)
		}
		b.ReportMetric(float64(dl.Nanoseconds())/float64(b.N), "local-ns/scan")
		b.ReportMetric(float64(df.Nanoseconds())/float64(b.N), "remote-ns/scan")
		b.ReportMetric(float64(df)/float64(dl), "remote/local")
	})
}
