package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// Config configures a Supervisor. The zero Config is valid: a new actor system, 10 restarts per
// connection within 10s, 1024 requests in flight per connection, no logging, no events.
type Config struct {
	// System is the actor system to join. nil: Start creates one, and Stop shuts it down; a
	// system of the caller's is left running by Stop.
	System *actor.ActorSystem
	// MaxRestarts is how many restarts a connection gets within RestartWindow; the next crash
	// in the window stops it for good. 0 means 10; negative means no restart at all.
	MaxRestarts int
	// RestartWindow is the window MaxRestarts counts in. 0 means 10s.
	RestartWindow time.Duration
	// MaxPending bounds the requests in flight per connection, from handles and actors
	// together; further callers wait (honouring their ctx), and an actor's request, which must
	// not block, is answered at once with messages.ErrOverloaded. 0 means 1024.
	MaxPending int
	// MaxPendingBytes bounds, per connection, the bytes in flight of large requests: those
	// whose SQL text and text and blob arguments add up to actors.LargeRequest (64 KiB) or
	// more; smaller ones are bounded by MaxPending alone. 0 means 64 MiB: a connection then
	// holds at most 64 MiB of large requests and 64 MiB (1,024 × 64 KiB) of small ones, also
	// when their callers gave up. A request larger than the bound runs once no other large one
	// is in flight.
	MaxPendingBytes int
	// Logger receives crashes (one record each, with its stack and what followed: a restart
	// or a stop), and protoactor's own logs when Start creates the system. nil: the logger of
	// System when one is given, else discard.
	Logger *slog.Logger
	// Events configures the analytics events store. Zero: events disabled.
	Events EventsConfig
}

// EventsConfig configures the analytics events writer (see [Supervisor.InsertEvent]).
type EventsConfig struct {
	DSN       string        // database file for the events table; "" disables events
	Table     string        // "" means "events"
	MaxBatch  int           // events per commit; 0 means 1024
	MaxDelay  time.Duration // longest an event waits for its batch; 0 means 2ms
	MaxQueued int           // events queued before InsertEvent waits; 0 means 65536
	// MaxQueuedBytes bounds the events queued in bytes too (UserID, Name, Properties and
	// timestamp, plus 64 bytes per event): 0 means 64 MiB, at most 1 GiB. A call larger than
	// this is refused whole with an EventError (Index -1). Actors' calls that find the queue
	// full wait in an overflow bounded the same way; beyond it they get ErrOverloaded.
	MaxQueuedBytes int
	// Options apply to the writer's own connection: e.g. actors.WithSynchronous("FULL") for
	// power-loss durability of acknowledged events, actors.WithBusyTimeout. The readers of
	// EventsPool get them too.
	Options []actors.Option
	// Readers is how many query-only connections Supervisor.EventsPool opens on the events
	// store, on its first call; 0 (or less) means runtime.GOMAXPROCS(0).
	Readers int
}

// Stats are the supervisor's counters since Start.
type Stats struct {
	Restarts        int64 // connection restarts after a crash
	Crashes         int64 // crashes of connection (and events writer) actors
	Stopped         int64 // connections stopped for good after spending their restart budget
	OpenConns       int64 // connections open now
	Opened          int64 // connections opened since Start
	EventsCommitted int64 // events committed by the events writer
	EventBatches    int64 // transactions the events writer committed
	EventsFailed    int64 // events whose callers got an error after they were queued
	EventsQueued    int64 // events waiting for their batch now
	// EventsDuplicates counts the events acknowledged without a row of their own: an event
	// with its IdempotencyKey was stored already (they count in EventsCommitted too).
	EventsDuplicates int64

	Pools []actors.PoolStats // per open pool (see OpenPool)
}

