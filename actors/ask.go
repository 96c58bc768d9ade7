package actors

import (
	"context"
	"errors"
	"fmt"
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
	f := ctx.RequestFuture(pid, req, timeout)
	ctx.ReenterAfter(f, func(res any, err error) { then(askResult[R](req, pid, timeout, res, err)) })
}

// askResult turns what a future gave Ask into the typed reply and its error.
func askResult[R messages.Reply](req messages.Request, pid *actor.PID, timeout time.Duration, res any, err error) (R, error) {
	var zero R
	switch {
	case errors.Is(err, actor.ErrTimeout):
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
