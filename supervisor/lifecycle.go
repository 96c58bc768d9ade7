package supervisor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// OpenConn asks the supervisor to open a connection: the message form of [Supervisor.Open],
// for actors, which must not block their mailbox on an open. Send it to [Supervisor.PID]
// with Request or RequestFuture (ReenterAfter keeps the asking actor's Receive free while the
// database opens; [actors.Ask] takes only the requests of package messages); the supervisor
// answers the sender with a [*ConnOpened] once the database is open, or with the open's
// error. The open runs off the supervisor's mailbox too: other requests, other opens among
// them, are not held up by it. Sent without a sender (Send), an OpenConn could be answered to
// nobody: the supervisor opens nothing and logs a warning.
//
// A connection opened by message has no handle, so nothing closes it when garbage is
// collected: it lives until its PID receives a [messages.Close] (answered with a
// [*messages.Ack]; the actor then stops, and later requests to the PID get ErrClosed or a
// dead letter), or until [Supervisor.Stop], which closes it as any other. Message its PID
// with the requests of package messages (see [actors.Ask]); [Supervisor.Stats] counts it as
// any connection, and it is supervised as any: restarted after a crash, bounded by
// Config.MaxPending (an actor's request past it is answered at once with
// [messages.ErrOverloaded]). Once crashes spent its restart budget, its PID keeps answering
// every request with an error wrapping ErrClosed and ErrCrashed until it gets a Close (which
// frees its name) or Stop.
//
//	func (a *app) Receive(ctx actor.Context) {
//		switch m := ctx.Message().(type) {
//		case *actor.Started:
//			f := ctx.RequestFuture(a.sup, &supervisor.OpenConn{DSN: "app.db", Name: "app"}, 10*time.Second)
//			ctx.ReenterAfter(f, func(res any, err error) {
//				if r, ok := res.(*supervisor.ConnOpened); ok && r.Err == nil {
//					a.db = r.PID
//				}
//			})
//		case *addUser:
//			f := ctx.RequestFuture(a.db, &messages.Exec{SQL: "INSERT INTO users (name) VALUES (?)", Args: []any{m.name}}, 10*time.Second)
//			ctx.ReenterAfter(f, func(res any, err error) { /* res is a *messages.ExecReply */ })
//		}
//	}
type OpenConn struct {
	Ctx      context.Context // bounds the open (it is interrupted when Ctx is done); may be nil
	ID       uint64          // the caller's own, echoed in the reply to match it with its request
	Deadline time.Time       // when set, the open ends then, as if Ctx ended
	// DSN and Options are Supervisor.Open's dsn and opts.
	DSN     string
	Options []actors.Option
	// Name names the connection's actor "conn-"+Name under the supervisor, so that its PID
	// is known without the reply: [Supervisor.ConnPID](Name), which is the supervisor's PID
	// with "/conn-"+Name appended to its Id. It is 1 to 128 characters of A-Z, a-z, 0-9, '.',
	// '_' and '-' (else the reply's Err is an [*messages.ArgError], wrapping
	// [messages.ErrBadArgument]), and unique among the connections open now: a name in use
	// gets an error wrapping [actor.ErrNameExists]. A name is free again once its
	// connection stopped (and, for one that crashes stopped, got a Close); an OpenConn for
	// the name of a connection that is closing waits for it to stop (honouring Ctx and
	// Deadline). "" gives a generated name, as Open does.
	Name string
}

// ConnOpened answers [OpenConn]: PID is the connection actor's, nil with Err.
type ConnOpened struct {
	ID  uint64     // the request's ID
	PID *actor.PID // the connection, open; nil when Err is set
	DSN string     // the request's DSN
	// Err is the open's error: the database's (errors.Is [messages.ErrCantOpen] for a file
	// that cannot be opened), the Ctx's, a bad or used Name (see OpenConn.Name), or
	// [messages.ErrClosed] when the supervisor is stopping (a connection it opened
	// meanwhile is closed by Stop).
	Err error
}

// ReplyErr returns Err, as every reply of package messages does.
func (r *ConnOpened) ReplyErr() error { return r.Err }

// OpenPoolConns asks the supervisor to open the connections of a pool: the message form of
// [Supervisor.OpenPool], sent and answered (with a [*PoolOpened]) as [OpenConn] is. It opens
// a writer and Readers reader connections on DSN (0 means runtime.GOMAXPROCS(0)), each
// configured as OpenPool's: the writer with [actors.WithAutocommitOnly], the readers with
// [actors.WithQueryOnly] and a larger page cache; on a database not in WAL mode there are
// no readers (and a DSN that names no database they could share is refused with
// [messages.ErrBadArgument]).
//
// An actor does the pool's routing itself: writes and transactions (Begin, the requests
// inside it, Commit or Rollback) to Writer; reads to any of Readers (to Writer when there
// are none), as a [messages.Query] with ReadOnly set, which a reader runs only if SQLite
// deems the statement read-only and otherwise answers with [messages.ErrNotReadOnly],
// having run nothing. A reader refuses any write (query_only: [messages.ErrReadOnly]), and
// any statement that would change the connection for its next caller (PRAGMA, ATTACH,
// BEGIN: ErrNotReadOnly); the writer refuses SQL that would leave it inside a transaction
// other than a Begin request's ([messages.ErrInTransaction]), since others share it.
//
// With a Name (validated as OpenConn's), the writer is named Name+"-writer" and the readers
// Name+"-reader-"+i, i from 0 (see [Supervisor.ConnPID]). Each member lives until it gets a
// [messages.Close], or Stop. [Supervisor.Stats] counts the members as connections; its
// Pools lists only pools opened by OpenPool.
type OpenPoolConns struct {
	Ctx      context.Context // bounds the opens; may be nil
	ID       uint64          // echoed in the reply
	Deadline time.Time       // when set, the opens end then, as if Ctx ended
	DSN      string
	Readers  int
	Options  []actors.Option // for every member
	Name     string
}

