package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/asynkron/protoactor-go/actor"
)

// shared is the state of one connection that outlives the incarnations of its actor (a
// restart creates a fresh connActor) and that its handles read.
//
// Fields under "actor only" are touched only by the actor's Receive, which protoactor runs one
// message at a time, across incarnations too; the rest are safe for concurrent use.
type shared struct {
	dsn    string
	cfg    config
	logger *slog.Logger
	sys    *actor.ActorSystem

	mailbox *inlineMailbox // the actor's mailbox: handles post to it directly
	pending quota          // requests in flight, one each (MaxPending): see holdsSlot
	large   quota          // bytes of large requests in flight (MaxPendingBytes)
	lifecycle

	// preopened is the database Child.Open opened before the spawn, for the first incarnation
	// to adopt; the spawn orders its write before the actor's read, which clears it.
	preopened *sqlitewasm.Conn

	closing atomic.Bool // Close was served or the actor is stopping
	// closeSent: a Close was posted. Requests actors post after it can only be refused (they
	// queue behind it): admit answers them at once instead of after what runs now.
	closeSent atomic.Bool
	stopErr   atomic.Pointer[error]               // what calls get once stopped; nil: ErrClosed
	gen       atomic.Int64                        // crashes so far: a cursor of an older gen is invalid
	crash     atomic.Pointer[messages.CrashError] // the most recent crash
	kill      atomic.Bool                         // interrupt everything: the connection is being stopped

	// interrupts counts Interrupt's calls: a request that sees it change while it runs is
	// interrupted (see interruptCtx). A count rather than the running request's number, which
	// serve would have to publish and clear with an atomic store (a full memory barrier each)
	// for every request, for a call that is rare.
	interrupts atomic.Uint64

	// restarts counts the crashes its parent is told of, across incarnations (protoactor
	// keeps its own per actor context; the actor escalates its crashes itself, with these).
	restarts *actor.RestartStatistics
	// onCrash, when set, hears of a crash before its request is answered (ChildConfig.OnCrash).
	onCrash func(*Crash)
	tomb    atomic.Pointer[tombstone] // registered in the stopped actor's place, if any

	// actor only
	regs          []registration // replayed on restart, in order
	nextCursor    messages.CursorID
	nextBlob      messages.BlobID
	crashedBefore messages.CursorID // cursors up to this id were lost in a crash
	txLost        bool
	// callerTx: a transaction was open when the last request ended, so it is the callers'
	// (opened by Begin, or by SQL they sent). A crash loses only such a transaction: one a
	// request opened for itself (ExecMany's, Dump's savepoint) is rolled back with the
	// crashed instance, and its caller is told by the crash error. So is one whose Commit or
	// Rollback crashed (endingTx): that call's ErrCrashed tells it its transaction ended.
	callerTx bool
	endingTx bool
	// crashPending: the last request crashed the actor, and its parent has not restarted it
	// yet. A parent that stops it instead leaves calls an error wrapping ErrCrashed too.
	crashPending bool
}

