package sqlitewasm_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/ncruces/go-sqlite3"
)

// BenchmarkPointSelectLayer measures what this package adds to go-sqlite3 on a point select
// of an event-shaped row read into typed variables: "go-sqlite3" binds, steps and reads the
// columns of one prepared statement by hand; "sqlitewasm" is QueryRow (statement cache,
// argument binding, typed row) and Row.Scan. Same database, same run.
func BenchmarkPointSelectLayer(b *testing.B) {
	const rows = 20_000
	path := filepath.Join(b.TempDir(), "layer.db")
	seed, err := sqlitewasm.Open(context.Background(), path, sqlitewasm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := seed.ExecScript(`CREATE TABLE events (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
		name TEXT NOT NULL, properties BLOB, timestamp DATETIME NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	args := make([][]any, rows)
	for i := range args {
		args[i] = []any{"user-1", "page_view", []byte(`{"path":"/pricing","ms":123}`), time.Unix(1_700_000_000+int64(i), 0)}
	}
	if _, err := seed.ExecMany("INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)", args); err != nil {
		b.Fatal(err)
	}
	seed.Close()
	const q = "SELECT id, user_id, name, properties, timestamp FROM events WHERE id = ?"
	var (
		id         int64
		user, name string
		props      []byte
		ts         time.Time
	)
	b.Run("go-sqlite3", func(b *testing.B) {
		db, err := sqlite3.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		s, _, err := db.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		b.ReportAllocs()
		for b.Loop() {
			want := rand.Int64N(rows) + 1
			s.BindInt64(1, want)
			if !s.Step() {
				b.Fatal(s.Err())
			}
			id, user, name = s.ColumnInt64(0), s.ColumnText(1), s.ColumnText(2)
			props, ts = s.ColumnBlob(3, nil), s.ColumnTime(4, sqlite3.TimeFormatDefault)
			if err := s.Reset(); err != nil || id != want {
				b.Fatal(err, id)
			}
		}
	})
	b.Run("sqlitewasm", func(b *testing.B) {
		db, err := sqlitewasm.Open(context.Background(), path, sqlitewasm.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ReportAllocs()
		for b.Loop() {
			want := rand.Int64N(rows) + 1
			row, err := db.QueryRow(q, []any{want})
			if err != nil {
				b.Fatal(err)
			}
			if err := row.Scan(&id, &user, &name, &props, &ts); err != nil || id != want {
				b.Fatal(err, id)
			}
		}
	})
	if ts.IsZero() || len(props) == 0 || user == "" || name == "" {
		b.Fatal("nothing read")
	}
}
