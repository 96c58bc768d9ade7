package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/asynkron/protoactor-go/actor"
)

// eventsShared is the writer's state that outlives its actor's incarnations. Fields under
// "actor only" are touched only by the actor's Receive (one message at a time, across
// incarnations); the others are safe for concurrent use.
type eventsShared struct {
	dsn                  string
	db                   sqlitewasm.Config
	fault                func(batch int64, i int)
	logger               *slog.Logger
	sys                  *actor.ActorSystem
	restarts             *actor.RestartStatistics // its crash history, across incarnations
	maxBatch             int
	maxDelay             time.Duration
	tableName, insertSQL string

	counters EventCounters
	sem      quota

	sendMu   sync.RWMutex
	closed   bool          // under sendMu: no more sends
	isClosed atomic.Bool   // closed, for a check without the lock
	closing  chan struct{} // closed with closed: wakes producers waiting for room

	lifecycle
	stopErr atomic.Pointer[error]
	kill    atomic.Bool // Close's ctx is done: interrupt, write nothing more

	// actor only
	buf           []*eventsReq // read, not yet in a batch
	bufEvents     int
	firstAt       time.Time // when buf's first call was read
	markerPending bool      // a flush marker is in the mailbox
	target        int       // events expected in the next batch (see marker)
	waiting       bool      // for the batch to reach target; timer bounds the wait
	timer         *time.Timer
	gen           uint64       // batches begun: tells a stale eventsDue from the current one
	inflight      []*eventsReq // the batch being written
	inflightN     int          // inflight's events
	txOpen        bool         // inflight's transaction is open, its events inserted so far
	committed     bool         // inflight's transaction committed
	batchNo       int64
	batchRow      int // events inserted in the batch so far (the fault hook's index)
}

// closedErr returns the error calls get once the writer is closed or abandoned, or nil.
func (sh *eventsShared) closedErr() error {
	if p := sh.stopErr.Load(); p != nil {
		return *p
	}
	if sh.isClosed.Load() {
		return messages.ErrClosed
	}
	return nil
}

// answer answers one call and gives its share of the queue back.
func (sh *eventsShared) answer(r *eventsReq, err error) {
	if r.answered {
		return
	}
	r.answered = true
	n := int64(len(r.rows))
	if err == nil {
		sh.counters.Committed.Add(n)
	} else {
		sh.counters.Failed.Add(n)
	}
	sh.counters.Queued.Add(-n)
	sh.sem.release(r.weight, r.bytes)
	sh.deliver(r, err)
}

// ackAll answers every call of a committed batch, with one update of the counters and the
// queue for the whole batch. It returns how many events it acked and how many were still
// queued behind them just before the acks went out.
func (sh *eventsShared) ackAll(batch []*eventsReq) (acked, queued int64) {
	var weight, bytes int64
	for _, r := range batch {
		if !r.answered {
			acked += int64(len(r.rows))
			weight += r.weight
			bytes += r.bytes
		}
	}
	sh.counters.Committed.Add(acked)
	queued = sh.counters.Queued.Add(-acked)
	sh.sem.release(weight, bytes)
	for _, r := range batch {
		if !r.answered {
			r.answered = true
			sh.deliver(r, nil)
		}
	}
	return acked, queued
}

// deliver sends a call's answer to whoever waits for it: Insert's caller its error, an actor
// its *messages.EventsAck, as Deliver does (sendReply). It never blocks.
func (sh *eventsShared) deliver(r *eventsReq, err error) {
	if r.cancel != nil {
		r.cancel()
	}
	if r.reply != nil { // Insert's caller: its error alone, no reply to build
		select {
		case r.reply <- err:
		default:
		}
		return
	}
	if r.replyTo != nil || r.sender != nil {
		sendReply(sh.sys.Root, r.replyTo, r.sender, r.ack(err))
	}
}

// ack is the reply to an actor's call, stamped with its request's ID.
func (r *eventsReq) ack(err error) *messages.EventsAck {
	if err != nil {
		return &messages.EventsAck{Err: err, ID: r.id}
	}
	return &messages.EventsAck{Count: len(r.rows), ID: r.id}
}

// eventsFlush is the marker the writer sends itself: on its return, write what was read.
type eventsFlush struct{}