func newShared(sys *actor.ActorSystem, dsn string, cfg config, maxPending, maxPendingBytes int, logger *slog.Logger) *shared {
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	if maxPendingBytes <= 0 {
		maxPendingBytes = DefaultMaxPendingBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sh := &shared{
		dsn: dsn, cfg: cfg, logger: logger, sys: sys,
		lifecycle: newLifecycle(),
		restarts:  actor.NewRestartStatistics(),
	}
	sh.pending.maxN, sh.pending.maxB = int64(maxPending), math.MaxInt64
	sh.large.maxN, sh.large.maxB = math.MaxInt64, int64(maxPendingBytes)
	return sh
}

// closedErr returns the error for a call on a stopped (or stopping) connection, or nil.
func (sh *shared) closedErr() error {
	if !sh.closing.Load() {
		return nil
	}
	if p := sh.stopErr.Load(); p != nil {
		return *p
	}
	return messages.ErrClosed
}

// Crash is the failure a connection actor hands its parent when a request crashed it (the
// Reason of the *actor.Failure, and so of the parent's supervisor strategy), after answering
// that request itself with Err: whichever supervisor runs, the caller is never left waiting.
type Crash struct {
	Err     *messages.CrashError // what the crashed request's caller got
	Stack   []byte               // the stack at the panic
	Closing bool                 // it crashed serving Close: it stops, and is not escalated
}

func (c *Crash) Error() string { return c.Err.Error() }

// registration is something registered on the connection (a function, a collation, the
// authorizer, …) that a new incarnation replays. key identifies what a later registration
// replaces.
type registration struct {
	key   string
	apply func(*sqlitewasm.Conn) error
}

// register records r for replay, replacing an earlier one with the same key; remove drops it.
func (sh *shared) register(r registration, remove bool) {
	for i := range sh.regs {
		if sh.regs[i].key == r.key {
			if remove {
				sh.regs = append(sh.regs[:i], sh.regs[i+1:]...)
			} else {
				sh.regs[i] = r
			}
			return
		}
	}
	if !remove {
		sh.regs = append(sh.regs, r)
	}
}

// reqCtx is a request's ctx with its Deadline, if any: what the actor skips a queued request
// on, and interrupts a running one on. The deadline is checked rather than armed as a timer
// (context.WithDeadline): go-sqlite3 only asks Err, and a request without one pays nothing.
type reqCtx struct {
	context.Context
	deadline time.Time
}

// Err returns the ctx's error, or context.DeadlineExceeded once the deadline has passed.
func (c reqCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// interruptCtx is what the actor installs with SetInterrupt while it serves a request: done
// when the request's ctx is, when Interrupt is called, or when the connection is being
// stopped. go-sqlite3 only calls Err on it, before each step and about every 1,000 SQLite
// instructions (the progress handler is sqlitewasm's). One per actor, reused: no allocation
// per request.
type interruptCtx struct {
	context.Context
	deadline time.Time // the request's Deadline (zero: none)
	sh       *shared
	intr     uint64 // sh.interrupts when the request started
}

func (c *interruptCtx) Err() error {
	if c.sh.kill.Load() {
		return messages.ErrClosed
	}
	if c.sh.interrupts.Load() != c.intr {
		return messages.ErrInterrupted
	}
	return reqCtx{c.Context, c.deadline}.Err()
}

// connActor owns one SQLite connection. Invariants:
//   - only this actor touches db (sqlitewasm.Conn is not safe for concurrent use);
//   - requests are served one at a time, in arrival order, each answered exactly once, by
//     the actor (a request that crashes it too, before its parent hears of the crash; the
//     supervisor answers only for a panic outside any request);
//   - a request whose ctx is done before it starts is answered with its ctx error and has no
//     effect; one that is running is interrupted;
//   - after a crash, cursors of the old incarnation are invalid and, if a transaction was open,
//     every request fails with ErrTransactionLost until Rollback or Commit.
type connActor struct {
	sh      *shared
	db      *sqlitewasm.Conn
	openErr error
	cursors map[messages.CursorID]*sqlitewasm.Rows
	blobs   map[messages.BlobID]*blobRef
	ictx    interruptCtx
	rows    sqlitewasm.Rows // the result of the query being served, unless kept as a cursor
	closed  bool
	counted bool // this incarnation's crash was counted
	onStop  func()
}

var _ actor.Actor = (*connActor)(nil)

// Receive handles one message.
func (a *connActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.Query: // the most frequent requests first: no interface assertion
		a.serve(ctx, m)
	case *messages.Exec:
		a.serve(ctx, m)
	case messages.Request:
		a.serve(ctx, m)
	case *actor.Started:
		a.open()
		// From now on handles' requests reach this incarnation without protoactor's invoker
		// (see inlineMailbox.run). A restart's Started sets the next one before the mailbox
		// serves another user message; until then a crash keeps the mailbox suspended.
		a.sh.mailbox.serve = func(req messages.Request) { a.serve(ctx, req) }
	case *actor.Restarting:
		a.crashed()
	case *actor.Stopping:
		if a.sh.crashPending && a.sh.stopErr.Load() == nil {
			// Stopped by its parent after a crash (a program's own supervisor strategy):
			// calls say so, as after actorlite's own supervisor spent the restart budget.
			err := fmt.Errorf("%w: %w: stopped by its supervisor after a crash: %w", messages.ErrClosed, messages.ErrCrashed, a.crashErr())
			a.sh.stopErr.Store(&err)
		}
		a.sh.closing.Store(true)
		a.closeDB()
	case *actor.Stopped:
		a.stopped(ctx)
	case actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		AnswerUnknown(ctx, a.sh.logger.With("dsn", a.sh.dsn), "connection actor")
	}
}

func (a *connActor) open() {
	sh := a.sh
	a.cursors = make(map[messages.CursorID]*sqlitewasm.Rows)
	a.blobs = make(map[messages.BlobID]*blobRef)
	a.ictx.sh = sh
	sh.crashPending = false
	db := sh.preopened // opened by Child.Open: the first incarnation adopts it
	sh.preopened = nil
	var err error
	if db == nil {
		db, err = sqlitewasm.Open(context.Background(), sh.dsn, sh.cfg.db)
	}
	if err == nil {
		for _, r := range sh.regs {
			if err = r.apply(db); err != nil {
				db.Close()
				db = nil
				err = fmt.Errorf("replaying %s after a restart: %w", r.key, err)
				break
			}
		}
	}
	a.db, a.openErr = db, err
	if !sh.markOpened(err) && err != nil {
		sh.logger.Error("actorlite: reopen after crash failed", "dsn", sh.dsn, "err", err)
	}
}

// stopped runs last, when the actor has stopped (its PID already gone from the registry):
// whatever is left in its mailbox, or posted to it from now on, is answered, never dropped.
// When a crash stopped it, a tombstone takes its PID, so that actors messaging it later get
// the same error as its handles, rather than a dead letter.
func (a *connActor) stopped(ctx actor.Context) {
	sh := a.sh
	sh.closing.Store(true)
	// The tombstone first: protoactor has just removed the PID from its registry, and until
	// the tombstone takes it, what is sent to it is a dead letter (a window of a few
	// instructions, which draining the mailbox first would widen). No tombstone for a
	// connection its owner closed (a Close was sent, which sets closeSent before it is queued:
	// it is answered, or about to be, with success): its PID goes as any stopped actor's, and
	// its name is free again.
	if p := sh.stopErr.Load(); p != nil && !sh.closeSent.Load() {
		t := &tombstone{sys: ctx.ActorSystem(), pid: ctx.Self(), err: *p}
		if _, added := ctx.ActorSystem().ProcessRegistry.Add(t, t.pid.Id); added {
			sh.tomb.Store(t)
			if sh.closeSent.Load() { // a Close came meanwhile, and was answered
				sh.bury()
			}
		}
	}
	for _, msg := range sh.mailbox.close() {
		sh.refuse(msg, true)
	}
	// Nothing replays them now. A handle's cleanup holds this state until the handle is
	// collected: a function that reached its own Conn would keep both reachable for good.
	sh.regs = nil
	sh.markStopped() // last: whoever sees it done sees all the above
	if a.onStop != nil {
		a.onStop()
	}
}

func isClose(m any) bool {
	_, ok := m.(*messages.Close)
	return ok
}

// crashed runs in the old incarnation when the supervisor restarts it.
func (a *connActor) crashed() {
	if !a.counted { // a panic outside serve (recoverCrash counts the others)
		a.countCrash()
	}
	a.closeDB()
}

// countCrash records a crash before anyone is told of it: cursors of this incarnation become
// invalid, and an open transaction is lost.
func (a *connActor) countCrash() {
	sh := a.sh
	a.counted = true
	sh.gen.Add(1)
	sh.crashedBefore = sh.nextCursor
	if sh.callerTx && !sh.endingTx && a.db != nil && a.inTransaction() {
		sh.txLost = true
	}
	sh.callerTx, sh.endingTx = false, false
}

// inTransaction asks SQLite, surviving an instance a panic left unusable.
func (a *connActor) inTransaction() (in bool) {
	defer func() {
		if recover() != nil {
			in = true // assume the worst: never let a half transaction pass as autocommit
		}
	}()
	return a.db.InTransaction()
}

// closeDB closes this incarnation's cursors, blobs and database, and returns what failed. It
// never panics: closing a cursor runs the caller's code (an aggregate's Final, for a window
// left half computed) and touches an instance a crash may have left unusable. A panic there
// would repeat in every later attempt (the restart's, the stop's) and the connection would
// never finish closing, so each step is guarded, and the database is dropped whatever
// happens.
func (a *connActor) closeDB() error {
	var errs []error
	for id, r := range a.cursors {
		errs = append(errs, guardClose("a cursor", r.Close))
		delete(a.cursors, id)
	}
	a.rows = sqlitewasm.Rows{} // nothing of this incarnation's database stays reachable
	// db.Close, last, also reports a panic of the caller's code while the cursors closed (an
	// aggregate's Final).
	db := a.db
	a.db = nil
	for id, ref := range a.blobs {
		if ref.read != nil {
			errs = append(errs, guardClose("a blob", func() { errs = append(errs, db.CloseBlob(ref.read)) }))
		}
		delete(a.blobs, id)
	}
	if db != nil {
		errs = append(errs, guardClose("the database", func() { errs = append(errs, db.Close()) }))
	}
	err := errors.Join(errs...)
	if err != nil {
		a.sh.logger.Warn("actorlite: closing connection", "dsn", a.sh.dsn, "err", err)
	}
	return err
}

// guardClose runs fn, turning a panic into an error naming what was being closed.
func guardClose(what string, fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("actorlite: closing %s panicked: %v", what, p)
		}
	}()
	fn()
	return nil
}

