package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

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

	sem  chan struct{} // one token per request in flight from a handle (MaxPending)
	done chan struct{} // closed when the actor stopped
	stop sync.Once

	opened  chan struct{} // closed after the first open attempt
	openErr error         // written before opened is closed

	closing atomic.Bool                         // Close was called or the actor is stopping
	stopErr atomic.Pointer[error]               // what calls get once stopped; nil: ErrClosed
	gen     atomic.Int64                        // crashes so far: a cursor of an older gen is invalid
	crash   atomic.Pointer[messages.CrashError] // the most recent crash
	kill    atomic.Bool                         // interrupt everything: the connection is being stopped

	// actor only
	funcs         []*messages.CreateFunction // replayed on restart
	nextCursor    messages.CursorID
	crashedBefore messages.CursorID // cursors up to this id were lost in a crash
	txLost        bool
}

func newShared(sys *actor.ActorSystem, dsn string, cfg config, maxPending int, logger *slog.Logger) *shared {
	if maxPending <= 0 {
		maxPending = 1024
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &shared{
		dsn: dsn, cfg: cfg, logger: logger, sys: sys,
		sem:    make(chan struct{}, maxPending),
		done:   make(chan struct{}),
		opened: make(chan struct{}),
	}
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

func (sh *shared) release() {
	select {
	case <-sh.sem:
	default:
	}
}

// Crash is the panic value a connection actor re-panics with after recovering a crash, so
// that its supervisor can answer the request and log the stack.
type Crash struct {
	Err   *messages.CrashError // what the crashed request's caller gets
	Stack []byte               // the stack at the panic
}

func (c *Crash) Error() string { return c.Err.Error() }

// interruptCtx is what the actor installs with SetInterrupt while it serves a request: done
// when the request's ctx is, or when the connection is being stopped. go-sqlite3 only calls
// Err on it. One per actor, reused: no allocation per request.
type interruptCtx struct {
	context.Context
	kill *atomic.Bool
}

func (c *interruptCtx) Err() error {
	if c.kill.Load() {
		return messages.ErrClosed
	}
	return c.Context.Err()
}

// connActor owns one SQLite connection. Invariants:
//   - only this actor touches db (sqlitewasm.Conn is not safe for concurrent use);
//   - requests are served one at a time, in arrival order, each answered exactly once
//     (by the actor, or by the supervisor when it crashed the actor);
//   - a request whose ctx is done before it starts is answered with its ctx error and has no
//     effect; one that is running is interrupted;
//   - after a crash, cursors of the old incarnation are invalid and, if a transaction was open,
//     every request fails with ErrTransactionLost until Rollback or Commit.
type connActor struct {
	sh      *shared
	db      *sqlitewasm.Conn
	openErr error
	cursors map[messages.CursorID]*sqlitewasm.Rows
	ictx    interruptCtx
	closed  bool
	counted bool // this incarnation's crash was counted
	onStop  func()
}

var _ actor.Actor = (*connActor)(nil)

// Receive handles one message.
func (a *connActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case messages.Request:
		a.serve(ctx, m)
	case *actor.Started:
		a.open()
	case *actor.Restarting:
		a.crashed()
	case *actor.Stopping:
		a.sh.closing.Store(true)
		a.closeDB()
	case *actor.Stopped:
		a.sh.closing.Store(true)
		a.sh.stop.Do(func() { close(a.sh.done) })
		if a.onStop != nil {
			a.onStop()
		}
	case actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		if ctx.Sender() != nil {
			ctx.Respond(&messages.Ack{Err: fmt.Errorf("%w: %T", messages.ErrUnknownRequest, m)})
			return
		}
		a.sh.logger.Warn("actorlite: connection actor ignored a message of unknown type",
			"dsn", a.sh.dsn, "type", fmt.Sprintf("%T", m))
	}
}

func (a *connActor) open() {
	sh := a.sh
	a.cursors = make(map[messages.CursorID]*sqlitewasm.Rows)
	a.ictx.kill = &sh.kill
	db, err := sqlitewasm.Open(context.Background(), sh.dsn, sh.cfg.db)
	if err == nil {
		for _, f := range sh.funcs {
			if err = db.CreateFunction(f.Name, f.NArgs, f.Fn); err != nil {
				db.Close()
				db = nil
				err = fmt.Errorf("actorlite: replaying function %s after a restart: %w", f.Name, err)
				break
			}
		}
	}
	a.db, a.openErr = db, err
	select {
	case <-sh.opened: // a restart
		if err != nil {
			sh.logger.Error("actorlite: reopen after crash failed", "dsn", sh.dsn, "err", err)
		}
	default:
		sh.openErr = err
		close(sh.opened)
	}
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
	if a.db != nil && a.inTransaction() {
		sh.txLost = true
	}
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

func (a *connActor) closeDB() {
	for id, r := range a.cursors {
		r.Close()
		delete(a.cursors, id)
	}
	if a.db != nil {
		if err := a.db.Close(); err != nil {
			a.sh.logger.Warn("actorlite: closing connection", "dsn", a.sh.dsn, "err", err)
		}
		a.db = nil
	}
}

// serve answers one request. A panic while serving is a crash: it is re-raised as a *Crash
// for the supervisor, which answers the request and restarts the actor.
func (a *connActor) serve(actx actor.Context, req messages.Request) {
	if req.ReplyChan() != nil {
		defer a.sh.release()
	}
	rctx := req.Context()
	var reply messages.Reply
	if err := rctx.Err(); err != nil {
		reply = req.ErrorReply(fmt.Errorf("actorlite: request cancelled before it ran: %w", err))
	} else if err := a.gate(req); err != nil {
		reply = req.ErrorReply(err)
	} else {
		defer a.recoverCrash()
		if a.sh.cfg.fault != nil {
			a.sh.cfg.fault(req)
		}
		a.ictx.Context = rctx
		var old context.Context
		if a.db != nil { // nil only for Close after a failed open
			old = a.db.SetInterrupt(&a.ictx)
		}
		reply = a.handle(actx, req)
		if a.db != nil { // Close sets it to nil
			a.db.SetInterrupt(old)
		}
		a.ictx.Context = nil
		if err := reply.ReplyErr(); err != nil && rctx.Err() != nil && errors.Is(err, messages.ErrInterrupted) {
			reply = req.ErrorReply(fmt.Errorf("%w: %w", rctx.Err(), err))
		}
	}
	respond(actx, req, reply)
	if _, ok := req.(*messages.Close); ok {
		actx.Stop(actx.Self())
	}
}

func respond(actx actor.Context, req messages.Request, reply messages.Reply) {
	if ch := req.ReplyChan(); ch != nil {
		select {
		case ch <- reply:
		default: // a full channel is the sender's bug; never block the actor on it
		}
		return
	}
	if actx.Sender() != nil {
		actx.Respond(reply)
	}
}

func (a *connActor) recoverCrash() {
	p := recover()
	if p == nil {
		return
	}
	a.ictx.Context = nil
	ce := &messages.CrashError{DSN: a.sh.dsn, Panic: p}
	a.sh.crash.Store(ce)
	a.countCrash()
	panic(&Crash{Err: ce, Stack: debug.Stack()})
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
		case *messages.Rollback, *messages.Commit, *messages.CloseCursor:
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

func (a *connActor) crashErr() error {
	if ce := a.sh.crash.Load(); ce != nil {
		return ce
	}
	return messages.ErrCrashed
}

func (a *connActor) handle(actx actor.Context, req messages.Request) messages.Reply {
	switch m := req.(type) {
	case *messages.Query:
		return a.query(m)
	case *messages.Fetch:
		return a.fetch(m)
	case *messages.Exec:
		res, err := a.db.Exec(m.SQL, m.Args)
		return &messages.ExecReply{Result: res, Err: err}
	case *messages.ExecMany:
		res, err := a.db.ExecMany(m.SQL, m.Args)
		return &messages.ExecReply{Result: res, Err: err}
	case *messages.ExecScript:
		err := a.db.ExecScript(m.SQL)
		return &messages.ExecReply{Result: messages.Result{LastInsertID: a.db.LastInsertID(), RowsAffected: a.db.Changes()}, Err: err}
	case *messages.CloseCursor:
		return &messages.Ack{Err: a.closeCursor(m.Cursor)}
	case *messages.Begin:
		return &messages.Ack{Err: a.db.Begin(m.Mode)}
	case *messages.Commit:
		if a.sh.txLost {
			a.sh.txLost = false
			return &messages.Ack{Err: fmt.Errorf("%w: nothing was committed: %w", messages.ErrTransactionLost, a.crashErr())}
		}
		return &messages.Ack{Err: a.db.Commit()}
	case *messages.Rollback:
		if a.sh.txLost {
			a.sh.txLost = false
			if a.db.InTransaction() {
				return &messages.Ack{Err: a.db.Rollback()}
			}
			return &messages.Ack{}
		}
		return &messages.Ack{Err: a.db.Rollback()}
	case *messages.TxStatus:
		return &messages.TxStatusReply{InTransaction: a.db.InTransaction()}
	case *messages.Backup:
		return &messages.Ack{Err: a.db.Backup(m.Dest)}
	case *messages.CreateFunction:
		if m.Name == "" || m.NArgs < -1 || m.NArgs > 127 {
			return &messages.Ack{Err: &messages.ArgError{Reason: fmt.Sprintf("bad function name %q or argument count %d", m.Name, m.NArgs)}}
		}
		err := a.db.CreateFunction(m.Name, m.NArgs, m.Fn)
		if err == nil {
			a.sh.funcs = append(a.sh.funcs, m)
		}
		return &messages.Ack{Err: err}
	case *messages.Close:
		a.closed = true
		a.sh.closing.Store(true)
		if a.db != nil && a.inTransaction() {
			a.db.Rollback()
		}
		a.closeDB()
		return &messages.Ack{}
	default:
		return req.ErrorReply(fmt.Errorf("%w: %T is not a connection request", messages.ErrUnknownRequest, req))
	}
}

func (a *connActor) query(m *messages.Query) messages.Reply {
	r, err := a.db.Query(m.SQL, m.Args)
	if err != nil {
		return &messages.Rows{Err: err, Done: true}
	}
	n := m.FetchSize
	if n == 0 {
		n = a.sh.cfg.fetchSize
	}
	b := messages.NewRowsBuilder(r.Columns(), min(max(n, 1), 256))
	done, err := r.Next(&b, n)
	if err != nil {
		return &messages.Rows{Columns: r.Columns(), Err: err, Done: true}
	}
	reply := &messages.Rows{Columns: r.Columns(), Rows: b.Rows(), Done: done}
	if !done {
		a.sh.nextCursor++
		reply.Cursor = a.sh.nextCursor
		a.cursors[reply.Cursor] = r
	}
	return reply
}

func (a *connActor) fetch(m *messages.Fetch) messages.Reply {
	r, ok := a.cursors[m.Cursor]
	if !ok {
		return &messages.Rows{Cursor: m.Cursor, Err: a.noCursor(m.Cursor), Done: true}
	}
	b := messages.NewRowsBuilder(r.Columns(), min(max(m.N, 1), 256))
	done, err := r.Next(&b, m.N)
	if done {
		delete(a.cursors, m.Cursor)
	}
	return &messages.Rows{Cursor: m.Cursor, Rows: b.Rows(), Done: done, Err: err}
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
