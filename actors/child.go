package actors

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/asynkron/protoactor-go/actor"
)

// Child is how a supervisor spawns and supervises a connection actor: actorlite's own
// ([supervisor.Supervisor.Open] uses it), or a program's that builds its own supervision tree
// in its own actor system (see the example). Spawn [Child.Props] as a child of the parent,
// [Child.Bind] the PID, then hand out [Child.NewHandle]. Under any parent, the connection
// answers the request that crashed it before the failure reaches the parent's strategy, as an
// [*Crash]; a parent that stops it after a crash leaves calls an error wrapping
// [messages.ErrClosed] and [messages.ErrCrashed]. A Child never holds the handles it gave out,
// so that a handle dropped without Close is noticed and closed when it is garbage collected.
//
// A Child is for supervisors, not for programs that use a supervisor.Supervisor. Its methods
// share names with [EventWriter]'s, which a supervisor drives the same way, but their meanings
// differ where a connection and the events writer differ: see [Child.Abandon], [Child.Close]
// and [Child.Discard].
type Child struct {
	sh    *shared
	props *actor.Props
	disp  *loopDispatcher
	pid   *actor.PID
}

// ChildConfig is what a connection actor needs from its supervisor: package supervisor fills
// it from its Config, a program with its own supervision tree fills it itself.
type ChildConfig struct {
	System     *actor.ActorSystem
	MaxPending int // requests in flight per connection before callers wait; 0: 1024
	// MaxPendingBytes bounds the bytes of large requests in flight (see LargeRequest); 0:
	// DefaultMaxPendingBytes.
	MaxPendingBytes int
	Logger          *slog.Logger // nil: the system's logger
	// OnCrash, when set, is called when a request crashed the connection, on the connection's
	// goroutine, before that request is answered and the failure goes to the parent: a
	// supervisor counts the crash there and, when its restart budget is spent, calls
	// [Child.Abandon], so that the caller already finds both in place when its error comes.
	// It must not block. Without it, the crash is answered all the same and the parent's
	// strategy decides alone (see [Crash]).
	OnCrash func(*Crash)
}

// NewChild prepares a connection actor for dsn, with the connection options opts; nothing runs
// until its Props are spawned (or [Child.Open] is called). It is for supervisors: package
// supervisor's Open calls it, and so does a program that spawns connections under its own
// parent (see the example); a program using supervisor.Supervisor never does.
func NewChild(cc ChildConfig, dsn string, opts ...Option) *Child {
	logger := cc.Logger
	if logger == nil && cc.System != nil {
		logger = cc.System.Logger()
	}
	sh := newShared(cc.System, dsn, newConfig(opts), cc.MaxPending, cc.MaxPendingBytes, logger)
	sh.onCrash = cc.OnCrash
	d := newLoopDispatcher()
	sh.mailbox = &inlineMailbox{admit: sh.admit, refuse: func(msg any) { sh.refuse(msg, true) }}
	props := actor.PropsFromProducer(func() actor.Actor {
		return &connActor{sh: sh, onStop: d.Close}
	}, actor.WithDispatcher(d), actor.WithMailbox(func() actor.Mailbox { return sh.mailbox }))
	return &Child{sh: sh, props: props, disp: d}
}

// Props returns the connection actor's Props. Spawn them once, as a child of the supervising
// actor.
func (ch *Child) Props() *actor.Props { return ch.props }

// Bind records the spawned actor's PID. Call it once, before any method but Props, Open and
// Discard: the handles it gives out carry the PID.
func (ch *Child) Bind(pid *actor.PID) { ch.pid = pid }

// PID returns the PID given to Bind (nil before).
func (ch *Child) PID() *actor.PID { return ch.pid }

// Discard releases a Child whose Props were never spawned: its dispatcher, and the database
// [Child.Open] opened, if any. Never call it once the Props were spawned: use [Child.Close].
func (ch *Child) Discard() {
	ch.disp.Close()
	if db := ch.sh.preopened; db != nil {
		ch.sh.preopened = nil
		db.Close()
	}
}