// Supervisor is the entry point of actorlite: it owns the supervising parent actor of every
// connection it opens. It is safe for concurrent use.
type Supervisor struct {
	cfg    Config
	sys    *actor.ActorSystem
	ownSys bool
	pid    *actor.PID
	logger *slog.Logger

	mu       sync.Mutex
	children map[string]*actors.Child    // by PID id
	tombs    []*actors.Child             // stopped after a crash: their PIDs answer until Stop
	pools    []weak.Pointer[actors.Pool] // see poolStats
	writers  map[string]*sharedWriter    // by database file: the writer its pools share (pool.go)
	stopping bool

	stopOnce sync.Once
	stopErr  error
	stopped  chan struct{}
	orphaned chan struct{} // closed once stopping and every connection child has terminated
	orphan   sync.Once

	restarts, crashes, abandoned, openConns, opened atomic.Int64

	events *eventsRouter

	opening opening // opens by message under way (lifecycle.go)
}

// Start starts a supervisor: it creates (or joins) an actor system and spawns the supervising
// actor. ctx bounds the start.
func Start(ctx context.Context, cfg Config) (*Supervisor, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if cfg.MaxRestarts == 0 {
		cfg.MaxRestarts = 10
	}
	if cfg.RestartWindow <= 0 {
		cfg.RestartWindow = 10 * time.Second
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 1024
	}
	logger := cfg.Logger
	if logger == nil {
		if cfg.System != nil {
			logger = cfg.System.Logger()
		} else {
			logger = slog.New(slog.DiscardHandler)
		}
	}
	s := &Supervisor{
		cfg: cfg, sys: cfg.System, logger: logger,
		children: make(map[string]*actors.Child),
		stopped:  make(chan struct{}),
		orphaned: make(chan struct{}),
	}
	if s.sys == nil {
		s.ownSys = true
		s.sys = newActorSystem(logger)
	}
	pid, err := s.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &supActor{s: s} }),
		"actorlite-supervisor-"+s.sys.ProcessRegistry.NextId())
	if err != nil {
		if s.ownSys {
			s.sys.Shutdown()
		}
		return nil, fmt.Errorf("start: %w", err)
	}
	s.pid = pid
	if err := s.startEvents(ctx); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	return s, nil
}

// PID returns the supervising actor's PID. Actors send it [messages.InsertEvents].
func (s *Supervisor) PID() *actor.PID { return s.pid }

// System returns the actor system the supervisor runs in.
func (s *Supervisor) System() *actor.ActorSystem { return s.sys }

// Stats returns the supervisor's counters.
func (s *Supervisor) Stats() Stats {
	st := Stats{
		Restarts: s.restarts.Load(), Crashes: s.crashes.Load(), Stopped: s.abandoned.Load(),
		OpenConns: s.openConns.Load(), Opened: s.opened.Load(),
		Pools: s.poolStats(),
	}
	if e := s.events; e != nil {
		st.Crashes += e.crashes.Load()
		st.Restarts += e.restarts.Load()
		st.EventsCommitted = e.committed.Load()
		st.EventBatches = e.batches.Load()
		st.EventsFailed = e.failed.Load()
		st.EventsQueued = e.queued.Load()
		st.EventsDuplicates = e.duplicates.Load()
	}
	return st
}

// spawnConn asks the supervising actor to spawn a connection child, named "conn-"+name, or
// "conn-" and a generated id when name is "".
type spawnConn struct {
	child *actors.Child
	name  string
	reply chan error
}

// Open opens a connection to dsn as a supervised connection actor and returns its handle,
// once the database is open (or the open error, with a nil Conn). dsn is a file path, a
// "file:" URI, ":memory:" (lost on a restart after a crash), or "file:/name?vfs=memdb" (an
// in-memory database that survives restarts). The defaults are WAL, synchronous=NORMAL,
// busy_timeout=5s and foreign_keys=ON; opts change them. Actors open connections without
// blocking with an [OpenConn] message instead.
func (s *Supervisor) Open(ctx context.Context, dsn string, opts ...actors.Option) (*actors.Conn, error) {
	child, err := s.openChild(ctx, dsn, "", opts)
	if err != nil {
		return nil, err
	}
	return child.NewHandle(), nil
}

