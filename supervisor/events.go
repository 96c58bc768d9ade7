package supervisor

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// eventsRouter routes analytics events to the events writer, a child actor of the supervisor
// with its own connection to Config.Events.DSN (see actors.EventWriter for how it batches).
// Handles (InsertEvent, InsertEvents) send straight to the writer; actors send
// messages.InsertEvents to the supervisor's PID, which routes them (routeEvents).
type eventsRouter struct {
	crashes, restarts                  atomic.Int64
	committed, batches, failed, queued *atomic.Int64 // the writer's counters
	duplicates                         *atomic.Int64

	s    *Supervisor
	w    *actors.EventWriter
	pool eventsPool // EventsPool's (events_pool.go)
}

// eventsMessage marks the supervisor actor's own messages about events (spawnWriter,
// eventsBarrier): its Receive hands them to receiveEvents.
type eventsMessage interface{ eventsMessage() }

// spawnWriter asks the supervisor actor to spawn the events writer as its child.
type spawnWriter struct{ reply chan error }

// eventsBarrier is answered once the supervisor actor has routed every messages.InsertEvents
// queued before it.
type eventsBarrier struct{ done chan struct{} }

func (*spawnWriter) eventsMessage()   {}
func (*eventsBarrier) eventsMessage() {}

// startEvents spawns the events writer, when events are configured, and waits until it has
// opened the database and created the table.
func (s *Supervisor) startEvents(ctx context.Context) error {
	ec := s.cfg.Events
	if ec.DSN == "" {
		return nil
	}
	w, err := actors.NewEventWriter(actors.EventWriterConfig{
		System: s.sys, DSN: ec.DSN, Table: ec.Table,
		MaxBatch: ec.MaxBatch, MaxDelay: ec.MaxDelay, MaxQueued: ec.MaxQueued, MaxQueuedBytes: ec.MaxQueuedBytes,
		Options: ec.Options, Logger: s.logger,
	})
	if err != nil {
		return fmt.Errorf("start: events: %w", err)
	}
	c := w.Counters()
	s.events = &eventsRouter{s: s, w: w, committed: &c.Committed, batches: &c.Batches, failed: &c.Failed, queued: &c.Queued,
		duplicates: &c.Duplicates}
	req := &spawnWriter{reply: make(chan error, 1)}
	s.sys.Root.Send(s.pid, req)
	if err := <-req.reply; err != nil { // a spawn is quick: never leave one half done
		w.Discard()
		return fmt.Errorf("start: events writer: %w", err)
	}
	if err := w.WaitOpen(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return nil
}

// receiveEvents handles eventsMessages on the supervisor actor.
func (s *Supervisor) receiveEvents(ctx actor.Context, m eventsMessage) {
	switch m := m.(type) {
	case *spawnWriter:
		pid, err := ctx.SpawnNamed(s.events.w.Props(), "events-writer-"+s.sys.ProcessRegistry.NextId())
		if err == nil {
			s.events.w.Bind(pid)
		}
		m.reply <- err
	case *eventsBarrier:
		close(m.done)
	}
}

// stopEvents closes the events writer: every event accepted is written (InsertEvents requests
// already in the supervisor's mailbox included). With ctx done first, the writer is
// interrupted, and the error says how many events were not written. The writer actor stops
// with the supervisor actor, its parent, which closes its connection.
func (s *Supervisor) stopEvents(ctx context.Context) error {
	e := s.events
	if e == nil {
		return nil
	}
	barrier := &eventsBarrier{done: make(chan struct{})}
	s.sys.Root.Send(s.pid, barrier)
	select {
	case <-barrier.done:
	case <-ctx.Done():
	}
	n, err := e.w.Close(ctx)
	if err != nil {
		return fmt.Errorf("stop: %d queued events were not written: %w", n, err)
	}
	return nil
}

func (e *eventsRouter) isWriter(pid *actor.PID) bool {
	w := e.w.PID()
	return w != nil && pid != nil && w.Id == pid.Id
}

// handleFailure runs when the events writer crashed. The writer has already answered the
// calls of the batch in flight (with ErrCrashed) and keeps the others. The supervisor logs the
// crash and restarts the writer, whose next incarnation writes what was queued; once the
// restart budget is spent, the writer is abandoned: it is restarted one last time into a state
// that answers every call with an error wrapping ErrClosed and ErrCrashed (rather than stopped,
// which would drop its mailbox unanswered).
func (e *eventsRouter) handleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	rs *actor.RestartStatistics, reason, message any) {
	s, dsn := e.s, e.w.DSN()
	crashErr, stack := crashOf(dsn, reason)
	e.crashes.Add(1)
	budget := s.budget()
	if failures, spent := budget.spend(rs); spent {
		e.w.Abandon(budget.spentErr("events writer ", crashErr))
		s.logCrash("events writer", dsn, crashErr, stack, "abandoned: restart budget spent", "restarts", s.cfg.MaxRestarts, "window", s.cfg.RestartWindow)
	} else {
		e.restarts.Add(1)
		s.logCrash("events writer", dsn, crashErr, stack, "restarting", "failures_in_window", failures)
	}
	e.s.decided(child, reason, actor.RestartDirective)
	sup.RestartChildren(child)
}

