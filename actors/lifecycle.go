package actors

import (
	"context"
	"fmt"
	"sync"

	"github.com/actorlite/actorlite/messages"
)

// lifecycle is what the handles of an actor that owns a database (a connection, the events
// writer) wait on: its first attempt to open the database, and its stop. It outlives the
// actor's incarnations.
type lifecycle struct {
	done    chan struct{} // closed when the actor stopped
	stop    sync.Once
	opened  chan struct{} // closed after the first open attempt
	openErr error         // written before opened is closed
}

func newLifecycle() lifecycle {
	return lifecycle{done: make(chan struct{}), opened: make(chan struct{})}
}

// markStopped closes done, once.
func (l *lifecycle) markStopped() { l.stop.Do(func() { close(l.done) }) }

// markOpened records the result of an open attempt and reports whether it was the first
// (later ones are reopens after a crash).
func (l *lifecycle) markOpened(err error) (first bool) {
	select {
	case <-l.opened:
		return false
	default:
		l.openErr = err
		close(l.opened)
		return true
	}
}

// waitOpen waits for the first open attempt and returns its error; what names the operation
// in a ctx error.
func (l *lifecycle) waitOpen(ctx context.Context, what string) error {
	ctx = orBackground(ctx)
	select {
	case <-l.opened:
		return l.openErr
	case <-l.done:
		return messages.ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}