// PoolOpened answers [OpenPoolConns]: Writer and Readers are nil with Err, and none of the
// pool's connections is left open.
type PoolOpened struct {
	ID      uint64       // the request's ID
	Writer  *actor.PID   // the writer connection
	Readers []*actor.PID // the readers, in name order; empty when the database is not in WAL mode
	DSN     string       // the request's DSN
	Err     error        // as ConnOpened's, or a bad Readers count (ErrBadArgument)
}

// ReplyErr returns Err, as every reply of package messages does.
func (r *PoolOpened) ReplyErr() error { return r.Err }

// ConnPID returns the PID of the connection opened by message under name ([OpenConn].Name;
// for a pool's members, name+"-writer" and name+"-reader-"+i): the supervisor's PID with
// "/conn-"+name appended to its Id. It says nothing of whether that connection is open: a
// request to a connection that is not is a dead letter.
func (s *Supervisor) ConnPID(name string) *actor.PID {
	return actor.NewPID(s.pid.Address, s.pid.Id+"/conn-"+name)
}

// openRequest is OpenConn or OpenPoolConns.
type openRequest interface {
	context() (context.Context, time.Time)
	target() string
	name() string
	// failed returns the request's reply carrying err.
	failed(err error) any
	// run opens what the request asks for, off the supervisor actor's mailbox, and returns
	// the reply; ctx is done when the request's Ctx is, or Stop begins.
	run(ctx context.Context, s *Supervisor) any
}

var (
	_ openRequest = (*OpenConn)(nil)
	_ openRequest = (*OpenPoolConns)(nil)
)

func (m *OpenConn) context() (context.Context, time.Time) { return m.Ctx, m.Deadline }
func (m *OpenConn) target() string                        { return m.DSN }
func (m *OpenConn) name() string                          { return m.Name }
func (m *OpenConn) failed(err error) any                  { return &ConnOpened{ID: m.ID, DSN: m.DSN, Err: err} }

func (m *OpenConn) run(ctx context.Context, s *Supervisor) any {
	ch, err := s.openChild(ctx, m.DSN, m.Name, m.Options)
	if err = s.stoppedMeanwhile(ctx, m.DSN, err); err != nil {
		return m.failed(err)
	}
	return &ConnOpened{ID: m.ID, PID: ch.PID(), DSN: m.DSN}
}

func (m *OpenPoolConns) context() (context.Context, time.Time) { return m.Ctx, m.Deadline }
func (m *OpenPoolConns) target() string                        { return m.DSN }
func (m *OpenPoolConns) name() string                          { return m.Name }
func (m *OpenPoolConns) failed(err error) any                  { return &PoolOpened{ID: m.ID, DSN: m.DSN, Err: err} }

func (m *OpenPoolConns) run(ctx context.Context, s *Supervisor) any {
	w, rs, err := s.openPoolChildren(ctx, m.DSN, m.Readers, m.Name, m.Options)
	if err = s.stoppedMeanwhile(ctx, m.DSN, err); err != nil {
		return m.failed(err)
	}
	r := &PoolOpened{ID: m.ID, Writer: w.PID(), Readers: make([]*actor.PID, len(rs)), DSN: m.DSN}
	for i, ch := range rs {
		r.Readers[i] = ch.PID()
	}
	return r
}

// receiveOpen serves an OpenConn or OpenPoolConns on the supervisor actor's goroutine: it
// checks the request and starts the open on a goroutine of its own, which answers the sender
// when it is done. The actor never waits for a database.
func (s *Supervisor) receiveOpen(actx actor.Context, m openRequest) {
	if actx.Sender() == nil {
		s.logger.Warn("actorlite: OpenConn or OpenPoolConns sent without a sender, so ignored: nobody could be told of the connection; send it with Request or RequestFuture",
			"type", fmt.Sprintf("%T", m), "dsn", m.target())
		return
	}
	if err := checkName(m.name()); err != nil {
		actx.Respond(m.failed(fmt.Errorf("open %s: %w", m.target(), err)))
		return
	}
	ctx, deadline := m.context()
	ctx, done, err := s.beginOpen(ctx, deadline)
	if err != nil {
		actx.Respond(m.failed(fmt.Errorf("open %s: %w", m.target(), err)))
		return
	}
	sender := actx.Sender()
	go func() {
		defer done()
		// Before done: Stop waits for it, so the actor system is still there to carry it.
		s.sys.Root.Send(sender, m.run(ctx, s))
	}()
}

