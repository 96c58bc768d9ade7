package main

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// TestCSQLiteFirstLocksOutGoSQLite pins down the limit openOrder works around, which
// README.md documents for actorlite's users: C SQLite (mattn's, here) and go-sqlite3
// (actorlite's) share a WAL database that go-sqlite3 opened first, each seeing the other's
// writes; when C SQLite opened it first (no other connection had it open), the first go-sqlite3
// connection opened while C SQLite still holds it fails with SQLITE_PROTOCOL (code 15), after
// SQLite's own retries (about 10 s), or when its ctx ends, whichever comes first.
func TestCSQLiteFirstLocksOutGoSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out SQLite's retries, about 10 s")
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	count := func(db *sql.DB) (n int) {
		t.Helper()
		if err := db.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// mattnFirst opens the database with C SQLite, nobody else having it open, and reads it,
	// which opens its WAL index: C SQLite has it first, and holds it (its pool keeps the
	// connection open) until closed.
	mattnFirst := func() *sql.DB {
		t.Helper()
		m, err := sql.Open("sqlite3", mattnDSN(path))
		if err != nil {
			t.Fatal(err)
		}
		if n := count(m); n != 2 {
			t.Fatalf("C SQLite sees %d rows, want 2", n)
		}
		return m
	}
	if err := createDB(path); err != nil { // WAL, closed again
		t.Fatal(err)
	}
	sup, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Stop(ctx)

	// go-sqlite3 first: shared.
	c, err := sup.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sql.Open("sqlite3", mattnDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Exec(insertSQL, "u", "n", "{}", "2026-01-01 00:00:00"); err != nil {
		t.Fatal("C SQLite's insert:", err)
	}
	if _, err := c.Exec(ctx, insertSQL, "u", "n", "{}", "2026-01-01 00:00:00"); err != nil {
		t.Fatal("actorlite's insert:", err)
	}
	if n := count(m); n != 2 {
		t.Fatalf("C SQLite sees %d rows, want 2", n)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// C SQLite first: actorlite is locked out while C SQLite holds the database.
	m = mattnFirst()
	_, err = sup.Open(ctx, path)
	var se *messages.Error
	if !errors.As(err, &se) || se.Code != 15 {
		t.Fatalf("open while C SQLite holds the database: %v, want SQLITE_PROTOCOL (15)", err)
	}
	if !strings.Contains(err.Error(), "C SQLite") {
		t.Fatalf("open while C SQLite holds the database: %q does not say what may hold it", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// C SQLite first again, afresh: a ctx that ends ends actorlite's open at once, though
	// SQLite sleeps between its retries (the open goes on, and closes whatever it opened, on a
	// goroutine of its own). (A second open after a first one failed can get through: only
	// first attempts are checked here.)
	m = mattnFirst()
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err = sup.Open(dctx, path)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, messages.ErrInterrupted) {
		t.Fatalf("open with a 200 ms ctx: %v, want its deadline and ErrInterrupted", err)
	}
	if took := time.Since(t0); took > 5*time.Second {
		t.Fatalf("open with a 200 ms ctx returned after %v", took)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Once C SQLite let go, actorlite opens it again.
	c, err = sup.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