var flushMarker = &eventsFlush{}

// eventsDue is sent by the timer of a batch waiting for its target: its MaxDelay is up.
type eventsDue struct{ gen uint64 }

// eventsClose asks the writer to write everything it accepted; done is closed after.
type eventsClose struct{ done chan struct{} }

// killCtx is the writer's interrupt context: done once Close's ctx is.
type killCtx struct {
	context.Context
	kill *atomic.Bool
}

func (c *killCtx) Err() error {
	if c.kill.Load() {
		return messages.ErrClosed
	}
	return nil
}

// eventsActor is one incarnation of the writer: it owns the connection and the prepared INSERT.
type eventsActor struct {
	sh      *eventsShared
	db      *sqlitewasm.Conn
	ins     *sqlitewasm.Stmt
	openErr error
	ictx    killCtx
	onStop  func()
	dups    int64 // events of the batch being written skipped as duplicates by key

	ckpt      *checkpointer // nil: SQLite checkpoints within commits, as configured
	walLimit  int           // wal_autocheckpoint: when to nudge ckpt
	walFrames int           // the WAL's frames after the last commit (its WAL hook)
	ckptErr   string        // the last checkpoint error logged
}

var _ actor.Actor = (*eventsActor)(nil)

// Receive handles one message.
func (a *eventsActor) Receive(actx actor.Context) {
	switch m := actx.Message().(type) {
	case *eventsReq:
		a.receive(actx, m)
	case *eventsFlush:
		defer a.recoverCrash(actx, nil, nil)
		a.marker(actx)
	case *eventsDue:
		defer a.recoverCrash(actx, nil, nil)
		if m.gen == a.sh.gen && a.sh.waiting {
			a.flush()
		}
	case *eventsClose:
		defer a.recoverCrash(actx, nil, m)
		a.flush()
		close(m.done)
	case *actor.Started:
		a.open(actx)
	case *actor.Restarting:
		a.closeDB()
	case *actor.Stopping:
		a.stopWaiting()
		a.closeDB() // rolls back the batch's transaction, if one is open
		if len(a.sh.inflight) > 0 {
			a.failBatch(a.closedErr())
		}
		a.failAll(a.closedErr())
	case *actor.Stopped:
		a.sh.markStopped()
		if a.onStop != nil {
			a.onStop()
		}
	case messages.Request: // never leave a caller waiting: events go through the supervisor
		reply := m.ErrorReply(fmt.Errorf("%w: %T sent to the events writer; send messages.InsertEvents to the supervisor's PID",
			messages.ErrUnknownRequest, m))
		Deliver(actx, m, actx.Sender(), reply)
	}
}

func (a *eventsActor) open(actx actor.Context) {
	sh := a.sh
	a.stopWaiting() // a restart: the batch being waited for is written anew
	a.ictx = killCtx{Context: context.Background(), kill: &sh.kill}
	var err error
	if p := sh.stopErr.Load(); p != nil {
		err = *p
	} else {
		a.db, err = sqlitewasm.Open(context.Background(), sh.dsn, sh.db)
		if err == nil {
			err = ensureEventsTable(a.db, sh.tableName, sh.logger)
		}
		if err == nil {
			a.ins, err = a.db.Prepare(sh.insertSQL)
		}
		if err != nil {
			a.closeDB()
			err = fmt.Errorf("events store %s: %w", sh.dsn, err)
		} else {
			a.db.SetInterrupt(&a.ictx)
			a.startCheckpoints()
		}
	}
	a.openErr = err
	if !sh.markOpened(err) && err != nil && sh.stopErr.Load() == nil {
		sh.logger.Error("actorlite: reopening the events store after a crash failed", "dsn", sh.dsn, "err", err)
	}
	if len(sh.buf) > 0 { // read before a crash, not in its batch
		if err != nil {
			a.failAll(err)
		} else {
			a.postMarker(actx)
		}
	}
}

// gate returns the error a call gets instead of being written, or nil.
func (a *eventsActor) gate() error {
	if a.sh.kill.Load() {
		return a.closedErr()
	}
	if a.db == nil {
		if a.openErr != nil {
			return a.openErr
		}
		return messages.ErrClosed
	}
	return nil
}

