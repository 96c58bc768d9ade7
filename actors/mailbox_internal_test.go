package actors

import (
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// TestQueueMemoryFollowsItsLength checks that a mailbox queue's memory follows how many
// messages it holds, not how many it has served: under sustained load it is never empty, and
// its backing array must not grow with every message served.
func TestQueueMemoryFollowsItsLength(t *testing.T) {
	var q queue
	next, want := 0, 0
	// Always about 100 messages queued, a million served.
	for range 100 {
		q.push(next)
		next++
	}
	for range 1_000_000 {
		q.push(next)
		next++
		if got := q.pop(); got != want {
			t.Fatalf("pop = %v, want %d: out of order", got, want)
		}
		want++
	}
	if c := len(q.buf); c > 1024 {
		t.Fatalf("a queue holding %d messages has room for %d", q.n, c)
	}
	// A burst grows it; once drained, it shrinks back.
	for range 100_000 {
		q.push(next)
		next++
	}
	for q.n > 0 {
		if got := q.pop(); got != want {
			t.Fatalf("pop = %v, want %d: out of order", got, want)
		}
		want++
	}
	if c := len(q.buf); c > 1024 {
		t.Fatalf("a drained queue keeps room for %d messages", c)
	}
	if q.pop() != nil {
		t.Fatal("pop of an empty queue")
	}
}

// recInvoker records what a mailbox hands protoactor's invoker.
type recInvoker struct {
	user, escalated []any
}

func (r *recInvoker) InvokeSystemMessage(any)        {}
func (r *recInvoker) InvokeUserMessage(msg any)      { r.user = append(r.user, msg) }
func (r *recInvoker) EscalateFailure(_ any, msg any) { r.escalated = append(r.escalated, msg) }
func (d *heldDispatcher) Schedule(fn func())         { d.fns = append(d.fns, fn) }
func (d *heldDispatcher) Throughput() int            { return 300 }
func (d *heldDispatcher) runAll() {
	fns := d.fns
	d.fns = nil
	for _, fn := range fns {
		fn()
	}
}

// heldDispatcher keeps what is scheduled until runAll.
type heldDispatcher struct{ fns []func() }

// TestServeIdle checks the mailbox's path for a handle's request on an idle connection: it
// serves the request on the caller's goroutine only when nothing is queued, suspended or
// closed and the actor has started; hands the reply back without the channel; escalates a
// panic with its request; and leaves what was posted meanwhile to the dispatcher.
func TestServeIdle(t *testing.T) {
	newReq := func() *messages.Query { return &messages.Query{SQL: "x", ReplyTo: make(chan messages.Reply, 1)} }
	// serve answers as the actor's does: through directReply when the request is direct.
	answer := func(m *inlineMailbox, served *[]messages.Request) func(messages.Request) {
		return func(req messages.Request) {
			*served = append(*served, req)
			reply := &messages.Rows{Done: true}
			if req == m.direct {
				m.directReply = reply
			} else {
				req.ReplyChan() <- reply
			}
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(m *inlineMailbox)
	}{
		{"not started", func(m *inlineMailbox) { m.serve = nil }},
		{"user message queued", func(m *inlineMailbox) { m.user.push("queued"); m.userN.Add(1) }},
		{"system message queued", func(m *inlineMailbox) { m.system.push("sys"); m.systemN.Add(1) }},
		{"suspended", func(m *inlineMailbox) { m.suspend.Store(true) }},
		{"closed", func(m *inlineMailbox) { m.closed = true }},
		{"running", func(m *inlineMailbox) { m.status.Store(mailboxRunning) }},
	} {
		t.Run("declines when "+tc.name, func(t *testing.T) {
			var served []messages.Request
			m := &inlineMailbox{invoker: &recInvoker{}, dispatch: &heldDispatcher{}}
			m.serve = answer(m, &served)
			tc.setup(m)
			status := m.status.Load()
			if reply, ok := m.serveIdle(newReq()); ok || reply != nil || len(served) != 0 {
				t.Fatalf("serveIdle = %v, %v, and served %d requests: want a refusal that serves none", reply, ok, len(served))
			}
			if m.status.Load() != status || m.direct != nil {
				t.Fatalf("status %d → %d, direct %v: a refusal must leave the mailbox as it was", status, m.status.Load(), m.direct)
			}
		})
	}
	t.Run("serves an idle mailbox's request here", func(t *testing.T) {
		var served []messages.Request
		m := &inlineMailbox{invoker: &recInvoker{}, dispatch: &heldDispatcher{}}
		m.serve = answer(m, &served)
		req := newReq()
		reply, ok := m.serveIdle(req)
		if !ok || reply == nil || len(served) != 1 || served[0] != messages.Request(req) {
			t.Fatalf("serveIdle = %v, %v, served %v", reply, ok, served)
		}
		if len(req.ReplyTo) != 0 {
			t.Fatal("the reply went on the channel as well")
		}
		if m.status.Load() != mailboxIdle || m.direct != nil || m.directReply != nil {
			t.Fatal("the mailbox is not left idle and clean")
		}
	})
	t.Run("escalates a panic with its request", func(t *testing.T) {
		inv := &recInvoker{}
		m := &inlineMailbox{invoker: inv, dispatch: &heldDispatcher{}}
		m.serve = func(messages.Request) { panic("boom") }
		req := newReq()
		reply, ok := m.serveIdle(req)
		if !ok || reply != nil {
			t.Fatalf("serveIdle = %v, %v: want served, with no reply handed back", reply, ok)
		}
		if len(inv.escalated) != 1 || inv.escalated[0] != messages.Request(req) {
			t.Fatalf("escalated %v, want the request", inv.escalated)
		}
		if m.status.Load() != mailboxIdle || m.direct != nil {
			t.Fatal("the mailbox is not left idle and clean after a panic")
		}
	})
	t.Run("hands what was posted meanwhile to the dispatcher", func(t *testing.T) {
		inv := &recInvoker{}
		d := &heldDispatcher{}
		m := &inlineMailbox{invoker: inv, dispatch: d}
		var served []messages.Request
		serve := answer(m, &served)
		m.serve = func(req messages.Request) {
			m.PostUserMessage("posted meanwhile") // an actor's message: not run here
			serve(req)
		}
		if reply, ok := m.serveIdle(newReq()); !ok || reply == nil {
			t.Fatalf("serveIdle = %v, %v", reply, ok)
		}
		if len(inv.user) != 0 || len(d.fns) != 1 || m.status.Load() != mailboxRunning {
			t.Fatalf("ran %v here, scheduled %d, status %d: want the message left running for the dispatcher", inv.user, len(d.fns), m.status.Load())
		}
		d.runAll()
		if len(inv.user) != 1 || m.status.Load() != mailboxIdle {
			t.Fatalf("the dispatcher ran %v, status %d", inv.user, m.status.Load())
		}
	})
}