// serve answers one request. A panic while serving is a crash: it is re-raised as a *Crash
// for the supervisor, which answers the request and restarts the actor.
func (a *connActor) serve(actx actor.Context, req messages.Request) {
	if holdsSlot(req) {
		// Its weight now: nothing may read req once it is answered (see Conn.QueryRow).
		defer a.sh.releaseWeight(a.sh.largeWeight(req))
	}
	a.sh.crashPending = false
	rctx := reqCtx{Context: req.Context()}
	if releases(req) {
		rctx.Context = context.Background() // never skipped, never interrupted by its caller's ctx
	} else {
		rctx.deadline = messages.RequestDeadline(req) // an actor's: honoured as its ctx would be
	}
	var reply messages.Reply
	if err := rctx.Err(); err != nil {
		reply = req.ErrorReply(fmt.Errorf("request cancelled before it ran: %w", err))
		if m, ok := req.(*messages.Fetch); ok && a.cursors != nil {
			// The reply says Done: the cursor is closed (its caller fails it), so close it
			// here, or its statement and read snapshot would stay open for good.
			a.closeCursor(m.Cursor)
		}
	} else if err := a.gate(req); err != nil {
		reply = req.ErrorReply(err)
	} else {
		defer a.recoverCrash(actx, req)
		if _, ok := req.(*messages.Close); ok {
			a.closed = true
		}
		a.sh.endingTx = endsTx(req)
		if a.sh.cfg.fault != nil {
			a.sh.cfg.fault(req)
		}
		a.ictx.Context, a.ictx.deadline, a.ictx.intr = rctx.Context, rctx.deadline, a.sh.interrupts.Load()
		var old context.Context
		if a.db != nil { // nil only for Close after a failed open
			old = a.db.SetInterrupt(&a.ictx)
		}
		reply = a.handle(actx, req)
		if a.db != nil { // Close sets it to nil
			wasTx := a.sh.callerTx
			a.sh.callerTx = a.db.InTransaction()
			if a.sh.callerTx && !wasTx && a.sh.cfg.autocommitOnly {
				if _, begin := req.(*messages.Begin); !begin {
					reply = req.ErrorReply(a.refuseOpenTx(reply))
				}
			}
			a.db.SetInterrupt(old)
			// A callback's panic that no statement reported (a trace run when a cursor
			// closed) fails this request, never a later one.
			if err := a.db.EndRequest(); err != nil && reply.ReplyErr() == nil {
				reply = req.ErrorReply(err)
			}
		}
		a.ictx.Context = nil
		// Interrupted by its ctx, or cut short by it while waiting for another connection's
		// lock (SQLite then reports BUSY): the caller gets ctx's error.
		if err := reply.ReplyErr(); err != nil && rctx.Err() != nil &&
			(errors.Is(err, messages.ErrInterrupted) || errors.Is(err, messages.ErrBusy)) {
			reply = req.ErrorReply(fmt.Errorf("%w: %w", rctx.Err(), err))
		}
		reply = a.late(req, reply, rctx)
	}
	closing := isClose(req)
	// The last use of req: a handle may reuse a request once it has its reply (see
	// Conn.QueryRow), so nothing below reads it.
	if m := a.sh.mailbox; req == m.direct {
		messages.Stamp(reply, req)
		m.directReply = reply // served on its caller's goroutine: see inlineMailbox.serveIdle
	} else {
		Deliver(actx, req, actx.Sender(), reply)
	}
	if closing {
		actx.Stop(actx.Self())
	}
}