func (a *eventsActor) closedErr() error {
	if p := a.sh.stopErr.Load(); p != nil {
		return *p
	}
	return fmt.Errorf("%w: the events writer stopped before writing these events", messages.ErrClosed)
}

// receive queues one call and writes a batch when it is due.
func (a *eventsActor) receive(actx actor.Context, r *eventsReq) {
	defer a.recoverCrash(actx, r, nil)
	sh := a.sh
	if err := a.gate(); err != nil {
		sh.answer(r, fmt.Errorf("insert events: %w", err))
		return
	}
	if err := r.ctx.Err(); err != nil {
		sh.answer(r, fmt.Errorf("insert events: given up before written: %w", err))
		return
	}
	r.queued = true
	sh.buf = append(sh.buf, r)
	sh.bufEvents += len(r.rows)
	if len(sh.buf) == 1 && !sh.txOpen {
		sh.firstAt = time.Now()
	}
	if sh.waiting {
		// The batch's transaction is open: the call goes in now, while its producers are
		// still sending the rest of the batch, and the batch commits once it has them.
		a.extend()
		if sh.inflightN+sh.bufEvents >= sh.target || sh.bufEvents > 0 { // reached, or full
			a.flush()
		}
		return
	}
	if sh.bufEvents >= sh.maxBatch || (len(sh.buf) > 1 && time.Since(sh.firstAt) >= sh.maxDelay) {
		a.flush()
		return
	}
	if !sh.markerPending {
		a.postMarker(actx)
	}
}

// postMarker sends the flush marker behind everything in the mailbox.
func (a *eventsActor) postMarker(actx actor.Context) {
	a.sh.markerPending = true
	actx.Send(actx.Self(), flushMarker)
}

// marker handles the flush marker's return: every call queued before it has been read. The
// batch is written now unless it is smaller than the one expected (sh.target): then the
// writer waits, idle, for the producers its last acks woke, and writes as soon as the batch
// reaches the target (receive), or when it is MaxDelay old (a timer's self-message). Without
// this, a few producers split into groups that alternate, each group's batch committing
// while the other one refills: half the batch size, twice the commits.
func (a *eventsActor) marker(actx actor.Context) {
	sh := a.sh
	sh.markerPending = false
	if sh.bufEvents == 0 || sh.waiting {
		return
	}
	if sh.bufEvents < sh.target {
		if left := sh.maxDelay - time.Since(sh.firstAt); left > 0 {
			sh.waiting = true
			root, self, due := actx.ActorSystem().Root, actx.Self(), &eventsDue{gen: sh.gen}
			sh.timer = time.AfterFunc(left, func() { root.Send(self, due) })
			a.extend() // what was read goes in while the rest comes
			if sh.bufEvents > 0 || !sh.txOpen {
				a.flush() // it failed, or there was nothing to wait with
			}
			return
		}
	}
	a.flush()
}

// stopWaiting ends a wait for the batch's target: the batch is being written, or the writer
// restarts or stops.
func (a *eventsActor) stopWaiting() {
	sh := a.sh
	sh.gen++
	sh.waiting = false
	if sh.timer != nil {
		sh.timer.Stop()
		sh.timer = nil
	}
}

// flush writes everything in buf, in transactions of at most maxBatch events (whole calls):
// first into the batch's open transaction, if the writer was waiting with one.
func (a *eventsActor) flush() {
	sh := a.sh
	a.stopWaiting()
	for sh.txOpen || len(sh.buf) > 0 {
		a.extend()
		a.commit()
	}
}

