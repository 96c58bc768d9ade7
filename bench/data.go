package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// schemaSQL is the seed's events table, as the actorlite events writer created it before
// properties became JSON TEXT and events got idempotency keys: the same table for every
// system (the events writer, opening it, adds the idempotency_key column and its partial
// unique index, which events without a key leave empty).
const schemaSQL = `CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
	name TEXT NOT NULL, properties BLOB, timestamp DATETIME NOT NULL);
CREATE INDEX IF NOT EXISTS events_user_id_timestamp ON events (user_id, timestamp);`

// The statements every system runs (aiosqlite_bench.py spells the same ones).
const (
	insertSQL = "INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)"
	pointSQL  = "SELECT id, user_id, name, properties, timestamp FROM events WHERE id = ?"
	scanSQL   = "SELECT id, user_id, name, properties, timestamp FROM events"
)

// pragmas are the settings every system opens its connections with, in this order (busy
// timeout first: switching to WAL can itself meet a lock). They are actorlite's defaults.
var pragmas = [][2]string{
	{"busy_timeout", "5000"},
	{"journal_mode", "WAL"},
	{"synchronous", "NORMAL"},
	{"foreign_keys", "ON"},
}

// event is one analytics event as a producer has it, before any system binds it.
type event struct {
	user  string
	name  string
	props []byte // JSON
	ts    time.Time
}

// eventRow is one row read back: every system delivers the same Go values.
type eventRow struct {
	id    int64
	user  string
	name  string
	props []byte
	ts    time.Time
}

var eventNames = []string{"page_view", "click", "signup", "purchase", "search", "logout", "share", "scroll"}

var baseTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// makeEvents returns n events, the same for every system (the Python script builds equal ones).
func makeEvents(n int) []event {
	evs := make([]event, n)
	for i := range evs {
		evs[i] = event{
			user:  fmt.Sprintf("user-%d", i%500),
			name:  eventNames[i%len(eventNames)],
			props: fmt.Appendf(nil, `{"page":"/pricing","plan":"pro","ref":"newsletter","n":%d}`, i),
			ts:    baseTime.Add(time.Duration(i) * time.Millisecond),
		}
	}
	return evs
}

// randomIDs returns n ids drawn uniformly from 1..rows, with a fixed seed.
func randomIDs(n, rows int) []int64 {
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = r.Int64N(int64(rows)) + 1
	}
	return ids
}

// openDirect opens a go-sqlite3 connection with the common pragmas.
func openDirect(path string) (*sqlite3.Conn, error) {
	db, err := sqlite3.Open(path)
	if err != nil {
		return nil, err
	}
	for _, p := range pragmas {
		if err := db.Exec("PRAGMA " + p[0] + "=" + p[1]); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// createDB creates a fresh database file at path holding the empty events table.
func createDB(path string) error {
	db, err := openDirect(path)
	if err != nil {
		return err
	}
	err = db.Exec(schemaSQL)
	return errors.Join(err, db.Close())
}

// seedDB creates a database at path holding rows events, for the read workloads.
func seedDB(path string, rows int) error {
	db, err := openDirect(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Exec(schemaSQL); err != nil {
		return err
	}
	if err := db.Exec("BEGIN"); err != nil {
		return err
	}
	stmt, _, err := db.Prepare(insertSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, e := range makeEvents(rows) {
		stmt.BindText(1, e.user)
		stmt.BindText(2, e.name)
		stmt.BindBlob(3, e.props)
		stmt.BindText(4, e.ts.Format(messages.TimeLayout))
		if err := stmt.Exec(); err != nil {
			return err
		}
	}
	if err := db.Exec("COMMIT"); err != nil {
		return err
	}
	return db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
}

// countRows returns the rows of the events table at path: the check after a write workload.
func countRows(path string) (int64, error) {
	db, err := openDirect(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	stmt, _, err := db.Prepare("SELECT count(*) FROM events")
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	if !stmt.Step() {
		return 0, fmt.Errorf("count: %w", stmt.Err())
	}
	return stmt.ColumnInt64(0), nil
}