// openChild opens dsn on the calling goroutine, which would otherwise only wait for it, then
// has the supervising actor spawn the connection actor that adopts the open database, named
// as spawnConn says. It returns the bound child once the database is open, or the open's
// error. Open and the opens by message (lifecycle.go) share it.
func (s *Supervisor) openChild(ctx context.Context, dsn, name string, opts []actors.Option) (*actors.Child, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if s.isStopping() {
		return nil, fmt.Errorf("open %s: %w", dsn, messages.ErrClosed)
	}
	if name != "" {
		if err := s.awaitName(ctx, name); err != nil {
			return nil, fmt.Errorf("open %s: %w", dsn, err)
		}
	}
	var child *actors.Child
	child = actors.NewChild(actors.ChildConfig{
		System: s.sys, MaxPending: s.cfg.MaxPending, MaxPendingBytes: s.cfg.MaxPendingBytes, Logger: s.logger,
		OnCrash: func(c *actors.Crash) { s.childCrashed(child, c) },
	}, dsn, opts...)
	// The actor adopts the connection when it starts.
	if err := child.Open(ctx); err != nil {
		child.Discard()
		return nil, fmt.Errorf("open %s: %w", dsn, err)
	}
	req := &spawnConn{child: child, name: name, reply: make(chan error, 1)}
	// Checked and sent under the lock stop sets stopping with: a spawn request is either in
	// the supervisor actor's mailbox before stop's own messages, or never sent (never a dead
	// letter for an actor that stopped meanwhile).
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		child.Discard()
		return nil, fmt.Errorf("open %s: %w", dsn, messages.ErrClosed)
	}
	s.sys.Root.Send(s.pid, req)
	s.mu.Unlock()
	select {
	case err := <-req.reply:
		if err != nil {
			child.Discard()
			if errors.Is(err, actor.ErrNameExists) {
				err = nameInUse(name)
			}
			return nil, fmt.Errorf("open %s: %w", dsn, err)
		}
	case <-s.stopped:
		// Either the supervisor spawned the child before it stopped (its stop closed the
		// child and the database), or the request was never served.
		select {
		case err := <-req.reply:
			if err != nil {
				child.Discard()
			}
		default:
			child.Discard()
		}
		return nil, fmt.Errorf("open %s: %w", dsn, messages.ErrClosed)
	}
	return child, nil
}

func (s *Supervisor) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

func (s *Supervisor) child(pid *actor.PID) *actors.Child {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.children[pid.Id]
}

// Stop stops the supervisor: requests already sent are served, queued events are flushed, then
// every connection is closed (those opened by message too; opens by message under way are cut
// short and answered with ErrClosed); later calls return [messages.ErrClosed]. With a done
// ctx it still closes every file (interrupting what runs) and returns the ctx error. Stop is
// idempotent and safe to call concurrently; with Config.System supplied, the actor system is
// left running.
func (s *Supervisor) Stop(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	<-s.stopped
	return s.stopErr
}

func (s *Supervisor) stop(ctx context.Context) error {
	defer close(s.stopped)
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.haltOpens()
	var errs []error
	if err := s.stopEvents(ctx); err != nil {
		errs = append(errs, err)
	}
	// Spawns the actor accepted before s.stopping was set are in its mailbox before this.
	list := make(chan []*actors.Child, 1)
	s.sys.Root.Send(s.pid, &listChildren{reply: list})
	children := <-list
	var wg sync.WaitGroup
	for _, ch := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ch.Close(ctx); err != nil && ctx.Err() != nil {
				ch.Interrupt() // ctx is done: stop now, interrupting what runs
				s.sys.Root.Stop(ch.PID())
				<-ch.Done()
			}
		}()
	}
	wg.Wait()
	// Each closed connection told the supervisor actor it terminated; wait for that, or its
	// own stop would send Stop to children already gone (dead letters).
	s.sys.Root.Send(s.pid, &listChildren{reply: list})
	if len(<-list) == 0 {
		s.orphan.Do(func() { close(s.orphaned) })
	}
	<-s.orphaned
	s.mu.Lock()
	tombs := s.tombs
	s.tombs = nil
	s.mu.Unlock()
	for _, ch := range tombs {
		ch.Bury()
	}
	if err := s.sys.Root.StopFuture(s.pid).Wait(); err != nil {
		errs = append(errs, fmt.Errorf("stopping the supervisor actor: %w", err))
	}
	if s.ownSys {
		s.sys.Shutdown()
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("stop: %w", err))
	}
	return errors.Join(errs...)
}

