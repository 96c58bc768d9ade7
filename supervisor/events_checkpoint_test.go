package supervisor_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/supervisor"
)

// TestEventsWALCheckpointed: under a sustained load from many producers the events writer's
// WAL is checkpointed (by its checkpointer, or by the writer itself past four times the
// threshold) and stays bounded near wal_autocheckpoint, where without checkpoints it would hold
// a frame for about every event; and every event is committed.
func TestEventsWALCheckpointed(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "events.db")
	const threshold, producers, n = 50, 32, 8000
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{
		DSN: dsn, Options: []actors.Option{actors.WithPragma("wal_autocheckpoint", "50")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	evs := benchEvents(n)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := p; i < n; i += producers {
				if err := s.InsertEvent(ctx, evs[i]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	fi, err := os.Stat(dsn + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// A frame is a page and its 24-byte header. Four times the threshold, plus what the writer
	// commits while a checkpoint runs: well under the thousands of frames of no checkpoints.
	const frame, bound = 4096 + 24, 20 * threshold
	if frames := fi.Size() / frame; frames > bound {
		t.Fatalf("the WAL reached %d frames for %d events, want at most %d", frames, n, bound)
	}
	c, err := s.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	row, err := c.QueryRow(ctx, "SELECT count(*) FROM events")
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := row.Scan(&got); err != nil || got != n {
		t.Fatalf("%d events stored (%v), want %d", got, err, n)
	}
}

// TestEventsExclusiveLocking: a writer in exclusive locking mode keeps SQLite's checkpoints (a
// second connection could not open beside it) and starts and writes without waiting out a
// busy timeout for one.
func TestEventsExclusiveLocking(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // busy_timeout is 5 s
	defer cancel()
	dsn := filepath.Join(t.TempDir(), "events.db")
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{
		DSN: dsn, Options: []actors.Option{actors.WithPragma("locking_mode", "EXCLUSIVE")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	for _, ev := range benchEvents(100) {
		if err := s.InsertEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
}