// extend moves the calls of buf that fit in the batch (at most maxBatch events, whole calls;
// always the first call of an empty batch) into inflight, and inserts their events in the
// batch's transaction, which it begins if need be. Calls whose callers gave up are answered
// and dropped instead. On an error the batch is rolled back and failed, inflight emptied.
func (a *eventsActor) extend() {
	sh := a.sh
	first, k, events := len(sh.inflight), 0, 0
	for ; k < len(sh.buf); k++ {
		r := sh.buf[k]
		if len(sh.inflight) > 0 && sh.inflightN+len(r.rows) > sh.maxBatch {
			break
		}
		events += len(r.rows)
		if err := r.ctx.Err(); err != nil {
			sh.answer(r, fmt.Errorf("insert events: given up before written: %w", err))
			continue
		}
		sh.inflight = append(sh.inflight, r)
		sh.inflightN += len(r.rows)
	}
	rest := copy(sh.buf, sh.buf[k:])
	clear(sh.buf[rest:])
	sh.buf, sh.bufEvents = sh.buf[:rest], sh.bufEvents-events
	added := sh.inflight[first:]
	if len(added) == 0 {
		return
	}
	if !sh.txOpen {
		if err := a.gate(); err != nil {
			a.failBatch(err)
			return
		}
		sh.batchNo++
		sh.batchRow, a.dups = 0, 0
		if err := a.db.Begin(messages.Immediate); err != nil {
			a.failBatch(err)
			return
		}
		sh.txOpen = true
	}
	for _, r := range added {
		for j := range r.rows {
			if sh.fault != nil {
				sh.fault(sh.batchNo, sh.batchRow)
			}
			if err := a.insert(r, &r.rows[j]); err != nil {
				a.rollback()
				a.failBatch(err)
				return
			}
			sh.batchRow++
		}
	}
}

// commit commits the batch's open transaction and acks its calls. On a panic, sh.inflight is
// left for recoverCrash to answer (so no deferred cleanup here).
func (a *eventsActor) commit() {
	sh := a.sh
	if !sh.txOpen {
		return
	}
	if err := a.db.Commit(); err != nil {
		a.rollback()
		a.failBatch(err)
		return
	}
	sh.committed = true
	sh.counters.Batches.Add(1)
	sh.counters.Duplicates.Add(a.dups)
	// The callers acked now will likely send again (closed-loop producers), and the events
	// queued behind this batch are waiting: together, the next batch to expect.
	acked, queued := sh.ackAll(sh.inflight)
	sh.target = min(int(acked+queued), sh.maxBatch)
	a.endBatch()
	a.checkpoints()
}

// endBatch forgets the batch: written, failed, or lost with a crash.
func (a *eventsActor) endBatch() {
	sh := a.sh
	clear(sh.inflight)
	sh.inflight, sh.inflightN, sh.txOpen, sh.committed = sh.inflight[:0], 0, false, false
}

func (a *eventsActor) insert(r *eventsReq, row *eventRow) error {
	s := a.ins
	if err := s.BindText(1, row.userID); err != nil {
		return err
	}
	if err := s.BindText(2, row.name); err != nil {
		return err
	}
	var err error
	if row.props < 0 {
		err = s.BindNull(3)
	} else {
		err = s.BindTextBytes(3, r.text[row.props:row.props+row.propsLen])
	}
	if err != nil {
		return err
	}
	if err := s.BindTextBytes(4, r.text[row.ts:int(row.ts)+tsLen]); err != nil {
		return err
	}
	if row.key == "" {
		err = s.BindNull(5)
	} else {
		err = s.BindText(5, row.key)
	}
	if err != nil {
		return err
	}
	if err := s.Exec(); err != nil || row.key == "" {
		return err
	}
	if a.db.Changes() == 0 { // its key is stored already: acknowledged, not stored twice
		a.dups++
	}
	return nil
}

// failBatch answers every call of the batch, which was not written, and forgets it.
func (a *eventsActor) failBatch(err error) {
	a.sh.target = 0
	if a.sh.kill.Load() {
		err = fmt.Errorf("%w: %w", messages.ErrClosed, err)
	}
	err = fmt.Errorf("insert events: batch not written: %w", err)
	for _, r := range a.sh.inflight {
		a.sh.answer(r, err)
	}
	a.endBatch()
}

// failAll answers every call read and not written with err.
func (a *eventsActor) failAll(err error) {
	sh := a.sh
	for _, r := range sh.buf {
		sh.answer(r, err)
	}
	clear(sh.buf)
	sh.buf, sh.bufEvents = sh.buf[:0], 0
}

func (a *eventsActor) rollback() {
	if err := a.db.Rollback(); err != nil {
		a.sh.logger.Warn("actorlite: rolling back an events batch", "dsn", a.sh.dsn, "err", err)
	}
}