type listChildren struct{ reply chan []*actors.Child }

// supActor is the supervising parent of every connection actor (and of the events writer).
// It is also their supervisor strategy: HandleFailure runs on its goroutine.
type supActor struct{ s *Supervisor }

var (
	_ actor.Actor              = (*supActor)(nil)
	_ actor.SupervisorStrategy = (*supActor)(nil)
)

func (a *supActor) Receive(ctx actor.Context) {
	s := a.s
	switch m := ctx.Message().(type) {
	case *spawnConn:
		s.mu.Lock()
		stopping := s.stopping
		s.mu.Unlock()
		if stopping {
			m.reply <- messages.ErrClosed
			return
		}
		name := m.name
		if name == "" {
			name = s.sys.ProcessRegistry.NextId() // "$…": never a name OpenConn accepts
		}
		pid, err := ctx.SpawnNamed(m.child.Props(), "conn-"+name)
		if err != nil {
			m.reply <- err
			return
		}
		m.child.Bind(pid)
		s.mu.Lock()
		s.children[pid.Id] = m.child
		s.mu.Unlock()
		s.openConns.Add(1)
		s.opened.Add(1)
		m.reply <- nil
	case *listChildren:
		s.mu.Lock()
		list := make([]*actors.Child, 0, len(s.children))
		for _, ch := range s.children {
			list = append(list, ch)
		}
		s.mu.Unlock()
		m.reply <- list
	case *actor.Terminated:
		s.mu.Lock()
		_, ok := s.children[m.Who.Id]
		delete(s.children, m.Who.Id)
		s.freeName(m.Who.Id)
		gone := s.stopping && len(s.children) == 0
		s.mu.Unlock()
		if ok {
			s.openConns.Add(-1)
		}
		if gone {
			s.orphan.Do(func() { close(s.orphaned) })
		}
	case *messages.InsertEvents:
		s.routeEvents(ctx, m)
	case eventsMessage:
		s.receiveEvents(ctx, m)
	case openRequest:
		s.receiveOpen(ctx, m)
	case messages.Request: // a connection's request, sent here by mistake
		actors.Deliver(ctx, m, ctx.Sender(), m.ErrorReply(fmt.Errorf(
			"%w: %T sent to the supervisor, which takes only messages.InsertEvents, OpenConn and OpenPoolConns; send it to a connection's PID",
			messages.ErrUnknownRequest, m)))
	case actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		actors.AnswerUnknown(ctx, s.logger, "the supervisor")
	}
}

// HandleFailure applies the supervisor's decision to a child that crashed: restart it, or stop
// it for good once it crashed more than MaxRestarts times within RestartWindow. A request that
// crashed a connection was answered, and its crash counted and decided, by the connection itself
// (childCrashed) before the failure came here; a panic elsewhere (rare: outside any request) is
// counted and answered here. Each crash is logged once, with its stack and the decision, and
// published on the system's EventStream as an *actor.SupervisorEvent.
func (a *supActor) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	rs *actor.RestartStatistics, reason, message any) {
	s := a.s
	if s.events != nil && s.events.isWriter(child) {
		s.events.handleFailure(sys, sup, child, rs, reason, message)
		return
	}
	ch := s.child(child)
	dsn := ""
	if ch != nil {
		dsn = ch.DSN()
	}
	crashErr, stack := crashOf(dsn, reason)
	if _, answered := reason.(*actors.Crash); !answered {
		s.crashes.Add(1)
		if _, msg, _ := actor.UnwrapEnvelope(message); isClose(msg) {
			// It crashed while closing: stop it as Close asked (its Stopping closes what is
			// left). A restart would leave Close waiting for a stop that never comes.
			answerCrashed(sys, message, crashErr)
			s.logCrash("connection", dsn, crashErr, stack, "stopped: it crashed while closing")
			s.decided(child, reason, actor.StopDirective)
			sup.StopChildren(child)
			return
		}
		if ch != nil {
			s.spend(ch, crashErr)
		}
		answerCrashed(sys, message, crashErr)
	}
	if ch == nil || ch.Abandoned() {
		s.logCrash("connection", dsn, crashErr, stack, "stopped: restart budget spent", "restarts", s.cfg.MaxRestarts, "window", s.cfg.RestartWindow)
		s.decided(child, reason, actor.StopDirective)
		sup.StopChildren(child)
		return
	}
	s.logCrash("connection", dsn, crashErr, stack, "restarting", "failures_in_window", ch.RestartStats().NumberOfFailures(s.cfg.RestartWindow))
	s.decided(child, reason, actor.RestartDirective)
	sup.RestartChildren(child)
}