// late answers a request whose reply hands out an open cursor or blob, when the request's ctx
// (rctx) ended or its Deadline passed while it ran: its caller (a handle's call that returned
// with its ctx's error, an Ask whose future timed out with it) may no longer wait, and the
// cursor or blob would never be closed, keeping its read snapshot (SQLite then fails this
// connection's next write with SQLITE_BUSY_SNAPSHOT). So it is closed here and the request
// fails with the ctx's error. Other replies go out as they are (what ran, ran), and their ctx
// is not asked: most requests open nothing.
func (a *connActor) late(req messages.Request, reply messages.Reply, rctx reqCtx) messages.Reply {
	var closeIt func()
	switch r := reply.(type) {
	case *messages.Rows:
		if r.Err != nil || r.Cursor == 0 || r.Done {
			return reply
		}
		closeIt = func() { a.closeCursor(r.Cursor) }
	case *messages.BlobReply:
		if _, ok := req.(*messages.OpenBlob); !ok || r.Err != nil {
			return reply
		}
		closeIt = func() { a.closeBlob(&messages.CloseBlob{Blob: r.Blob}) }
	default:
		return reply
	}
	err := rctx.Err()
	if err == nil {
		return reply
	}
	closeIt()
	return req.ErrorReply(fmt.Errorf("opened after its ctx ended, and closed: %w", err))
}

