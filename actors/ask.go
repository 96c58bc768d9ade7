package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// Ask sends req from the actor behind ctx to pid (a connection's PID; the supervisor's for
// [messages.InsertEvents]) and calls then with the reply, typed, once it comes. then runs on the
// actor's own goroutine, between its messages (protoactor's ReenterAfter): the actor's mailbox
// is never blocked while the request runs, and then may touch the actor's state.
//
// then is called exactly once, with err set to:
//   - the reply's Err (match it with errors.Is against the sentinels of package messages);
//   - when no reply came within timeout, an error wrapping [context.DeadlineExceeded];
//   - when no actor is at pid (a connection closed by its owner), one wrapping
//     [messages.ErrClosed];
//   - when the reply is not an R, the reply's Err if it has one, else one wrapping
//     [messages.ErrUnknownRequest].
//
// Ask sets req's Deadline to timeout from now (unless it has an earlier one), so that the
// connection skips or interrupts the work its caller stopped waiting for, as a handle's ctx
// does. timeout must be positive: otherwise then is called at once, before Ask returns, with an
// [*messages.ArgError]. The reply's ID is req's ID (see [messages.Request]).
//
//	actors.Ask(ctx, db, &messages.Query{SQL: "SELECT name FROM users WHERE id = ?", Args: []any{id}, OneRow: true}, time.Second,
//		func(rows *messages.Rows, err error) {
//			if err != nil { … }
//			… rows.Rows[0].Get("name") …
//		})
func Ask[R messages.Reply](ctx actor.Context, pid *actor.PID, req messages.Request, timeout time.Duration, then func(reply R, err error)) {
	if timeout <= 0 {
		var zero R
		then(zero, &messages.ArgError{Reason: fmt.Sprintf("ask %T: timeout %s is not positive", req, timeout)})
		return
	}
	messages.SetDeadline(req, time.Now().Add(timeout))
	f := askFuture(ctx, pid, req, timeout)
	ctx.ReenterAfter(f, func(res any, err error) { then(askResult[R](req, pid, timeout, res, err)) })
}

// askFuture sends req from an asker (see [asker]) and returns the future that gets the first of
// the reply and the timeout. It is not ctx.RequestFuture(pid, req, timeout): protoactor's
// future writes a reply into its result without its lock, while its own timeout reads that
// result under it (future.go, SendUserMessage against runCompletions), so a reply that meets its
// timeout is a data race, and a torn read of an interface. This future has no timer of its own
// and only the asker ever sends to it, exactly once.
func askFuture(ctx actor.Context, pid *actor.PID, req messages.Request, timeout time.Duration) *actor.Future {
	sys := ctx.ActorSystem()
	a := &asker{sys: sys, future: actor.NewFuture(sys, -1)}
	a.mu.Lock()
	a.pid, _ = sys.ProcessRegistry.Add(a, "ask"+sys.ProcessRegistry.NextId())
	a.timer = time.AfterFunc(timeout, func() { a.finish(askTimedOut{}) })
	a.mu.Unlock()
	ctx.RequestWithCustomSender(pid, req, a.pid)
	return a.future
}

// asker is the sender of one Ask's request, a process of its own in the actor system: the
// first message it gets (the reply, a DeadLetterResponse when nobody is at the PID, or its
// timer's askTimedOut) goes on to its future, and it leaves the registry; later ones are dropped.
type asker struct {
	sys    *actor.ActorSystem
	future *actor.Future

	mu    sync.Mutex
	pid   *actor.PID
	timer *time.Timer
	done  bool
}

// askTimedOut is what an asker passes on when its timer fires first.
type askTimedOut struct{}

// SendUserMessage implements actor.Process: the reply.
func (a *asker) SendUserMessage(_ *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	a.finish(msg)
}

// SendSystemMessage implements actor.Process: an asker has no system messages to act on.
func (a *asker) SendSystemMessage(*actor.PID, any) {}

// Stop implements actor.Process: a stopped asker answers as if nobody had been at the PID.
func (a *asker) Stop(*actor.PID) { a.finish(&actor.DeadLetterResponse{}) }

// finish passes msg on to the future, the first time only.
func (a *asker) finish(msg any) {
	a.mu.Lock()
	if a.done {
		a.mu.Unlock()
		return
	}
	a.done = true
	a.timer.Stop()
	pid := a.pid
	a.mu.Unlock()
	a.sys.ProcessRegistry.Remove(pid)
	a.sys.Root.Send(a.future.PID(), msg)
}

// askResult turns what a future gave Ask into the typed reply and its error.
func askResult[R messages.Reply](req messages.Request, pid *actor.PID, timeout time.Duration, res any, err error) (R, error) {
	var zero R
	switch {
	case res == askTimedOut{}:
		return zero, fmt.Errorf("ask %T: no reply within %s: %w", req, timeout, context.DeadlineExceeded)
	case errors.Is(err, actor.ErrDeadLetter):
		return zero, fmt.Errorf("ask %T: no actor at %s: %w", req, pid, messages.ErrClosed)
	case err != nil:
		return zero, fmt.Errorf("ask %T: %w", req, err)
	}
	switch r := res.(type) {
	case R:
		return r, r.ReplyErr()
	case messages.Reply:
		if rerr := r.ReplyErr(); rerr != nil {
			return zero, rerr
		}
	}
	return zero, fmt.Errorf("%w: ask %T: the reply %T is not the %T asked for", messages.ErrUnknownRequest, req, res, zero)
}
