package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Lines are messages.Event's JSON form: an idempotency_key stores its event once, however
// often the file is loaded; lines without a key are stored each time.
func TestCLIIngestIdempotencyKeys(t *testing.T) {
	dir := t.TempDir()
	src, db := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "events.db")
	lines := `{"user_id":"u1","name":"signup","properties":{"plan":"pro"},"idempotency_key":"a"}
{"user_id":"u2","name":"signup","idempotency_key":"b"}
{"user_id":"u2","name":"page_view"}
`
	if err := os.WriteFile(src, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		mustCLI(t, 0, nil, "ingest", "-progress", "off", db, src)
	}
	rows := queryJSON(t, db, "SELECT count(*) AS n, count(idempotency_key) AS keyed, count(DISTINCT idempotency_key) AS keys FROM events")
	if want := (map[string]any{"n": 4.0, "keyed": 2.0, "keys": 2.0}); !reflect.DeepEqual(rows[0], want) {
		t.Errorf("after two loads: %v, want %v", rows[0], want)
	}
}