// maxName is the longest name OpenConn accepts.
const maxName = 128

// checkName returns an *messages.ArgError unless name is "" or 1 to maxName characters of
// A-Z, a-z, 0-9, '.', '_' and '-'. (A generated name starts with '$': it never collides.)
func checkName(name string) error {
	if len(name) > maxName {
		return &messages.ArgError{Reason: fmt.Sprintf("connection name of %d bytes: at most %d", len(name), maxName)}
	}
	for i := range len(name) {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return &messages.ArgError{Reason: fmt.Sprintf("connection name %q: only A-Z, a-z, 0-9, '.', '_' and '-' are allowed", name)}
		}
	}
	return nil
}

// nameInUse is the error of an open under the name of a connection that is open.
func nameInUse(name string) error {
	return fmt.Errorf("connection name %q is in use (a name is free once its connection stopped, and, if crashes stopped it, got a Close): %w", name, actor.ErrNameExists)
}

// opening is the state of the opens by message under way.
type opening struct {
	wg sync.WaitGroup // one per open under way; Add under Supervisor.mu, only before stopping
	// The rest is guarded by Supervisor.mu.
	halt    context.Context // done once Stop begins; made by the first open
	cancel  context.CancelFunc
	waiters map[string][]chan struct{} // by PID id: opens waiting for a closing connection's name
}

// errHalted is the cause of the ctx of an open that Stop cut short.
var errHalted = fmt.Errorf("supervisor stopping: %w", messages.ErrClosed)

// beginOpen registers an open by message, unless the supervisor is stopping, and returns
// its ctx (done when reqCtx is, at deadline if set, or when Stop begins) and the func that
// ends it.
func (s *Supervisor) beginOpen(reqCtx context.Context, deadline time.Time) (context.Context, func(), error) {
	if reqCtx == nil {
		reqCtx = context.Background()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, nil, messages.ErrClosed
	}
	if s.opening.halt == nil {
		s.opening.halt, s.opening.cancel = context.WithCancel(context.Background())
	}
	s.opening.wg.Add(1)
	ctx, cancel := context.WithCancelCause(reqCtx)
	unhook := context.AfterFunc(s.opening.halt, func() { cancel(errHalted) })
	end := func() {
		unhook()
		cancel(nil)
		s.opening.wg.Done()
	}
	if !deadline.IsZero() {
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, deadline)
		end = func() {
			cancelDeadline()
			unhook()
			cancel(nil)
			s.opening.wg.Done()
		}
	}
	return ctx, end, nil
}

// haltOpens cuts short the opens by message under way and waits for them to answer. Stop
// calls it once stopping is set, before it lists the connections to close: an open that
// spawned its connection did so before, and Stop closes it with the others.
func (s *Supervisor) haltOpens() {
	s.mu.Lock()
	cancel := s.opening.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.opening.wg.Wait()
}

// stoppedMeanwhile returns the error an open by message answers with: err, or ErrClosed once
// Stop began (which closes whatever the open had opened by then).
func (s *Supervisor) stoppedMeanwhile(ctx context.Context, dsn string, err error) error {
	if errors.Is(context.Cause(ctx), errHalted) || (err == nil && s.isStopping()) {
		return fmt.Errorf("open %s: %w", dsn, errHalted)
	}
	return err
}

// awaitName returns once no connection has the given name: at once if none has it, an error
// wrapping actor.ErrNameExists if an open one has, else (one that is closing) once the
// supervisor has seen that connection stop, so that its name can be spawned again.
func (s *Supervisor) awaitName(ctx context.Context, name string) error {
	id := s.ConnPID(name).Id
	s.mu.Lock()
	ch := s.children[id]
	if ch == nil {
		s.mu.Unlock()
		return nil
	}
	if !ch.Closing() || ch.Abandoned() { // open, or stopping for good: its PID stays taken until a Close
		s.mu.Unlock()
		return nameInUse(name)
	}
	freed := make(chan struct{})
	if s.opening.waiters == nil {
		s.opening.waiters = make(map[string][]chan struct{})
	}
	s.opening.waiters[id] = append(s.opening.waiters[id], freed)
	s.mu.Unlock()
	select {
	case <-freed:
		return nil
	case <-ctx.Done(): // freed stays in waiters until the name is freed: a closing connection stops
		return fmt.Errorf("waiting for connection %q to stop: %w", name, context.Cause(ctx))
	case <-s.stopped:
		return messages.ErrClosed
	}
}

// freeName wakes the opens waiting for the name of the connection id, which stopped: the
// supervisor actor calls it, holding Supervisor.mu, when it removes the connection.
func (s *Supervisor) freeName(id string) {
	for _, ch := range s.opening.waiters[id] {
		close(ch)
	}
	delete(s.opening.waiters, id)
}