// refuseOpenTx undoes a request that left a transaction open on an autocommit-only
// connection (WithAutocommitOnly: a pool's writer, shared by every caller, whose next writes
// would otherwise run inside that transaction and be rolled back at close). It closes the
// cursor the request's reply would have handed out, rolls back, and returns the request's
// error.
func (a *connActor) refuseOpenTx(reply messages.Reply) error {
	if r, ok := reply.(*messages.Rows); ok && r.Cursor != 0 {
		a.closeCursor(r.Cursor)
	}
	rerr := a.db.Rollback()
	a.sh.callerTx = a.db.InTransaction()
	return errors.Join(fmt.Errorf("%w: this connection is shared (a pool's writer), so a statement may not leave it inside a transaction; it was rolled back: use Pool.Tx (or Begin)",
		messages.ErrInTransaction), rerr)
}

// endsTx reports whether req ends the callers' transaction.
func endsTx(req messages.Request) bool {
	switch req.(type) {
	case *messages.Commit, *messages.Rollback:
		return true
	}
	return false
}

// recoverCrash, deferred by serve, turns a panic while serving req into a crash: it counts
// it, tells onCrash (the supervisor, which decides whether the connection is restarted or
// stopped for good), answers req with the crash error, and only then hands the failure to the
// actor's parent. The caller is answered by the actor that holds the request and its sender,
// whichever supervisor strategy runs above it. A crash while closing stops the actor, as
// Close asked.
func (a *connActor) recoverCrash(actx actor.Context, req messages.Request) {
	p := recover()
	if p == nil {
		return
	}
	a.ictx.Context = nil
	ce := &messages.CrashError{DSN: a.sh.dsn, Panic: p}
	a.sh.crash.Store(ce)
	a.countCrash()
	c := &Crash{Err: ce, Stack: debug.Stack(), Closing: a.closed}
	if a.closed {
		a.sh.closing.Store(true) // calls get ErrClosed from now on
	}
	if a.sh.onCrash != nil {
		a.sh.onCrash(c)
	}
	Deliver(actx, req, actx.Sender(), req.ErrorReply(ce))
	if a.closed {
		// A restart would leave Close waiting for a stop that never comes; its Stopping
		// closes what is left.
		actx.Stop(actx.Self())
		return
	}
	a.sh.crashPending = true
	escalate(actx, c, a.sh.restarts, req)
}

