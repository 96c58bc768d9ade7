package actors

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// inlineMailbox is protoactor's default mailbox with one more way in: postInline, which a
// handle (a goroutine that would only park on its reply channel) uses to run the actor on its
// own goroutine when the mailbox is idle, instead of waking the connection's loop goroutine
// and then being woken by the reply. On a 2-core machine that hand-off between CPUs was the
// larger part of the actor's cost per request.
//
// Everything else is as in protoactor's mailbox: one message at a time (the idle→running CAS
// elects a single runner), system messages first, suspension while a failure is handled, a
// panic escalated to the supervisor with the message that caused it. Messages from actors (and
// anything posted while the mailbox runs) go through PostUserMessage and the dispatcher, so an
// actor that sends a request never runs the connection on its own goroutine.
type inlineMailbox struct {
	mu      sync.Mutex
	user    queue
	system  queue
	status  atomic.Int32 // mailboxIdle or mailboxRunning
	userN   atomic.Int32
	systemN atomic.Int32
	suspend atomic.Bool
	// lazyStart leaves the Started message queued, unscheduled, for whatever comes next to
	// run first: the connection's first request (on its caller's goroutine, when it runs
	// inline), or a stop. Set for an actor whose start has no work worth a goroutine hop.
	lazyStart atomic.Bool
	invoker   actor.MessageInvoker
	dispatch  actor.Dispatcher
}

const (
	mailboxIdle int32 = iota
	mailboxRunning
)

var _ actor.Mailbox = (*inlineMailbox)(nil)

// queue is a FIFO of messages; callers hold the mailbox's mutex.
type queue struct {
	items []any
	head  int
}

func (q *queue) push(m any) { q.items = append(q.items, m) }

func (q *queue) pop() any {
	if q.head == len(q.items) {
		return nil
	}
	m := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return m
}

// PostUserMessage queues a user message and schedules the mailbox on its dispatcher.
func (m *inlineMailbox) PostUserMessage(msg any) {
	m.pushUser(msg)
	m.schedule()
}

// postInline queues a user message and, if the mailbox was idle, runs it on the calling
// goroutine until answered reports the caller's reply arrived; whatever is queued then goes to
// the dispatcher, so a caller never runs other callers' requests after its own. Only handles
// call it.
func (m *inlineMailbox) postInline(msg any, answered func() bool) {
	m.pushUser(msg)
	if !m.status.CompareAndSwap(mailboxIdle, mailboxRunning) {
		return // the goroutine running the mailbox will serve it
	}
	m.run(answered)
	if answered() && (m.systemN.Load() > 0 || m.userN.Load() > 0) {
		m.dispatch.Schedule(m.processMessages) // still running: the loop goroutine takes over
		return
	}
	m.status.Store(mailboxIdle)
	if m.systemN.Load() > 0 || (!m.suspend.Load() && m.userN.Load() > 0) {
		m.schedule()
	}
}

func (m *inlineMailbox) pushUser(msg any) {
	m.mu.Lock()
	m.user.push(msg)
	m.mu.Unlock()
	m.userN.Add(1)
}

// PostSystemMessage queues a system message and schedules the mailbox (except a lazy start).
func (m *inlineMailbox) PostSystemMessage(msg any) {
	m.mu.Lock()
	m.system.push(msg)
	m.mu.Unlock()
	m.systemN.Add(1)
	if _, ok := msg.(*actor.Started); ok && m.lazyStart.CompareAndSwap(true, false) {
		return
	}
	m.schedule()
}

// RegisterHandlers sets who handles the messages and what runs the mailbox.
func (m *inlineMailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.invoker, m.dispatch = invoker, dispatcher
}

// Start does nothing: the mailbox has no middleware.
func (m *inlineMailbox) Start() {}

// UserMessageCount returns the user messages queued.
func (m *inlineMailbox) UserMessageCount() int { return int(m.userN.Load()) }

func (m *inlineMailbox) schedule() {
	if m.status.CompareAndSwap(mailboxIdle, mailboxRunning) {
		m.dispatch.Schedule(m.processMessages)
	}
}

func (m *inlineMailbox) processMessages() {
	for {
		m.run(nil)
		m.status.Store(mailboxIdle)
		// Messages posted after run saw the queues empty: run again if nobody else will.
		if m.systemN.Load() > 0 || (!m.suspend.Load() && m.userN.Load() > 0) {
			if m.status.CompareAndSwap(mailboxIdle, mailboxRunning) {
				continue
			}
		}
		return
	}
}

func (m *inlineMailbox) popSystem() any {
	if m.systemN.Load() == 0 {
		return nil
	}
	m.mu.Lock()
	msg := m.system.pop()
	m.mu.Unlock()
	if msg != nil {
		m.systemN.Add(-1)
	}
	return msg
}

func (m *inlineMailbox) popUser() any {
	if m.userN.Load() == 0 {
		return nil
	}
	m.mu.Lock()
	msg := m.user.pop()
	m.mu.Unlock()
	if msg != nil {
		m.userN.Add(-1)
	}
	return msg
}

// run serves system messages first, then user messages, until the queues are empty, the
// mailbox is suspended, or stop (if not nil) reports true after a user message.
func (m *inlineMailbox) run(stop func() bool) {
	var msg any
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
		}
	}()
	i, t := 0, m.dispatch.Throughput()
	for {
		if i > t {
			i = 0
			runtime.Gosched()
		}
		i++
		if msg = m.popSystem(); msg != nil {
			switch msg.(type) {
			case *actor.SuspendMailbox:
				m.suspend.Store(true)
			case *actor.ResumeMailbox:
				m.suspend.Store(false)
			default:
				m.invoker.InvokeSystemMessage(msg)
			}
			continue
		}
		if m.suspend.Load() {
			return
		}
		if msg = m.popUser(); msg == nil {
			return
		}
		m.invoker.InvokeUserMessage(msg)
		if stop != nil && stop() {
			return
		}
	}
}
