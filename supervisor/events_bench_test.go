package supervisor_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/actorlite/actorlite/supervisor"
)

// benchEvents returns the events every benchmark inserts: the same as the bench harness's
// (bench/data.go), 500 users in turn, 8 event names, about 60 bytes of properties, timestamps
// a millisecond apart. The (user_id, timestamp) index makes each of a batch's events dirty a
// page of its own, as real traffic from many users does.
func benchEvents(n int) []messages.Event {
	names := []string{"page_view", "click", "signup", "purchase", "search", "logout", "share", "scroll"}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]messages.Event, n)
	for i := range evs {
		evs[i] = messages.Event{
			UserID:     "user-" + strconv.Itoa(i%500),
			Name:       names[i%len(names)],
			Properties: fmt.Appendf(nil, `{"page":"/pricing","plan":"pro","ref":"newsletter","n":%d}`, i),
			Timestamp:  base.Add(time.Duration(i) * time.Millisecond),
		}
	}
	return evs
}

// BenchmarkInsertEvent measures acknowledged events per second through Supervisor.InsertEvent
// (group commit) from 1, 8 and 64 concurrent producers, each waiting for its ack, against the
// article's way in the same run: one autocommit INSERT per event on a sqlitewasm.Conn (the
// commit-each baseline), with the default synchronous=NORMAL and with FULL, on the same
// events (benchEvents). Each
// sub-benchmark reports events/s, and the group-commit ones their ratio to the baseline of the
// same synchronous mode (x-commit-each) and their mean events per transaction.
func BenchmarkInsertEvent(b *testing.B) {
	for _, mode := range []string{"NORMAL", "FULL"} {
		prefix := ""
		if mode != "NORMAL" {
			prefix = "sync=" + mode + "/"
		}
		var baseline float64
		b.Run(prefix+"commit-each", func(b *testing.B) {
			baseline = benchCommitEach(b, mode)
		})
		for _, producers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%sproducers=%d", prefix, producers), func(b *testing.B) {
				rate := benchGroupCommit(b, mode, producers)
				if baseline > 0 {
					b.ReportMetric(rate/baseline, "x-commit-each")
				}
			})
		}
	}
}

// benchCommitEach inserts b.N events one autocommit INSERT each, as the article's
// insert_event does, on a sqlitewasm.Conn called directly (no actor in the way).
func benchCommitEach(b *testing.B, mode string) float64 {
	ctx := context.Background()
	db, err := sqlitewasm.Open(ctx, filepath.Join(b.TempDir(), "events.db"), sqlitewasm.Config{Synchronous: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.ExecScript(`CREATE TABLE events (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL,
		properties BLOB, timestamp DATETIME NOT NULL); CREATE INDEX events_user_id_timestamp ON events (user_id, timestamp)`); err != nil {
		b.Fatal(err)
	}
	const insert = "INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)"
	evs := benchEvents(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range evs {
		ev := &evs[i]
		if _, err := db.Exec(insert, []any{ev.UserID, ev.Name, ev.Properties, ev.Timestamp}); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	return rate
}

// benchGroupCommit inserts b.N events through Supervisor.InsertEvent from producers
// goroutines, each waiting for its ack before its next event.
func benchGroupCommit(b *testing.B, mode string, producers int) float64 {
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{
		DSN:     filepath.Join(b.TempDir(), "events.db"),
		Options: []actors.Option{actors.WithSynchronous(mode)},
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop(ctx)
	evs := benchEvents(b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for range producers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := s.InsertEvent(ctx, evs[i-1]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	st := s.Stats()
	if st.EventsCommitted != int64(b.N) {
		b.Fatalf("%d events committed, want %d", st.EventsCommitted, b.N)
	}
	b.ReportMetric(float64(st.EventsCommitted)/float64(max(st.EventBatches, 1)), "events/tx")
	return rate
}
