package actors

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actorlite/actorlite/messages"
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
//     failed (its ctx was done before it went into a batch, the batch failed, the writer crashed
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
// Then it begins the batch's transaction with the calls it has, and inserts each call that
// arrives as it is read, while the other producers are still sending (no sleep: a
// time.AfterFunc self-message bounds the wait to MaxDelay from the batch's first call); it
// commits as soon as the batch reaches the target. Waiting idle instead left the writer
// without work for a fifth of the time with 64 producers (bench/README.md). The batch's
// transaction holds the database's write lock while it fills: at most MaxDelay longer than the
// write itself, which other writers of the same file wait out in their busy timeout. While a
// transaction commits, producers keep sending, and the next batch fills in the mailbox. A batch
// is also written as soon as it holds MaxBatch events, or once the writer has been reading
// for MaxDelay. So a lone producer's event is written at once (target 1), and N producers
// each waiting for its ack get batches of about N (never more: each has one event out).
// Without the target, they split into groups whose batches alternate, each committing while
// the other refills, in batches of a fraction of N (figures in bench/README.md).

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

// EventsCheckpointPages is the writer connection's PRAGMA wal_autocheckpoint (SQLite's default
// is 1000 pages). Each event of a batch dirties a page of the (user_id, timestamp) index of its
// own when events come from many users, so with the default a checkpoint (with its fsyncs)
// would run every few dozen batches, and 64-event batches measured markedly slower (figures in
// bench/README.md). The WAL grows to about 40 MB between checkpoints.
// WithPragma("wal_autocheckpoint", …) in the writer's options overrides it; 0 or less turns
// checkpoints off, as in SQLite.
//
// On a database in WAL mode the checkpoints do not run within a commit, as SQLite runs them,
// which held up the batch that crossed the threshold and every producer waiting for it: the
// writer opens a second connection (configured as its own, about 330 KiB more) whose goroutine
// runs a PASSIVE checkpoint when the WAL reaches the threshold; after it, the writer checkpoints
// the few pages committed meanwhile, so that the WAL starts over. Should the WAL reach four
// times the threshold, or the second connection fail, the writer checkpoints itself, as SQLite
// would. Close, Stop and a restart stop that goroutine, after the checkpoint under way. With
// exclusive locking (PRAGMA locking_mode), or off WAL mode, SQLite checkpoints as before.
const EventsCheckpointPages = 10000

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
	Options        []Option     // connection options (WithSynchronous, WithBusyTimeout, …), and WithEventsFault
	Logger         *slog.Logger // nil: discard
}

// EventCounters are the events writer's counters. They are safe for concurrent use.
type EventCounters struct {
	Committed atomic.Int64 // events committed (duplicates by IdempotencyKey included: acknowledged)
	Batches   atomic.Int64 // transactions committed
	Failed    atomic.Int64 // events answered with an error after they were queued
	Queued    atomic.Int64 // events sent to the writer and not answered yet
	// Duplicates counts the events acknowledged without a row of their own: their
	// IdempotencyKey was stored already, or earlier in their batch.
	Duplicates atomic.Int64
}

// WithEventsFault is for fault-injection tests of the events writer: fn runs on the writer's
// goroutine before it inserts the i-th event (from 0) of its batch-th batch (from 1, counted
// across restarts), inside the batch's transaction. A panic in fn is a real crash of the writer.
//
// It is an option of the events writer only: pass it in [EventWriterConfig.Options] (or
// supervisor.EventsConfig.Options), with the writer's connection options. It is an [Option]
// so that it travels with them; given to a connection, it does nothing (see [WithFaultHook]).
func WithEventsFault(fn func(batch int64, i int)) Option {
	return func(c *config) { c.eventsFault = fn }
}

