package compat_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqldriver.DriverName, filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM sqlite_schema WHERE type IN ('table', 'trigger', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// goose migrates up (a StatementBegin block included) and all the way down through the driver.
func TestGooseUpAndDown(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("testdata/migrations"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d migrations applied, want 3", len(res))
	}
	if v, err := p.GetDBVersion(ctx); err != nil || v != 3 {
		t.Fatalf("version %d, %v", v, err)
	}
	// The trigger from the StatementBegin block works: two audit rows per new user.
	if _, err := db.Exec("INSERT INTO users (name, email, joined) VALUES (?, ?, ?)", "ada", "ada@example.com", "2026-02-03T00:00:00.000000000Z"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM audit").Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d audit rows (%v), want 4", n, err)
	}
	want := []string{"audit", "goose_db_version", "users", "users_audit", "users_joined"}
	if got := tables(t, db); !equal(got, want) {
		t.Fatalf("schema after up: %v, want %v", got, want)
	}
	// Up again: nothing to do.
	if res, err := p.Up(ctx); err != nil || len(res) != 0 {
		t.Fatalf("second up: %d applied, %v", len(res), err)
	}
	// Down one, then all the way.
	if _, err := p.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := p.GetDBVersion(ctx); err != nil || v != 2 {
		t.Fatalf("version after down %d, %v", v, err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := tables(t, db); !equal(got, []string{"goose_db_version"}) {
		t.Fatalf("schema after down: %v", got)
	}
	// And up again from scratch.
	if res, err := p.Up(context.Background()); err != nil || len(res) != 3 {
		t.Fatalf("up after down: %d applied, %v", len(res), err)
	}
}

// A migration that fails is rolled back whole: goose runs each in a transaction, which the
// driver runs on the writer.
func TestGooseFailedMigrationRollsBack(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "00001_ok.sql"), []byte("-- +goose Up\nCREATE TABLE a (x);\n-- +goose Down\nDROP TABLE a;\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "00002_bad.sql"), []byte("-- +goose Up\nCREATE TABLE b (x);\nINSERT INTO nowhere VALUES (1);\n-- +goose Down\nDROP TABLE b;\n"), 0o644)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err == nil {
		t.Fatal("a bad migration succeeded")
	}
	if v, err := p.GetDBVersion(ctx); err != nil || v != 1 {
		t.Fatalf("version %d, %v: want 1", v, err)
	}
	if got := tables(t, db); !equal(got, []string{"a", "goose_db_version"}) {
		t.Fatalf("schema %v: the failed migration left something", got)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
