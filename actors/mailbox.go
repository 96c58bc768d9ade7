package actors

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// inlineMailbox is protoactor's default mailbox with two more ways in for a handle (a
// goroutine that would only park on its reply channel): serveIdle and postInline run the
// actor on the handle's own goroutine when the mailbox is idle, instead of waking the
// connection's loop goroutine and then being woken by the reply. On a 2-core machine that
// hand-off between CPUs was the larger part of the actor's cost per request. serveIdle,
// when nothing is queued, serves the request without queueing it; postInline queues it.
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
	// serve, once the actor set it, serves a handle's request (one with a ReplyTo channel,
	// posted bare) in place of protoactor's invoker: see run.
	serve func(messages.Request)
	// direct is the request a handle's call is serving on its own goroutine through
	// serveIdle, and directReply the reply serve left for it here rather than on its ReplyTo
	// channel. Only the mailbox's runner touches them.
	direct      messages.Request
	directReply messages.Reply

	// admit, when set, is asked about every message posted by PostUserMessage (an actor's,
	// not a handle's inline call) before it queues: it answers and refuses one past the
	// connection's bounds. refuse answers a message that can no longer be served: posted
	// after close, or left queued when the actor stopped. closed is set, under mu, by close.
	admit  func(msg any) bool
	refuse func(msg any)
	closed bool
}

const (
	mailboxIdle int32 = iota
	mailboxRunning
)

var _ actor.Mailbox = (*inlineMailbox)(nil)

// queue is a FIFO of messages in a ring buffer; callers hold the mailbox's mutex. Its memory
// follows how many messages it holds: it grows by doubling when full, and halves once it is
// at most a quarter full (down to minQueue), so that neither a queue that is never empty under
// sustained load nor a burst that has drained keeps more than it needs.
type queue struct {
	buf  []any // len is 0 or a power of two
	head int   // index of the oldest message
	n    int   // messages held
}

// minQueue is the smallest ring a queue shrinks to.
const minQueue = 16

func (q *queue) push(m any) {
	if q.n == len(q.buf) {
		q.resize(max(minQueue, 2*len(q.buf)))
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = m
	q.n++
}

func (q *queue) pop() any {
	if q.n == 0 {
		return nil
	}
	m := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	if len(q.buf) > minQueue && q.n <= len(q.buf)/4 {
		q.resize(len(q.buf) / 2)
	}
	return m
}

// resize moves the messages to a ring of size (a power of two, at least q.n).
func (q *queue) resize(size int) {
	buf := make([]any, size)
	if q.n > 0 {
		if end := q.head + q.n; end <= len(q.buf) {
			copy(buf, q.buf[q.head:end])
		} else {
			k := copy(buf, q.buf[q.head:])
			copy(buf[k:], q.buf[:end-len(q.buf)])
		}
	}
	q.buf, q.head = buf, 0
}

// PostUserMessage queues a user message and schedules the mailbox on its dispatcher: unless
// admit refuses it (and answers it), or the mailbox is closed (refuse answers it).
func (m *inlineMailbox) PostUserMessage(msg any) {
	if m.admit != nil && !m.admit(msg) {
		return
	}
	if !m.pushUser(msg) {
		m.refuse(msg)
		return
	}
	m.schedule()
}

// postInline queues a user message and, if the mailbox was idle, runs it on the calling
// goroutine until answered reports the caller's reply arrived; whatever is queued then goes to
// the dispatcher, so a caller never runs other callers' requests after its own. Only handles
// call it.
func (m *inlineMailbox) postInline(msg any, answered func() bool) {
	if !m.pushUser(msg) {
		m.refuse(msg)
		return
	}
	if !m.status.CompareAndSwap(mailboxIdle, mailboxRunning) {
		return // the goroutine running the mailbox will serve it
	}
	m.run(answered)
	m.leave(answered())
}

// serveIdle serves req, a handle's request, on the calling goroutine when the actor has
// started and its mailbox is idle with nothing queued (no message, not suspended, not
// closed): what postInline would then do, but without queueing req, and with the reply
// handed back here rather than sent on req's ReplyTo channel. Atomic operations, each a full
// memory barrier, are most of what the mailbox costs a point select; this path takes two,
// where queueing takes eight and the channel four more.
//
// It returns ok false, having done nothing, when the mailbox is not in that state (the caller
// then posts req with postInline), and a nil reply with ok true when req was answered on its
// channel instead: the request crashed the actor.
func (m *inlineMailbox) serveIdle(req messages.Request) (reply messages.Reply, ok bool) {
	if m.userN.Load() != 0 || m.systemN.Load() != 0 || !m.status.CompareAndSwap(mailboxIdle, mailboxRunning) {
		return nil, false
	}
	// The runner now: serve, suspend and closed are ours to read.
	if m.serve == nil || m.closed || m.suspend.Load() || m.userN.Load() != 0 || m.systemN.Load() != 0 {
		m.leave(false) // anything posted since the check above was not scheduled: see to it
		return nil, false
	}
	m.direct = req
	m.serveOne(req)
	reply, m.direct, m.directReply = m.directReply, nil, nil
	m.leave(true)
	return reply, true
}

// serveOne serves a handle's request as run does: a panic that escapes serve goes to the
// supervisor with the request.
func (m *inlineMailbox) serveOne(req messages.Request) {
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, req)
		}
	}()
	m.serve(req)
}

// leave ends a run on a handle's goroutine. What was posted meanwhile goes to the dispatcher:
// handed on with the mailbox still running when the caller's reply is in (answered), since
// the caller must not go on to serve other callers' requests; else the mailbox goes idle, and
// is scheduled if a message came after run saw the queues empty.
func (m *inlineMailbox) leave(answered bool) {
	if answered && (m.systemN.Load() > 0 || m.userN.Load() > 0) {
		m.dispatch.Schedule(m.processMessages) // still running: the loop goroutine takes over
		return
	}
	m.status.Store(mailboxIdle)
	if m.systemN.Load() > 0 || (!m.suspend.Load() && m.userN.Load() > 0) {
		m.schedule()
	}
}

// pushUser queues msg, unless the mailbox is closed.
func (m *inlineMailbox) pushUser(msg any) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.user.push(msg)
	m.mu.Unlock()
	m.userN.Add(1)
	return true
}

// close closes the mailbox for user messages and returns what was left queued: the actor
// stopped, and they will never be served. Whatever is posted afterwards goes to refuse.
func (m *inlineMailbox) close() []any {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	left := make([]any, 0, m.user.n)
	for msg := m.user.pop(); msg != nil; msg = m.user.pop() {
		left = append(left, msg)
	}
	m.userN.Add(-int32(len(left))) // not Store(0): a push may not have counted itself yet
	return left
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
		if req, ok := msg.(messages.Request); ok && m.serve != nil && req.ReplyChan() != nil {
			// A handle's request goes straight to the actor: protoactor's invoker would only
			// find the actor through its context, props and metrics extension, and set a
			// sender that a request answered on its ReplyTo channel never reads.
			m.serve(req)
		} else {
			m.invoker.InvokeUserMessage(msg)
		}
		if stop != nil && stop() {
			return
		}
	}
}
