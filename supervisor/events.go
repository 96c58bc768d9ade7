package supervisor

import (
	"context"
	"sync/atomic"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// eventsRouter routes analytics events to the events writer. (Placeholder wiring until the
// events writer lands: with Events.DSN empty every call returns ErrNoEventStore.)
type eventsRouter struct {
	crashes, restarts, committed, batches, failed, queued atomic.Int64
}

func (s *Supervisor) startEvents(ctx context.Context) error { return nil }

func (s *Supervisor) stopEvents(ctx context.Context) error { return nil }

func (e *eventsRouter) isWriter(pid *actor.PID) bool { return false }

func (e *eventsRouter) handleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	rs *actor.RestartStatistics, reason, message any) {
}

func (s *Supervisor) routeEvents(ctx actor.Context, m *messages.InsertEvents) {
	respondTo(ctx, m, &messages.EventsAck{Err: messages.ErrNoEventStore})
}

// InsertEvent stores one analytics event and returns after the batch holding it committed.
func (s *Supervisor) InsertEvent(ctx context.Context, ev messages.Event) error {
	return s.InsertEvents(ctx, []messages.Event{ev})
}

// InsertEvents stores events and returns after the batch holding the last of them committed.
func (s *Supervisor) InsertEvents(ctx context.Context, evs []messages.Event) error {
	return messages.ErrNoEventStore
}

func respondTo(ctx actor.Context, req messages.Request, reply messages.Reply) {
	if ch := req.ReplyChan(); ch != nil {
		select {
		case ch <- reply:
		default:
		}
		return
	}
	if ctx.Sender() != nil {
		ctx.Respond(reply)
	}
}
