package sqldriver_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

// deadline returns a ctx that ends with the test, or after a minute.
func deadline(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openDB opens a *sql.DB with sql.Open on a fresh file, closed with the test.
func openDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	db, err := sql.Open(sqldriver.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, path
}

// startSupervisor starts a supervisor stopped with the test.
func startSupervisor(t testing.TB, cfg supervisor.Config) *supervisor.Supervisor {
	t.Helper()
	s, err := supervisor.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// connectorDB opens a *sql.DB on path through s's connector, closed with the test.
func connectorDB(t testing.TB, s *supervisor.Supervisor, path string) *sql.DB {
	t.Helper()
	ctr, err := sqldriver.NewConnector(s, path)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}