// Open opens the database on the calling goroutine, honouring ctx, for the actor to adopt when
// it starts: call it before spawning the Props. The caller's CPU does the open while the
// caller would otherwise wait, and nobody waits for the actor to start: it adopts the database
// when its first message comes (its first request, run inline on the caller's goroutine when
// it can, or a stop). The actor owns the connection from its spawn on; a restart after a crash
// opens a new one itself.
func (ch *Child) Open(ctx context.Context) error {
	ctx = orBackground(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	db, err := sqlitewasm.Open(ctx, ch.sh.dsn, ch.sh.cfg.db)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil { // interrupted by ctx: say so, as every call does
			return fmt.Errorf("%w: %w", cerr, err)
		}
		return err
	}
	ch.sh.preopened = db
	ch.sh.mailbox.lazyStart.Store(true) // adopting it is no work for the loop goroutine
	ch.sh.markOpened(nil)               // the first open attempt is this one: WaitOpen is done
	return nil
}

// NewHandle returns a handle on the connection. If the handle is garbage collected while the
// connection is open, the connection is closed and a warning naming its DSN is logged.
func (ch *Child) NewHandle() *Conn {
	c := ch.handle()
	runtime.AddCleanup(c, func(r collectedConn) {
		if r.sh.closing.Load() {
			r.sh.bury()
			return
		}
		r.sh.logger.Warn("actorlite: a Conn was garbage collected without Close; closing its connection", "dsn", r.sh.dsn)
		r.sh.mailbox.PostUserMessage(&messages.Close{}) // never a dead letter, even if it stops meanwhile
	}, collectedConn{sh: ch.sh})
	return c
}

// collectedConn is what the cleanup of a collected Conn needs: not the Conn itself.
type collectedConn struct{ sh *shared }

// Conn returns a handle on the connection that, unlike [Child.NewHandle]'s, never closes it
// when garbage collected: the connection lives until it is closed (through any handle, or by
// a [messages.Close] sent to its PID) or its supervisor stops. The supervisor uses it for its
// own requests, and for connections that actors open by message and address by PID alone.
func (ch *Child) Conn() *Conn { return ch.handle() }

// Closing reports whether the connection was asked to close (or is being stopped): it will
// stop without serving anything more.
func (ch *Child) Closing() bool { return ch.sh.closing.Load() }

// handle returns an internal handle, with no cleanup attached.
func (ch *Child) handle() *Conn { return &Conn{sh: ch.sh, pid: ch.pid, root: ch.sh.sys.Root} }

// Close closes the connection as [Conn.Close] does: requests sent before it are served, the
// actor stops, and Close waits for that within ctx. Unlike [EventWriter.Close], it stops the
// actor itself.
func (ch *Child) Close(ctx context.Context) error { return ch.handle().Close(ctx) }

// Done returns a channel closed when the connection actor has stopped for good (not when it
// restarts after a crash).
func (ch *Child) Done() <-chan struct{} { return ch.sh.done }

// DSN returns the connection's DSN.
func (ch *Child) DSN() string { return ch.sh.dsn }

// WaitOpen waits for the first attempt to open the database (Child.Open's, or the actor's
// when it starts) and returns its error; reopens after a crash do not count.
func (ch *Child) WaitOpen(ctx context.Context) error { return ch.sh.waitOpen(ctx, "open") }

// Abandon ends a connection whose restart budget is spent: from now on every call returns
// err (which should wrap [messages.ErrClosed] and [messages.ErrCrashed]), from its handles and
// to actors, also once the actor has stopped (its PID keeps answering until [Child.Bury]). The
// supervisor must then stop the actor (not restart it): the connection serves nothing more.
// [EventWriter.Abandon] asks the opposite, a last restart.
func (ch *Child) Abandon(err error) {
	ch.sh.stopErr.Store(&err)
	ch.sh.closing.Store(true)
}

// Abandoned reports whether [Child.Abandon] was called.
func (ch *Child) Abandoned() bool { return ch.sh.stopErr.Load() != nil }

// Bury frees the PID of a connection that a crash stopped, which answered requests in its
// place until now: later messages to it are dead letters, as for any stopped actor. Closing
// or dropping its Conn does it too.
func (ch *Child) Bury() { ch.sh.bury() }

// RestartStats returns the connection's crash history across its incarnations, the one its
// failures carry: a supervisor counts its restart budget on it.
func (ch *Child) RestartStats() *actor.RestartStatistics { return ch.sh.restarts }

// Interrupt interrupts whatever the connection runs now and anything it runs until it stops.
// Used when a stop cannot wait.
func (ch *Child) Interrupt() { ch.sh.kill.Store(true) }

// Crashes returns how many times the connection crashed.
func (ch *Child) Crashes() int64 { return ch.sh.gen.Load() }