// childCrashed runs on a connection's own goroutine when a request crashed it, before that
// request is answered (see actors.ChildConfig.OnCrash): it counts the crash and spends the
// restart budget, so that the caller, once answered, finds both in Stats and, when the budget
// is spent, the connection closed. A crash while closing stops the connection without going
// through HandleFailure: it is logged and published here.
func (s *Supervisor) childCrashed(ch *actors.Child, c *actors.Crash) {
	s.crashes.Add(1)
	if c.Closing {
		s.logCrash("connection", ch.DSN(), c.Err, c.Stack, "stopped: it crashed while closing")
		s.decided(ch.PID(), c, actor.StopDirective)
		return
	}
	s.spend(ch, c.Err)
}

// spend counts a crash against ch's restart budget, and abandons ch when it is spent: every
// call then fails with ErrClosed and ErrCrashed, to its handles and to actors, until Stop.
func (s *Supervisor) spend(ch *actors.Child, crashErr *messages.CrashError) {
	b := s.budget()
	if _, spent := b.spend(ch.RestartStats()); !spent {
		s.restarts.Add(1)
		return
	}
	s.abandoned.Add(1)
	ch.Abandon(b.spentErr("", crashErr))
	s.mu.Lock()
	s.tombs = append(s.tombs, ch)
	s.mu.Unlock()
}

// logCrash logs a crash once: what crashed (who: "connection", "events writer"), the panic,
// its stack, and what followed.
func (s *Supervisor) logCrash(who, dsn string, ce *messages.CrashError, stack []byte, then string, attrs ...any) {
	s.logger.Error("actorlite: "+who+" crashed", append([]any{"dsn", dsn, "panic", fmt.Sprint(ce.Panic),
		"then", then, "stack", string(stack)}, attrs...)...)
}

// decided publishes the supervisor's directive for a crashed child on the EventStream, as
// protoactor's own strategies do, for a program's monitoring to see.
func (s *Supervisor) decided(child *actor.PID, reason any, d actor.Directive) {
	s.sys.EventStream.Publish(&actor.SupervisorEvent{Child: child, Reason: reason, Directive: d})
}

func isClose(msg any) bool {
	_, ok := msg.(*messages.Close)
	return ok
}

// crashOf turns a failure's reason into the error callers get, and the stack to log.
func crashOf(dsn string, reason any) (*messages.CrashError, []byte) {
	if c, ok := reason.(*actors.Crash); ok {
		return c.Err, c.Stack
	}
	return &messages.CrashError{DSN: dsn, Panic: reason}, nil
}

// answerCrashed answers the request that crashed an actor: through its reply channel (a
// handle's) or to its sender (an actor's Request or RequestFuture).
func answerCrashed(sys *actor.ActorSystem, message any, err error) {
	_, msg, sender := actor.UnwrapEnvelope(message)
	req, ok := msg.(messages.Request)
	if !ok {
		return
	}
	actors.Deliver(sys.Root, req, sender, req.ErrorReply(err))
}
