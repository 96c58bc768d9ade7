package supervisor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// bigEvent is an event of about size bytes of properties.
func bigEvent(user string, seq, size int) messages.Event {
	props := fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, seq, strings.Repeat("x", max(0, size-30)))
	return messages.Event{UserID: user, Name: "upload", Properties: json.RawMessage(props)}
}

// holdFirstBatch returns an events-writer option that holds the writer inside its first
// batch (entered is closed when it gets there; closing release lets it go on) and records in
// maxSeen the most events *s had queued whenever the writer wrote one.
func holdFirstBatch(s **supervisor.Supervisor) (probe actors.Option, maxSeen *atomic.Int64, entered, release chan struct{}) {
	maxSeen = new(atomic.Int64)
	entered, release = make(chan struct{}), make(chan struct{})
	probe = actors.WithEventsFault(func(batch int64, i int) {
		if q := (*s).Stats().EventsQueued; q > maxSeen.Load() {
			maxSeen.Store(q)
		}
		if batch == 1 && i == 0 {
			close(entered)
			<-release
		}
	})
	return probe, maxSeen, entered, release
}

// The events queue is bounded by bytes, not only by events: 64 Ki events of 1 MiB each would
// be 64 GiB.
func TestEventQueueBoundedByBytes(t *testing.T) {
	const limit, size, producers = 1 << 20, 100 << 10, 32
	var s *supervisor.Supervisor
	probe, maxSeen, entered, release := holdFirstBatch(&s)
	s, dsn := startEvents(t, supervisor.EventsConfig{MaxQueuedBytes: limit, Options: []actors.Option{probe}})
	ctx := deadline(t)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			if err := s.InsertEvent(ctx, bigEvent(fmt.Sprint("p", p), p, size)); err != nil {
				t.Error(err)
			}
		})
	}
	<-entered
	// At most limit/size events fit; the others wait for room.
	fit := int64(limit / size)
	waitFor(t, "a full queue", func() bool { return s.Stats().EventsQueued >= fit-1 })
	if q := s.Stats().EventsQueued; q > fit {
		t.Fatalf("%d events of %d KiB queued, more than %d bytes hold", q, size>>10, limit)
	}
	close(release)
	wg.Wait()
	if m := maxSeen.Load(); m > fit {
		t.Fatalf("%d events queued at once, more than %d bytes hold", m, limit)
	}
	if n := len(stored(t, reader(t, s, dsn))); n != producers {
		t.Fatalf("%d events stored, want %d", n, producers)
	}
	// A call that could never fit is refused whole, at once, with a typed error.
	evs := make([]messages.Event, 2*limit/size)
	for i := range evs {
		evs[i] = bigEvent("huge", i, size)
	}
	err := s.InsertEvents(ctx, evs)
	var ee *messages.EventError
	if !errors.Is(err, messages.ErrBadEvent) || !errors.As(err, &ee) || ee.Index != -1 {
		t.Fatalf("a call over MaxQueuedBytes: %v, want an EventError for the whole call (Index -1)", err)
	}
}

// Actors' calls that find the queue full wait without a goroutine each, and only up to a
// bound of their own; beyond it they are refused at once with ErrOverloaded.
func TestEventSubmitOverflowIsBounded(t *testing.T) {
	s, _, entered, release := startHeldEvents(t)
	defer s.Stop(deadline(t))
	// The test moves about 160,000 events: under -race on a loaded 2-core machine that took
	// 17–30 s (on main as on this branch), past deadline's 10 s; the bound it checks is not
	// about time.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	first := make(chan error, 1)
	go func() { first <- s.InsertEvent(ctx, event("first", 0)) }()
	<-entered
	// Fill the queue (65,536 events by default) through one call of the goroutine path.
	fill := make([]messages.Event, actors.DefaultMaxQueued-1)
	for i := range fill {
		fill[i] = event("fill", i)
	}
	filled := make(chan error, 1)
	go func() { filled <- s.InsertEvents(ctx, fill) }()
	waitFor(t, "a full queue", func() bool { return s.Stats().EventsQueued == actors.DefaultMaxQueued })

	before := runtime.NumGoroutine()
	const calls = 3 * actors.DefaultMaxQueued / 2
	replies := make(chan messages.Reply, calls)
	for i := range calls {
		s.System().Root.Send(s.PID(), &messages.InsertEvents{ReplyTo: replies, Events: []messages.Event{event("actor", i)}})
	}
	// The overflow holds as much as the queue; the rest is refused now, not later.
	overloaded := 0
	for overloaded < calls-actors.DefaultMaxQueued {
		r := (<-replies).(*messages.EventsAck)
		if !errors.Is(r.Err, messages.ErrOverloaded) {
			t.Fatalf("answer while the queue and its overflow are full: %+v, want ErrOverloaded", r)
		}
		overloaded++
	}
	if n := runtime.NumGoroutine() - before; n > 100 {
		t.Fatalf("%d goroutines more while %d actor calls wait for room", n, actors.DefaultMaxQueued)
	}
	close(release)
	for range actors.DefaultMaxQueued {
		if r := (<-replies).(*messages.EventsAck); r.Err != nil {
			t.Fatalf("a waiting actor call: %v", r.Err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-filled; err != nil {
		t.Fatal(err)
	}
}