// recoverCrash turns a panic into a crash: it answers the calls of the batch in flight (with
// ErrCrashed, or with their ack if their transaction had committed) and cur if it was not yet
// queued, posts again (behind the queue) a message the writer still owes an answer to, and
// hands a *Crash to the supervisor (escalate), which restarts the writer.
func (a *eventsActor) recoverCrash(actx actor.Context, cur *eventsReq, again any) {
	p := recover()
	if p == nil {
		return
	}
	sh := a.sh
	ce := &messages.CrashError{DSN: sh.dsn, Panic: p}
	stack := debug.Stack()
	err := fmt.Errorf("insert events: the events writer crashed during their batch; nothing of it was stored: %w", ce)
	if sh.committed {
		sh.ackAll(sh.inflight)
	} else {
		for _, r := range sh.inflight {
			sh.answer(r, err)
		}
	}
	a.endBatch() // (its transaction, if open, is rolled back as the connection closes)
	sh.target = 0
	if cur != nil && !cur.queued {
		sh.answer(cur, err)
	}
	if again != nil {
		actx.Send(actx.Self(), again)
	}
	escalate(actx, &Crash{Err: ce, Stack: stack}, sh.restarts, nil)
}

// closeDB rolls back what a crash left open and closes the connection, after the
// checkpointer's: the writer's, the last, then checkpoints what is left, as SQLite does.
func (a *eventsActor) closeDB() {
	if a.ckpt != nil {
		a.ckpt.stop()
		a.ckpt = nil
	}
	if a.db == nil {
		return
	}
	func() {
		defer func() { recover() }() // an instance a panic left unusable is dropped by Close
		if a.db.InTransaction() {
			a.db.Rollback()
		}
	}()
	if err := a.db.Close(); err != nil {
		a.sh.logger.Warn("actorlite: closing the events store", "dsn", a.sh.dsn, "err", err)
	}
	a.db, a.ins = nil, nil
}

// startCheckpoints moves the writer's checkpoints to a checkpointer, when its database is in
// WAL mode (not with exclusive locking) and wal_autocheckpoint is on; if the checkpointer
// cannot open, SQLite goes on checkpointing within commits.
func (a *eventsActor) startCheckpoints() {
	sh := a.sh
	limit := walThreshold(sh.db.Pragmas)
	if limit == 0 {
		return
	}
	// A second connection can share the WAL only in WAL mode, and not beside a connection in
	// exclusive locking mode (its open would wait out the busy timeout, then fail).
	if !a.pragmaIs("journal_mode", "wal") || a.pragmaIs("locking_mode", "exclusive") {
		return
	}
	ck, err := startCheckpointer(sh.dsn, sh.db, sh.logger)
	if err != nil {
		sh.logger.Warn("actorlite: the events store's checkpointer did not open; checkpoints run within commits", "dsn", sh.dsn, "err", err)
		return
	}
	a.ckpt, a.walLimit, a.walFrames = ck, limit, 0
	a.db.SetWALHook(func(frames int) { a.walFrames = frames })
}

// pragmaIs reports whether the writer's connection reads value for the pragma name.
func (a *eventsActor) pragmaIs(name, value string) bool {
	row, err := a.db.QueryRow("PRAGMA "+name, nil)
	var got string
	return err == nil && row.Scan(&got) == nil && strings.EqualFold(got, value)
}

// checkpoints runs after each commit: it nudges the checkpointer once the WAL holds
// wal_autocheckpoint frames. After the checkpointer's checkpoint, the writer copies what was
// committed meanwhile itself, so that its next commit starts the WAL over; and if the WAL
// reaches four times the threshold (the checkpointer cannot keep up), the writer checkpoints
// itself, as SQLite would have.
func (a *eventsActor) checkpoints() {
	ck := a.ckpt
	if ck == nil {
		return
	}
	// Once the checkpointer gave up, the writer checkpoints from the threshold on, as SQLite does.
	full := a.walFrames >= a.walLimit && ck.broken.Load()
	switch {
	case ck.synced.Swap(false), full, a.walFrames >= 4*a.walLimit:
		if _, _, err := a.db.Checkpoint(); err != nil && !errors.Is(err, messages.ErrBusy) && err.Error() != a.ckptErr {
			a.ckptErr = err.Error() // logged once until it changes
			a.sh.logger.Warn("actorlite: checkpointing the events store", "dsn", a.sh.dsn, "err", err)
		}
	case a.walFrames >= a.walLimit:
		ck.nudge()
	}
}