// escalate hands c, a crash already answered, to the actor's parent as protoactor's mailbox
// hands it a panic: the mailbox is suspended until the parent's directive (a restart resumes
// it), and the parent gets an *actor.Failure with c as its Reason and rs, the actor's crash
// history, as its RestartStats. Unlike the mailbox it logs nothing: the supervisor logs each
// crash once, with its stack and what it decided. An actor spawned at the root has no parent
// to tell: it panics with c, for protoactor's root strategy.
func escalate(actx actor.Context, c *Crash, rs *actor.RestartStatistics, msg any) {
	parent := actx.Parent()
	if parent == nil {
		panic(c)
	}
	sys, self := actx.ActorSystem(), actx.Self()
	p, _ := sys.ProcessRegistry.Get(self)
	p.SendSystemMessage(self, &actor.SuspendMailbox{})
	p, _ = sys.ProcessRegistry.Get(parent)
	p.SendSystemMessage(parent, &actor.Failure{Who: self, Reason: c, RestartStats: rs, Message: msg})
}

// gate returns the error a request gets without running: the connection is closed, failed to
// open, or lost its transaction in a crash.
func (a *connActor) gate(req messages.Request) error {
	if _, ok := req.(*messages.Close); ok {
		return nil
	}
	if a.closed {
		return messages.ErrClosed
	}
	if a.sh.txLost {
		switch req.(type) {
		case *messages.Rollback, *messages.Commit, *messages.CloseCursor, *messages.CloseBlob:
		default:
			return fmt.Errorf("%w: %w", messages.ErrTransactionLost, a.crashErr())
		}
	}
	if a.db == nil {
		if a.openErr != nil {
			return a.openErr
		}
		return messages.ErrClosed
	}
	return nil
}

func (a *connActor) crashErr() error { return a.sh.crashErr() }

// crashErr returns the most recent crash (wrapping ErrCrashed), or ErrCrashed.
func (sh *shared) crashErr() error {
	if ce := sh.crash.Load(); ce != nil {
		return ce
	}
	return messages.ErrCrashed
}

// gone returns why a cursor or blob opened in incarnation gen can no longer be used — the
// connection closed, or crashed since — or nil.
func (sh *shared) gone(gen int64) error {
	if err := sh.closedErr(); err != nil {
		return err
	}
	if sh.gen.Load() != gen {
		return sh.crashErr()
	}
	return nil
}

