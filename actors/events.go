package actors

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/asynkron/protoactor-go/actor"
)

// The events writer: group commit of analytics events.
//
// One actor owns one connection to the events database and writes every event through one
// prepared INSERT. Invariants:
//   - an ack (a nil error, or an EventsAck without Err) is sent only after the transaction
//     holding all of the call's events committed; a call's events are never split across
//     transactions, so a call is stored whole or not at all;
//   - every call accepted by the writer is answered exactly once: acked after its commit, or
//     failed (its ctx was done before its batch began, the batch failed, the writer crashed
//     during its batch, or the writer was stopped before writing it);
//   - a crash fails exactly the calls of the batch in flight, whose transaction was never
//     committed; calls read but not yet in a batch (buf, in eventsShared, which outlives the
//     actor's incarnations) and calls still in the mailbox (which survives a restart) are
//     written by the next incarnation, once each;
//   - at most MaxQueued events and MaxQueuedBytes bytes are between a producer's send and
//     their answer (quota), and as many again wait for room in the overflow of actors'
//     calls, which never block their senders: memory stays bounded however fast producers
//     are, in bytes as well as in events.
//
// Batching. When a call arrives the writer appends it to buf and, unless one is already on
// its way, sends itself a flush marker. The mailbox is FIFO, so by the time the marker comes
// back every call that was queued behind the first one is in buf: the writer then commits
// them all in one transaction, unless the batch is smaller than the one to expect (target:
// the events it just acked, whose callers typically send again, plus those already queued).
// Then it waits, idle (no sleep: a time.AfterFunc self-message bounds the wait to MaxDelay
// from the batch's first call), and writes as soon as the batch reaches the target. While a
// transaction runs, producers keep sending, and the next batch fills in the mailbox. A batch
// is also written as soon as it holds MaxBatch events, or once the writer has been reading
// for MaxDelay. So a lone producer's event is written at once (target 1), and N producers
// each waiting for its ack get batches of about N (never more: each has one event out).
// Without the target, they split into groups whose batches alternate, each committing while
// the other refills: measured, 64 producers then got 4-30 events per transaction, and 8 got 2.

// Defaults of [EventWriterConfig].
const (
	DefaultEventsTable = "events"
	DefaultMaxBatch    = 1024
	DefaultMaxDelay    = 2 * time.Millisecond
	DefaultMaxQueued   = 65536
	// DefaultMaxQueuedBytes bounds the bytes of the events queued (64 MiB).
	DefaultMaxQueuedBytes = 64 << 20
	// MaxQueuedBytesLimit is the largest MaxQueuedBytes (1 GiB): a call's text is indexed
	// with 32-bit offsets.
	MaxQueuedBytesLimit = 1 << 30
)

// eventOverhead is what an event costs the queue besides its text: its row and headers.
const eventOverhead = 64

// MaxEventProperties is the largest Properties an event may have, in bytes (1 MiB):
// [messages.MaxEventProperties].
const MaxEventProperties = messages.MaxEventProperties

// EventsCheckpointPages is the writer connection's PRAGMA wal_autocheckpoint (SQLite's default
// is 1000 pages). Each event of a batch dirties a page of the (user_id, timestamp) index of its
// own when events come from many users, so with the default a checkpoint (with its fsyncs)
// would run every few dozen batches: measured, 64-event batches went 25-40% faster with this.
// The WAL grows to about 40 MB between checkpoints. WithPragma("wal_autocheckpoint", …) in the
// writer's options overrides it.
const EventsCheckpointPages = "10000"

// EventWriterConfig configures [NewEventWriter]. Zero fields take the defaults above.
type EventWriterConfig struct {
	System    *actor.ActorSystem
	DSN       string        // the events database
	Table     string        // an SQL identifier; "" means "events"
	MaxBatch  int           // events per transaction (a single call of more is not split)
	MaxDelay  time.Duration // longest the writer keeps reading before it writes a batch
	MaxQueued int           // events between send and answer before producers wait
	// MaxQueuedBytes bounds the same in bytes: each event counts its UserID, Name,
	// Properties and timestamp, plus 64 bytes. A call larger than this is refused whole.
	// 0 means DefaultMaxQueuedBytes; at most MaxQueuedBytesLimit.
	MaxQueuedBytes int
	Options        []Option     // connection options (WithSynchronous, WithBusyTimeout, …)
	Logger         *slog.Logger // nil: discard
}

