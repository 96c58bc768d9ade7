package actors

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestWalThreshold(t *testing.T) {
	for _, tc := range []struct {
		pragmas [][2]string
		want    int
	}{
		{nil, 0},
		{[][2]string{{"wal_autocheckpoint", "10000"}}, 10000},
		{[][2]string{{"wal_autocheckpoint", "10000"}, {"cache_size", "-4000"}, {"WAL_AutoCheckpoint", "'500'"}}, 500},
		{[][2]string{{"wal_autocheckpoint", "10000"}, {"wal_autocheckpoint", "0"}}, 0},
		{[][2]string{{"wal_autocheckpoint", "-1"}}, 0},
		{[][2]string{{"wal_autocheckpoint", "many"}}, 0},
	} {
		if got := walThreshold(tc.pragmas); got != tc.want {
			t.Errorf("walThreshold(%v) = %d, want %d", tc.pragmas, got, tc.want)
		}
	}
}

// TestCheckpointer: nudged, the checkpointer copies every frame of a WAL that a writer with no
// automatic checkpoints filled, reports it (synced), and stops cleanly.
func TestCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.db")
	cfg := sqlitewasm.Config{Pragmas: [][2]string{{"wal_autocheckpoint", "0"}}}
	w, err := sqlitewasm.Open(context.Background(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.ExecScript("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	frames := 0
	w.SetWALHook(func(n int) { frames = n })
	for i := range 200 {
		if _, err := w.Exec("INSERT INTO t (v) VALUES (?)", []any{fmt.Sprintf("%0500d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if frames < 100 {
		t.Fatalf("the WAL hook saw %d frames after 200 commits", frames)
	}
	ck, err := startCheckpointer(path, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	ck.nudge()
	ck.stop() // waits for the checkpoint the nudge asked for, if it had not run yet
	if !ck.synced.Load() || ck.broken.Load() {
		t.Fatalf("synced %v, broken %v after a checkpoint", ck.synced.Load(), ck.broken.Load())
	}
	// The rows' pages are in the database file now, copied there by the checkpointer alone.
	if after := fileSize(t, path); after < before+200*500 {
		t.Fatalf("the database file grew from %d to %d bytes: the 200 rows of 500 bytes were not checkpointed", before, after)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