// EventWriter is how a supervisor spawns, feeds and stops the events writer; programs use
// supervisor.Supervisor.InsertEvent instead. Spawn [EventWriter.Props] once as a child, then
// [EventWriter.Bind] the PID. Its methods are safe for concurrent use, except Bind.
//
// Its methods share names with [Child]'s, which a supervisor drives the same way, but their
// meanings differ where the events writer and a connection differ: see [EventWriter.Abandon],
// [EventWriter.Close] and [EventWriter.Discard].
type EventWriter struct {
	sh    *eventsShared
	props *actor.Props
	disp  *loopDispatcher
	pid   *actor.PID
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// NewEventWriter prepares an events writer. A Table that is not a plain SQL identifier is an
// error wrapping [messages.ErrConfig] (a [*messages.ConfigError] with Field "Table"): the
// program's configuration is at fault, not an event.
func NewEventWriter(cfg EventWriterConfig) (*EventWriter, error) {
	table := cfg.Table
	if table == "" {
		table = DefaultEventsTable
	}
	if !identifier.MatchString(table) || strings.HasPrefix(strings.ToLower(table), "sqlite_") {
		return nil, &messages.ConfigError{Field: "Table", Reason: fmt.Sprintf("%q is not a plain SQL identifier (letters, digits, _; not sqlite_…)", table)}
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
	c := newConfig(append([]Option{WithPragma("wal_autocheckpoint", strconv.Itoa(EventsCheckpointPages))}, cfg.Options...))
	sh := &eventsShared{
		dsn: cfg.DSN, db: c.db, fault: c.eventsFault, logger: cfg.Logger, sys: cfg.System,
		maxBatch: cfg.MaxBatch, maxDelay: cfg.MaxDelay,
		tableName: table, insertSQL: eventsInsertSQL(table),
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

// Props returns the writer actor's Props. Spawn them once, as a child of the supervising actor.
func (w *EventWriter) Props() *actor.Props { return w.props }

// Bind records the spawned writer's PID. Call it once, before any other method but Props.
func (w *EventWriter) Bind(pid *actor.PID) { w.pid = pid }

// PID returns the writer actor's PID (nil before Bind).
func (w *EventWriter) PID() *actor.PID { return w.pid }

// DSN returns the events database's DSN.
func (w *EventWriter) DSN() string { return w.sh.dsn }

// Counters returns the writer's counters.
func (w *EventWriter) Counters() *EventCounters { return &w.sh.counters }

// Done returns a channel closed when the writer actor has stopped for good (not when it
// restarts after a crash).
func (w *EventWriter) Done() <-chan struct{} { return w.sh.done }

// WaitOpen waits for the writer's first attempt to open the database, create the table and
// prepare its statement, and returns its error; reopens after a crash do not count.
func (w *EventWriter) WaitOpen(ctx context.Context) error {
	return w.sh.waitOpen(ctx, "open events store")
}

// Abandon ends a writer whose restart budget is spent: from now on every call gets err (which
// should wrap [messages.ErrClosed] and [messages.ErrCrashed]). The supervisor must then restart
// the actor (not stop it, which would leave the calls in its mailbox unanswered): its next
// incarnation answers every queued and later call with err instead of writing. This is the
// opposite of [Child.Abandon], after which the connection is stopped.
func (w *EventWriter) Abandon(err error) { w.sh.stopErr.Store(&err) }

// Insert validates evs, waits for room in the queue (honouring ctx), hands them to the writer
// and returns once the transaction holding them committed. One bad event rejects the call with
// an [*messages.EventError] and nothing of it is stored. A zero Timestamp means now. The call's
// events are committed together, in one transaction. When ctx is done first, Insert returns its
// error at once; the events may still be written. When it ends while Insert waits for room in
// the full queue, the error wraps [messages.ErrOverloaded] too (and nothing was queued).
func (w *EventWriter) Insert(ctx context.Context, evs []messages.Event) error {
	ctx = orBackground(ctx)
	sh := w.sh
	if err := sh.closedErr(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	if len(evs) == 0 {
		return nil
	}
	r, err := sh.newReq(evs)
	if err != nil {
		return err
	}
	if err := sh.sem.acquire(ctx, r.weight, r.bytes, sh.closing); err != nil {
		if err == messages.ErrClosed {
			return fmt.Errorf("insert events: waiting for room in the queue: %w", err)
		}
		// ctx ended while the queue stayed full: the writer is behind its producers.
		return fmt.Errorf("insert events: waiting for room in the queue: %w: %w", messages.ErrOverloaded, err)
	}
	ch := eventReplies.Get().(chan error)
	r.ctx, r.reply = ctx, ch
	if err := w.send(r); err != nil {
		sh.sem.release(r.weight, r.bytes)
		eventReplies.Put(ch)
		return fmt.Errorf("insert events: %w", err)
	}
	select {
	case err := <-ch:
		eventReplies.Put(ch)
		return err
	case <-ctx.Done():
		return fmt.Errorf("insert events: %w", ctx.Err())
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
		return fmt.Errorf("insert events: %w", err)
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
		answer(0, fmt.Errorf("insert events: %w", err))
		return
	}
	if err := ctx.Err(); err != nil {
		answer(0, fmt.Errorf("insert events: %w", err))
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
			answer(0, fmt.Errorf("insert events: waiting for room in the queue: %w", err))
		}
	})
	if err != nil {
		answer(0, fmt.Errorf("insert events: %w", err))
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
// would race with the parent's own stop of its children (a dead letter). Unlike [Child.Close],
// it does not stop the actor. Close is idempotent.
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

// Discard releases a writer whose Props were never spawned: it closes it (Close with nothing
// to wait for) and its dispatcher. Never call it once the Props were spawned: use
// [EventWriter.Close], then let the parent stop the actor.
func (w *EventWriter) Discard() { w.Close(context.Background()) }

var eventReplies = sync.Pool{New: func() any { return make(chan error, 1) }}