// handle routes req to the method that serves it: one case per request type.
func (a *connActor) handle(actx actor.Context, req messages.Request) messages.Reply {
	switch m := req.(type) {
	case *messages.Query:
		return a.query(m)
	case *messages.Fetch:
		return a.fetch(m)
	case *messages.Exec:
		return a.exec(m)
	case *messages.ExecMany:
		return a.execMany(m)
	case *messages.ExecScript:
		return a.execScript(m)
	case *messages.CloseCursor:
		return &messages.Ack{Err: a.closeCursor(m.Cursor)}
	case *messages.Begin:
		return &messages.Ack{Err: a.db.Begin(m.Mode)}
	case *messages.Commit:
		return a.commit()
	case *messages.Rollback:
		return a.rollback()
	case *messages.TxStatus:
		return &messages.TxStatusReply{InTransaction: a.db.InTransaction()}
	case *messages.Backup:
		return &messages.Ack{Err: a.db.Backup(m.Dest)}
	case *messages.CreateFunction:
		return a.createFunction(m)
	case *messages.CreateAggregate:
		return a.createAggregate(m)
	case *messages.CreateCollation:
		return a.createCollation(m)
	case *messages.SetAuthorizer:
		return a.setAuthorizer(m)
	case *messages.SetTrace:
		return a.setTrace(m)
	case *messages.SetUpdateHook:
		return a.setUpdateHook(actx.Self(), m)
	case *messages.SetProgressHandler:
		return a.setProgressHandler(m)
	case *messages.OpenBlob:
		return a.openBlob(m)
	case *messages.BlobRead:
		return a.readBlob(m)
	case *messages.BlobWrite:
		return a.writeBlob(m)
	case *messages.CloseBlob:
		return a.closeBlob(m)
	case *messages.Dump:
		return a.dump(m)
	case *messages.Serialize:
		return a.serialize()
	case *messages.Deserialize:
		return &messages.Ack{Err: a.db.Deserialize(m.Data)}
	case *messages.TotalChanges:
		return &messages.ExecReply{Result: messages.Result{RowsAffected: a.db.TotalChanges()}}
	case *messages.Close:
		return a.close()
	default:
		return req.ErrorReply(fmt.Errorf("%w: %T is not a connection request", messages.ErrUnknownRequest, req))
	}
}

func (a *connActor) exec(m *messages.Exec) messages.Reply {
	res, err := a.db.Exec(m.SQL, m.Args)
	return &messages.ExecReply{Result: res, Err: err}
}

func (a *connActor) execMany(m *messages.ExecMany) messages.Reply {
	res, err := a.db.ExecMany(m.SQL, m.Args)
	return &messages.ExecReply{Result: res, Err: err}
}

func (a *connActor) execScript(m *messages.ExecScript) messages.Reply {
	err := a.db.ExecScript(m.SQL)
	return &messages.ExecReply{Result: messages.Result{LastInsertID: a.db.LastInsertID(), RowsAffected: a.db.Changes()}, Err: err}
}

// commit commits, or ends a transaction a crash lost with ErrTransactionLost.
func (a *connActor) commit() messages.Reply {
	if a.sh.txLost {
		a.sh.txLost = false
		return &messages.Ack{Err: fmt.Errorf("%w: nothing was committed: %w", messages.ErrTransactionLost, a.crashErr())}
	}
	return &messages.Ack{Err: a.db.Commit()}
}

// rollback rolls back; after a crash lost a transaction, it acknowledges the loss.
func (a *connActor) rollback() messages.Reply {
	if a.sh.txLost {
		a.sh.txLost = false
		if a.db.InTransaction() {
			return &messages.Ack{Err: a.db.Rollback()}
		}
		return &messages.Ack{}
	}
	return &messages.Ack{Err: a.db.Rollback()}
}

