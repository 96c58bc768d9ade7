package actors_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/actorlite/actorlite/supervisor"
)

const benchRows = 20_000

// seedBench creates the events-shaped table the point-select benchmark reads.
func seedBench(b *testing.B, path string) {
	b.Helper()
	db, err := sqlitewasm.Open(context.Background(), path, sqlitewasm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.ExecScript(`CREATE TABLE events (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
		name TEXT NOT NULL, properties BLOB, timestamp INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	args := make([][]any, benchRows)
	props := []byte(`{"page":"/pricing","plan":"pro","ref":"newsletter","ab":"variant-b","n":12345678}`)
	for i := range args {
		args[i] = []any{fmt.Sprintf("user-%d", i%500), "page_view", props, int64(1_700_000_000 + i)}
	}
	if _, err := db.ExecMany("INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)", args); err != nil {
		b.Fatal(err)
	}
}

const pointSelect = "SELECT id, user_id, name, properties, timestamp FROM events WHERE id = ?"

// BenchmarkPointSelect compares QueryRow by primary key through a connection actor with the
// same query on a sqlitewasm.Conn called directly, in the same run.
func BenchmarkPointSelect(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	seedBench(b, path)
	ctx := context.Background()

	b.Run("direct", func(b *testing.B) {
		db, err := sqlitewasm.Open(ctx, path, sqlitewasm.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ReportAllocs()
		for b.Loop() {
			id := rand.Int64N(benchRows) + 1
			row, err := db.QueryRow(pointSelect, []any{id})
			if err != nil || row.Index(0) != id {
				b.Fatal(err, row)
			}
		}
	})
	b.Run("actor", func(b *testing.B) {
		s, err := supervisor.Start(ctx, supervisor.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Stop(ctx)
		c, err := s.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			id := rand.Int64N(benchRows) + 1
			row, err := c.QueryRow(ctx, pointSelect, id)
			if err != nil || row.Index(0) != id {
				b.Fatal(err, row)
			}
		}
	})
}
