package actors

import (
	"fmt"
	"log/slog"
	"sync"
	"unsafe"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// refuse answers msg, which the connection will never serve: it was left queued when the
// actor stopped, posted after, or posted by an actor behind a Close. A request gets the error
// calls get on a closed connection (wrapping ErrCrashed too when a crash stopped it); anything
// else asked, an Ack with it. A Close, which asks for what happened already, succeeds. admitted: msg went through admit
// (or is a handle's), so it holds what a request holds in flight, which refuse gives back.
func (sh *shared) refuse(msg any, admitted bool) {
	if _, m, _ := actor.UnwrapEnvelope(msg); admitted {
		if req, ok := m.(messages.Request); ok && holdsSlot(req) {
			sh.release(req)
		}
	}
	err := sh.closedErr()
	if err == nil {
		err = messages.ErrClosed
	}
	answerClosed(sh.sys.Root, msg, err)
}

// answerClosed answers msg, sent to a connection that is closed, with err.
func answerClosed(root *actor.RootContext, msg any, err error) {
	_, m, sender := actor.UnwrapEnvelope(msg)
	req, ok := m.(messages.Request)
	switch {
	case !ok && sender != nil:
		root.Send(sender, &messages.Ack{Err: err})
	case !ok:
	case isClose(req):
		Deliver(root, req, sender, &messages.Ack{})
	default:
		Deliver(root, req, sender, req.ErrorReply(err))
	}
}

// AnswerUnknown answers the message ctx holds, which the actor (named by who) does not
// understand: an Ack with [messages.ErrUnknownRequest] when it was asked (a sender waits for
// a reply, and must never wait for its timeout), else a warning on logger. The connection actor
// and the supervisor use it; it is exported for package supervisor.
func AnswerUnknown(ctx actor.Context, logger *slog.Logger, who string) {
	m := ctx.Message()
	if ctx.Sender() != nil {
		ctx.Respond(&messages.Ack{Err: fmt.Errorf("%w: %T", messages.ErrUnknownRequest, m)})
		return
	}
	logger.Warn("actorlite: "+who+" ignored a message of unknown type", "type", fmt.Sprintf("%T", m))
}

// Deliver gives reply to the caller of req: through req's ReplyTo channel when a handle sent
// it (never blocking: a full channel is the sender's bug), else to sender (an actor's Request or
// RequestFuture), sent from s. With neither, nobody waits for it. It stamps reply with req's ID.
// Every answer to a request goes through it: the connection actor's, the events writer's and
// the supervisor's (answering a request that crashed its child). It is exported for package
// supervisor; a program has no use for it.
func Deliver(s actor.SenderContext, req messages.Request, sender *actor.PID, reply messages.Reply) {
	messages.Stamp(reply, req)
	sendReply(s, req.ReplyChan(), sender, reply)
}

// sendReply is Deliver for a reply already stamped, to a request of which the caller kept only
// its ReplyTo channel ch and its sender: the events writer's.
func sendReply(s actor.SenderContext, ch chan<- messages.Reply, sender *actor.PID, reply messages.Reply) {
	if ch != nil {
		select {
		case ch <- reply:
		default:
		}
		return
	}
	if sender != nil {
		s.Send(sender, reply)
	}
}

// oneRowReply is the reply to a one-row query sent with a ReplyTo channel (a handle's
// QueryRow): it comes from oneRowReplies, and the handle gives it back once it has read the
// row (see takeOneRow), so that a point select allocates its row and nothing to carry it.
type oneRowReply struct {
	r   messages.Rows // first: &r is the reply sent
	one [1]messages.Row
}

var oneRowReplies = sync.Pool{New: func() any { return new(oneRowReply) }}

// oneRow answers a one-row query whose rows b built, with columns cols, in a pooled reply.
func oneRow(b *messages.RowsBuilder, cols []messages.Column) *messages.Rows {
	rr := oneRowReplies.Get().(*oneRowReply)
	rr.r = messages.Rows{Columns: cols, Rows: rr.one[:0], Done: true}
	if row, ok := b.Row(); ok {
		rr.one[0], rr.r.Rows = row, rr.one[:1]
	}
	return &rr.r
}

// takeOneRow returns the row of r, a reply to a one-row query, and ErrNoRows without one;
// when r came from oneRow it is given back to oneRowReplies, and the caller must not read it
// afterwards. A reply oneRow made is told from any other by its rows: they are the array
// right after it, in the same oneRowReply (no other reply is laid out so).
func takeOneRow(r *messages.Rows) (messages.Row, error) {
	var row messages.Row
	if len(r.Rows) > 0 {
		row = r.Rows[0]
	}
	n := len(r.Rows)
	if rr := oneRowOf(r); rr != nil {
		*rr = oneRowReply{}
		oneRowReplies.Put(rr)
	}
	if n == 0 {
		return messages.Row{}, messages.ErrNoRows
	}
	return row, nil
}

// oneRowOf returns the oneRowReply r is the reply of, or nil when oneRow did not make r. The
// addresses are compared as numbers: no pointer is made before r is known to be one.
func oneRowOf(r *messages.Rows) *oneRowReply {
	if uintptr(unsafe.Pointer(r))+unsafe.Offsetof(oneRowReply{}.one) != uintptr(unsafe.Pointer(unsafe.SliceData(r.Rows))) {
		return nil
	}
	return (*oneRowReply)(unsafe.Pointer(r))
}