func (s *Supervisor) routeEvents(ctx actor.Context, m *messages.InsertEvents) {
	e := s.events
	if e == nil {
		actors.Deliver(ctx, m, ctx.Sender(), &messages.EventsAck{Err: messages.ErrNoEventStore})
		return
	}
	e.w.Submit(m, ctx.Sender())
}

// InsertEvent stores one analytics event and returns after the transaction holding it
// committed (the article's insert_event, group-committed). See [Supervisor.InsertEvents].
func (s *Supervisor) InsertEvent(ctx context.Context, ev messages.Event) error {
	return s.InsertEvents(ctx, []messages.Event{ev})
}

// InsertEvents stores analytics events in the events table and returns after the transaction
// holding them committed: a nil error means every one of them is stored, durably against a
// process crash (and against power loss with actors.WithSynchronous("FULL") in
// EventsConfig.Options).
//
// Validation happens first, on the caller's goroutine ([messages.Event.Validate]): UserID and
// Name must not be empty, Properties, when not empty, must be valid JSON of at most 1 MiB
// (empty is stored as NULL), an IdempotencyKey at most 256 bytes; one bad event rejects the
// call with an error wrapping [messages.ErrBadEvent] (an [*messages.EventError] naming the
// event's index and field), and nothing of it is stored. A zero Timestamp means now.
// Timestamps are stored as [messages.TimeLayout] text in UTC, which sorts in time order and
// reads back as time.Time (the column is declared DATETIME); Properties are stored as JSON
// text that json_extract and ->> can query, and read back as json.RawMessage. The package
// doc's "Analytics events" has the table's schema. An event whose IdempotencyKey is stored
// already is acknowledged without a second row.
//
// Group commit. The events writer commits in one transaction every event that reached it while
// its previous transaction ran (at most EventsConfig.MaxBatch events; a call is never split).
// When that is fewer than it expects (the events it just acknowledged, whose callers usually
// send again, plus those already queued), it waits for them, at most MaxDelay from the batch's
// first event; a lone producer's event is written at once. When EventsConfig.MaxQueued events
// are waiting, InsertEvents waits for room (honouring ctx). The WAL is checkpointed every
// actors.EventsCheckpointPages pages instead of SQLite's 1000, by a second connection of the
// writer's own, off the path of the batches (see EventsCheckpointPages).
//
// Errors. With events disabled (EventsConfig.DSN empty): [messages.ErrNoEventStore]. After
// Stop: [messages.ErrClosed]. When the writer crashes during the call's transaction, an error
// wrapping [messages.ErrCrashed]: nothing of the call was stored, and events queued behind it
// are written after the writer restarts. When ctx is done first, its error, at once; the events
// may still be written (retry with the same IdempotencyKeys to store them once), unless ctx
// ended while the call waited for room in the full queue: then nothing of it was queued, and
// the error also wraps [messages.ErrOverloaded]. A request handler passes its request's
// context, bounded by a timeout (see the package doc's "Analytics events").
//
// InsertEvents is safe for concurrent use. Actors send [messages.InsertEvents] to [Supervisor.PID]
// instead, and get an [*messages.EventsAck].
func (s *Supervisor) InsertEvents(ctx context.Context, evs []messages.Event) error {
	e := s.events
	if e == nil {
		return messages.ErrNoEventStore
	}
	return e.w.Insert(ctx, evs)
}