// EventCounters are the events writer's counters. They are safe for concurrent use.
type EventCounters struct {
	Committed atomic.Int64 // events committed
	Batches   atomic.Int64 // transactions committed
	Failed    atomic.Int64 // events answered with an error after they were queued
	Queued    atomic.Int64 // events sent to the writer and not answered yet
}

// WithEventsFault is for fault-injection tests of the events writer: fn runs on the writer's
// goroutine before it inserts the i-th event (from 0) of its batch-th batch (from 1, counted
// across restarts), inside the batch's transaction. A panic in fn is a real crash of the writer.
func WithEventsFault(fn func(batch int64, i int)) Option {
	return func(c *config) { c.eventsFault = fn }
}

// EventWriter is how a supervisor spawns, feeds and stops the events writer; programs use
// supervisor.Supervisor.InsertEvent instead. Spawn [EventWriter.Props] once as a child, then
// [EventWriter.Bind] the PID. Its methods are safe for concurrent use, except Bind.
type EventWriter struct {
	sh    *eventsShared
	props *actor.Props
	disp  *loopDispatcher
	pid   *actor.PID
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// NewEventWriter prepares an events writer. A Table that is not a plain SQL identifier is an
// error wrapping [messages.ErrBadEvent] (an [*messages.EventError] with Field "Table").
func NewEventWriter(cfg EventWriterConfig) (*EventWriter, error) {
	table := cfg.Table
	if table == "" {
		table = DefaultEventsTable
	}
	if !identifier.MatchString(table) || strings.HasPrefix(strings.ToLower(table), "sqlite_") {
		return nil, &messages.EventError{Field: "Table", Reason: fmt.Sprintf("%q is not a plain SQL identifier (letters, digits, _; not sqlite_…)", table)}
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.MaxQueuedBytes <= 0 {
		cfg.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	cfg.MaxQueuedBytes = min(cfg.MaxQueuedBytes, MaxQueuedBytesLimit)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := newConfig(append([]Option{WithPragma("wal_autocheckpoint", EventsCheckpointPages)}, cfg.Options...))
	q := `"` + table + `"`
	sh := &eventsShared{
		dsn: cfg.DSN, db: c.db, fault: c.eventsFault, logger: cfg.Logger, sys: cfg.System,
		maxBatch: cfg.MaxBatch, maxDelay: cfg.MaxDelay,
		schemaSQL: `CREATE TABLE IF NOT EXISTS ` + q + ` (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, ` +
			`name TEXT NOT NULL, properties BLOB, timestamp DATETIME NOT NULL); ` +
			`CREATE INDEX IF NOT EXISTS "` + table + `_user_id_timestamp" ON ` + q + ` (user_id, timestamp);`,
		insertSQL: `INSERT INTO ` + q + ` (user_id, name, properties, timestamp) VALUES (?1, ?2, ?3, ?4)`,
		closing:   make(chan struct{}),
		lifecycle: newLifecycle(),
		restarts:  actor.NewRestartStatistics(),
	}
	sh.sem.maxN, sh.sem.maxB = int64(cfg.MaxQueued), int64(cfg.MaxQueuedBytes)
	d := newLoopDispatcher()
	props := actor.PropsFromProducer(func() actor.Actor {
		return &eventsActor{sh: sh, onStop: d.Close}
	}, actor.WithDispatcher(d))
	return &EventWriter{sh: sh, props: props, disp: d}, nil
}

// Props returns the writer actor's Props. Spawn them once.
func (w *EventWriter) Props() *actor.Props { return w.props }

// Bind records the spawned writer's PID. Call it once, before any other method but Props.
func (w *EventWriter) Bind(pid *actor.PID) { w.pid = pid }

// PID returns the writer actor's PID (nil before Bind).
func (w *EventWriter) PID() *actor.PID { return w.pid }

// DSN returns the events database's DSN.
func (w *EventWriter) DSN() string { return w.sh.dsn }

// Counters returns the writer's counters.
func (w *EventWriter) Counters() *EventCounters { return &w.sh.counters }

// Done returns a channel closed when the writer actor has stopped.
func (w *EventWriter) Done() <-chan struct{} { return w.sh.done }

// WaitOpen waits for the writer's first attempt to open the database, create the table and
// prepare its statement, and returns its error.
func (w *EventWriter) WaitOpen(ctx context.Context) error {
	return w.sh.waitOpen(ctx, "open events store")
}

// Abandon ends a writer whose restart budget is spent: from now on every call gets err (which
// should wrap [messages.ErrClosed] and [messages.ErrCrashed]). Restart the actor afterwards:
// its next incarnation answers every queued and later call with err instead of writing.
func (w *EventWriter) Abandon(err error) { w.sh.stopErr.Store(&err) }

// Insert validates evs, waits for room in the queue (honouring ctx), hands them to the writer
// and returns once the transaction holding them committed. One bad event rejects the call with
// an [*messages.EventError] and nothing of it is stored. A zero Timestamp means now. The call's
// events are committed together, in one transaction. When ctx is done first, Insert returns its
// error at once; the events may still be written.
func (w *EventWriter) Insert(ctx context.Context, evs []messages.Event) error {
	ctx = orBackground(ctx)
	sh := w.sh
	if err := sh.closedErr(); err != nil {
		return fmt.Errorf("actorlite: insert events: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("actorlite: insert events: %w", err)
	}
	if len(evs) == 0 {
		return nil
	}
	r, err := sh.newReq(evs)
	if err != nil {
		return err
	}
	if err := sh.sem.acquire(ctx, r.weight, r.bytes, sh.closing); err != nil {
		return fmt.Errorf("actorlite: insert events: waiting for room in the queue: %w", err)
	}
	ch := eventReplies.Get().(chan error)
	r.ctx, r.reply = ctx, ch
	if err := w.send(r); err != nil {
		sh.sem.release(r.weight, r.bytes)
		eventReplies.Put(ch)
		return fmt.Errorf("actorlite: insert events: %w", err)
	}
	select {
	case err := <-ch:
		eventReplies.Put(ch)
		return err
	case <-ctx.Done():
		return fmt.Errorf("actorlite: insert events: %w", ctx.Err())
	case <-sh.done:
		select {
		case err := <-ch:
			return err
		default:
		}
		err := sh.closedErr()
		if err == nil {
			err = messages.ErrClosed
		}
		return fmt.Errorf("actorlite: insert events: %w", err)
	}
}

// Submit is Insert for an actor's [messages.InsertEvents] (sender is the requester's PID, or
// nil): the answer, an [*messages.EventsAck], goes to m.ReplyTo when set, else to sender.
// Submit never blocks: when the queue is full, the call waits for room (honouring m.Ctx) in an
// overflow that holds as many events and bytes as the queue, with no goroutine of its own;
// when the overflow is full too, it is answered at once with [messages.ErrOverloaded].
func (w *EventWriter) Submit(m *messages.InsertEvents, sender *actor.PID) {
	sh := w.sh
	ctx, cancel := m.Context(), context.CancelFunc(func() {})
	if dl := messages.RequestDeadline(m); !dl.IsZero() {
		// An actor's deadline, honoured as its ctx (the wait for room needs its Done).
		ctx, cancel = context.WithDeadline(ctx, dl)
	}
	answer := func(n int, err error) {
		cancel()
		Deliver(sh.sys.Root, m, sender, &messages.EventsAck{Count: n, Err: err})
	}
	if err := sh.closedErr(); err != nil {
		answer(0, fmt.Errorf("actorlite: insert events: %w", err))
		return
	}
	if err := ctx.Err(); err != nil {
		answer(0, fmt.Errorf("actorlite: insert events: %w", err))
		return
	}
	if len(m.Events) == 0 {
		answer(0, nil)
		return
	}
	r, err := sh.newReq(m.Events)
	if err != nil {
		answer(0, err)
		return
	}
	r.ctx, r.replyTo, r.cancel, r.id = ctx, m.ReplyTo, cancel, messages.RequestID(m)
	if r.replyTo == nil {
		r.sender = sender
	}
	err = sh.sem.wait(ctx, r.weight, r.bytes, func(err error) {
		if err == nil {
			if err = w.send(r); err != nil {
				sh.sem.release(r.weight, r.bytes)
			}
		}
		if err != nil {
			answer(0, fmt.Errorf("actorlite: insert events: waiting for room in the queue: %w", err))
		}
	})
	if err != nil {
		answer(0, fmt.Errorf("actorlite: insert events: %w", err))
	}
}

// send hands r, which holds its share of the queue, to the writer.
func (w *EventWriter) send(r *eventsReq) error {
	sh := w.sh
	sh.sendMu.RLock()
	if sh.closed {
		sh.sendMu.RUnlock()
		return messages.ErrClosed
	}
	sh.counters.Queued.Add(int64(len(r.rows)))
	sh.sys.Root.Send(w.pid, r)
	sh.sendMu.RUnlock()
	return nil
}

// Close stops accepting events (later calls, and calls still waiting for room in the queue,
// get [messages.ErrClosed]) and returns once the writer answered every call it accepted: the
// events are written. When ctx is done first, the writer is interrupted and fails what it has
// not written; Close then returns how many events were not written, with ctx's error. The
// actor itself is left for its parent to stop (which closes its connection): stopping it here
// would race with the parent's own stop of its children (a dead letter). Close is idempotent.
func (w *EventWriter) Close(ctx context.Context) (notWritten int64, err error) {
	ctx = orBackground(ctx)
	sh := w.sh
	sh.sendMu.Lock()
	again := sh.closed
	if !again {
		sh.closed = true
		sh.isClosed.Store(true)
		close(sh.closing)
	}
	sh.sendMu.Unlock()
	if !again {
		sh.sem.close(messages.ErrClosed) // actors' calls waiting for room get ErrClosed
	}
	if w.pid == nil { // never spawned
		w.disp.Close()
		sh.markStopped()
		return 0, nil
	}
	if again {
		return 0, nil
	}
	failed := sh.counters.Failed.Load()
	flushed := make(chan struct{})
	sh.sys.Root.Send(w.pid, &eventsClose{done: flushed})
	select {
	case <-flushed:
	case <-sh.done:
	case <-ctx.Done():
		sh.kill.Store(true)
		select {
		case <-flushed:
		case <-sh.done:
		}
	}
	notWritten = sh.counters.Failed.Load() - failed + sh.counters.Queued.Load()
	if err := ctx.Err(); err != nil {
		return notWritten, err
	}
	return notWritten, nil
}

// Discard releases a writer whose Props were never spawned.
func (w *EventWriter) Discard() { w.Close(context.Background()) }

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
	schemaSQL, insertSQL string

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
	committed     bool         // inflight's transaction committed
	batchNo       int64
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

var eventReplies = sync.Pool{New: func() any { return make(chan error, 1) }}

// eventsReq is one call's events on their way to the writer, validated and encoded.
type eventsReq struct {
	rows   []eventRow
	text   []byte // every row's properties and timestamp text
	weight int64  // its share of the queue: its event count, at most MaxQueued
	bytes  int64  // and its size (see EventWriterConfig.MaxQueuedBytes)
	ctx    context.Context
	cancel context.CancelFunc // releases ctx's deadline timer, if any, once answered
	id     uint64             // the request's ID, echoed in its reply

	reply   chan<- error          // Insert's caller
	replyTo chan<- messages.Reply // an actor's ReplyTo
	sender  *actor.PID            // an actor's Request

	queued, answered bool // actor only

	one    [1]eventRow
	inline [192]byte
}

type eventRow struct {
	userID, name string
	props        int32 // offset of the properties in text; -1: NULL
	propsLen     int32
	ts           int32 // offset of the timestamp text (len(messages.TimeLayout) bytes)
}

const tsLen = len(messages.TimeLayout)

// newReq validates and encodes evs. A call's share of the queue is its event count, capped
// at MaxQueued (a call of more events than that waits for an empty queue), and its bytes: a
// call of more bytes than MaxQueuedBytes is refused whole, before anything of it is copied.
func (sh *eventsShared) newReq(evs []messages.Event) (*eventsReq, error) {
	var bytes int64
	for i := range evs {
		ev := &evs[i]
		bytes += int64(len(ev.UserID)+len(ev.Name)+len(ev.Properties)+tsLen) + eventOverhead
		if bytes > sh.sem.maxB {
			return nil, &messages.EventError{Index: -1, Field: "Events", Reason: fmt.Sprintf(
				"the call's events take more than the %d bytes the queue holds (MaxQueuedBytes), from event %d on: split the call", sh.sem.maxB, i)}
		}
	}
	r, err := newEventsReq(evs, time.Now())
	if err != nil {
		return nil, err
	}
	r.weight, r.bytes = min(r.weight, sh.sem.maxN), bytes
	return r, nil
}

// newEventsReq validates evs and encodes them; a zero Timestamp becomes now.
func newEventsReq(evs []messages.Event, now time.Time) (*eventsReq, error) {
	size := 0
	for i := range evs {
		ev := &evs[i]
		if err := ev.Validate(); err != nil {
			err.(*messages.EventError).Index = i
			return nil, err
		}
		size += len(ev.Properties) + tsLen
	}
	r := &eventsReq{weight: int64(len(evs))}
	if len(evs) == 1 {
		r.rows = r.one[:]
	} else {
		r.rows = make([]eventRow, len(evs))
	}
	if size <= len(r.inline) {
		r.text = r.inline[:0]
	} else {
		r.text = make([]byte, 0, size)
	}
	nowTS := int32(-1)
	for i := range evs {
		ev, row := &evs[i], &r.rows[i]
		row.userID, row.name, row.props = ev.UserID, ev.Name, -1
		if len(ev.Properties) > 0 {
			row.props, row.propsLen = int32(len(r.text)), int32(len(ev.Properties))
			r.text = append(r.text, ev.Properties...)
		}
		switch {
		case !ev.Timestamp.IsZero():
			row.ts = int32(len(r.text))
			r.text = ev.Timestamp.UTC().AppendFormat(r.text, messages.TimeLayout)
		case nowTS < 0:
			nowTS = int32(len(r.text))
			row.ts = nowTS
			r.text = now.UTC().AppendFormat(r.text, messages.TimeLayout)
		default:
			row.ts = nowTS
		}
	}
	return r, nil
}

// deliver sends a call's answer to whoever waits for it. It never blocks.
func (sh *eventsShared) deliver(r *eventsReq, err error) {
	if r.cancel != nil {
		r.cancel()
	}
	switch {
	case r.reply != nil:
		select {
		case r.reply <- err:
		default:
		}
	case r.replyTo != nil:
		select {
		case r.replyTo <- r.ack(err):
		default:
		}
	case r.sender != nil:
		sh.sys.Root.Send(r.sender, r.ack(err))
	}
}

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
		a.failAll(a.closedErr())
		a.closeDB()
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
			err = a.db.ExecScript(sh.schemaSQL)
		}
		if err == nil {
			a.ins, err = a.db.Prepare(sh.insertSQL)
		}
		if err != nil {
			a.closeDB()
			err = fmt.Errorf("actorlite: events store %s: %w", sh.dsn, err)
		} else {
			a.db.SetInterrupt(&a.ictx)
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
		sh.answer(r, fmt.Errorf("actorlite: insert events: %w", err))
		return
	}
	if err := r.ctx.Err(); err != nil {
		sh.answer(r, fmt.Errorf("actorlite: insert events: given up before written: %w", err))
		return
	}
	r.queued = true
	sh.buf = append(sh.buf, r)
	sh.bufEvents += len(r.rows)
	if len(sh.buf) == 1 {
		sh.firstAt = time.Now()
	}
	if sh.bufEvents >= sh.maxBatch || (sh.waiting && sh.bufEvents >= sh.target) ||
		(len(sh.buf) > 1 && time.Since(sh.firstAt) >= sh.maxDelay) {
		a.flush()
		return
	}
	if !sh.markerPending && !sh.waiting {
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

// flush writes everything in buf, in transactions of at most maxBatch events (whole calls).
func (a *eventsActor) flush() {
	sh := a.sh
	a.stopWaiting()
	for len(sh.buf) > 0 {
		k, n := 0, 0
		for k < len(sh.buf) && (k == 0 || n+len(sh.buf[k].rows) <= sh.maxBatch) {
			n += len(sh.buf[k].rows)
			k++
		}
		sh.inflight = append(sh.inflight[:0], sh.buf[:k]...)
		rest := copy(sh.buf, sh.buf[k:])
		clear(sh.buf[rest:])
		sh.buf = sh.buf[:rest]
		sh.bufEvents -= n
		a.write()
	}
}

// write commits the events of sh.inflight in one transaction and answers their calls. On a
// panic, sh.inflight is left for recoverCrash to answer (so no deferred cleanup here).
func (a *eventsActor) write() {
	a.writeBatch()
	sh := a.sh
	clear(sh.inflight)
	sh.inflight, sh.committed = sh.inflight[:0], false
}

func (a *eventsActor) writeBatch() {
	sh := a.sh
	batch := sh.inflight
	// Calls whose callers gave up are dropped before the transaction begins.
	kept := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			sh.answer(r, fmt.Errorf("actorlite: insert events: given up before written: %w", err))
			continue
		}
		kept = append(kept, r)
	}
	clear(batch[len(kept):])
	batch = kept
	sh.inflight = kept
	if len(batch) == 0 {
		return
	}
	if err := a.gate(); err != nil {
		a.fail(batch, err)
		return
	}
	sh.batchNo++
	if err := a.db.Begin(messages.Immediate); err != nil {
		a.fail(batch, err)
		return
	}
	i := 0
	for _, r := range batch {
		for j := range r.rows {
			if sh.fault != nil {
				sh.fault(sh.batchNo, i)
			}
			if err := a.insert(r, &r.rows[j]); err != nil {
				a.rollback()
				a.fail(batch, err)
				return
			}
			i++
		}
	}
	if err := a.db.Commit(); err != nil {
		a.rollback()
		a.fail(batch, err)
		return
	}
	sh.committed = true
	sh.counters.Batches.Add(1)
	// The callers acked now will likely send again (closed-loop producers), and the events
	// queued behind this batch are waiting: together, the next batch to expect.
	acked, queued := sh.ackAll(batch)
	sh.target = min(int(acked+queued), sh.maxBatch)
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
	return s.Exec()
}

// fail answers every call of a batch that was not written.
func (a *eventsActor) fail(batch []*eventsReq, err error) {
	a.sh.target = 0
	if a.sh.kill.Load() {
		err = fmt.Errorf("%w: %w", messages.ErrClosed, err)
	}
	err = fmt.Errorf("actorlite: insert events: batch not written: %w", err)
	for _, r := range batch {
		a.sh.answer(r, err)
	}
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
	err := fmt.Errorf("actorlite: insert events: the events writer crashed during their batch; nothing of it was stored: %w", ce)
	if sh.committed {
		sh.ackAll(sh.inflight)
	} else {
		for _, r := range sh.inflight {
			sh.answer(r, err)
		}
	}
	clear(sh.inflight)
	sh.inflight, sh.committed, sh.target = sh.inflight[:0], false, 0
	if cur != nil && !cur.queued {
		sh.answer(cur, err)
	}
	if again != nil {
		actx.Send(actx.Self(), again)
	}
	escalate(actx, &Crash{Err: ce, Stack: stack}, sh.restarts, nil)
}

// closeDB rolls back what a crash left open and closes the connection.
func (a *eventsActor) closeDB() {
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