// close closes the connection: an open transaction is rolled back, then the database closed.
func (a *connActor) close() messages.Reply {
	a.closed = true
	a.sh.closing.Store(true)
	var rerr error
	if a.db != nil && a.inTransaction() {
		rerr = guardClose("the open transaction", func() { a.db.Rollback() })
	}
	return &messages.Ack{Err: errors.Join(rerr, a.closeDB())}
}

// apply runs a registration now and records it for replay after a restart (remove: drops it).
func (a *connActor) apply(key string, remove bool, fn func(*sqlitewasm.Conn) error) messages.Reply {
	if err := fn(a.db); err != nil {
		return &messages.Ack{Err: err}
	}
	a.sh.register(registration{key: key, apply: fn}, remove)
	return &messages.Ack{}
}

func (a *connActor) query(m *messages.Query) messages.Reply {
	// Into the actor's own Rows: a result read to its end within this request (a point select,
	// any small result) allocates no Rows; one left open as a cursor gets a copy of its own.
	r := &a.rows
	if err := a.db.QueryInto(r, m.SQL, m.Args); err != nil {
		return &messages.Rows{Err: err, Done: true}
	}
	if m.ReadOnly && !r.ReadOnly() {
		r.Close()
		return &messages.Rows{Err: messages.ErrNotReadOnly, Done: true}
	}
	n := m.FetchSize
	if n == 0 {
		n = a.sh.cfg.fetchSize
	}
	if m.OneRow {
		n = 1
	} else if !r.ReadOnly() {
		// A statement that writes runs to its end within this request, all its rows in the
		// reply: left open as a cursor it would keep the connection's implicit transaction
		// open, and SQLite would defer the commit of every other caller's write until then.
		n = -1
	}
	b := chunk(r, n)
	done, err := r.Next(&b, n)
	if err != nil {
		return &messages.Rows{Columns: r.Columns(), Err: err, Done: true}
	}
	if m.OneRow && !done {
		r.Close()
		done = true
	}
	if m.OneRow && m.ReplyTo != nil {
		return oneRow(&b, r.Columns())
	}
	reply := b.Reply()
	reply.Columns, reply.Done = r.Columns(), done
	if !done {
		a.sh.nextCursor++
		reply.Cursor = a.sh.nextCursor
		kept := new(sqlitewasm.Rows)
		*kept = *r
		a.cursors[reply.Cursor] = kept
	}
	return reply
}

// chunk starts a chunk of up to n rows of r (n <= 0: all), with slots reserved for at most
// 1,024 rows: a larger chunk grows as it fills, a smaller result wastes no more.
func chunk(r *sqlitewasm.Rows, n int) messages.RowsBuilder {
	return messages.NewRowsBuilder(r.Columns(), min(max(n, 1), 1024))
}

func (a *connActor) fetch(m *messages.Fetch) messages.Reply {
	r, ok := a.cursors[m.Cursor]
	if !ok {
		return &messages.Rows{Cursor: m.Cursor, Err: a.noCursor(m.Cursor), Done: true}
	}
	b := chunk(r, m.N)
	done, err := r.Next(&b, m.N)
	if done {
		delete(a.cursors, m.Cursor)
	}
	reply := b.Reply()
	reply.Cursor, reply.Done, reply.Err = m.Cursor, done, err
	return reply
}

func (a *connActor) closeCursor(id messages.CursorID) error {
	if r, ok := a.cursors[id]; ok {
		r.Close()
		delete(a.cursors, id)
		return nil
	}
	if id == 0 || id > a.sh.nextCursor {
		return fmt.Errorf("%w: %d", messages.ErrUnknownCursor, id)
	}
	return nil
}

// noCursor explains why a cursor id has no open cursor.
func (a *connActor) noCursor(id messages.CursorID) error {
	switch {
	case id == 0 || id > a.sh.nextCursor:
		return fmt.Errorf("%w: %d", messages.ErrUnknownCursor, id)
	case id <= a.sh.crashedBefore:
		return fmt.Errorf("%w: %w", messages.ErrCursorClosed, a.crashErr())
	default:
		return messages.ErrCursorClosed
	}
}
