package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// Pool is one writer connection and N reader connections to one database, so that concurrent
// programs read in parallel and never see "database is locked": SQLite in WAL mode allows one
// writer and many readers at once, and the pool gives every write to its single writer actor,
// which serialises them, while reads spread over the readers (opened with [WithQueryOnly]).
//
// Routing: Exec, ExecMany and ExecScript go to the writer. Query and QueryRow go to a reader
// (the caller's CPU's usual one while it is idle, else the one with the fewest requests
// waiting), unless SQLite reports the statement as not read-only (INSERT … RETURNING, a
// PRAGMA that writes, …): then to the writer. The pool remembers that per SQL text. [Pool.Tx]
// gives a function the writer alone for the duration of a transaction; writes outside Tx wait
// until it ends. Reads never wait for writes. The writer is shared, so it is
// [WithAutocommitOnly]: a statement sent through the pool that would leave it inside a
// transaction (BEGIN or SAVEPOINT in SQL) is rolled back and fails; transactions go through Tx.
//
// Every member is a supervised connection: a crashed reader is restarted without failing
// requests other than the one that crashed it. A reader that spent its restart budget is
// stopped for good and skipped (reads waiting for it go to another reader); with no reader
// left, the writer serves reads. [Pool.Stats] counts the stopped readers. Actors can use the pool too: send writes to
// [Pool.WriterPID] and reads to any of [Pool.ReaderPIDs].
//
// Pools on one database may share one writer and its lock (see [NewPoolWith]; package
// supervisor's OpenPool does, as does the database/sql driver): their writes and transactions
// then queue in order on that one lock.
//
// A Pool is safe for concurrent use by many goroutines.
type Pool struct {
	dsn     string
	writer  *Conn
	readers []*Conn
	slots   []readerSlot // per reader
	home    sync.Pool    // *int per P of the Go scheduler: the reader its callers try first
	nhomes  atomic.Int64 // homes handed out, for round-robin assignment

	wlock    chan struct{}               // held by a Tx, and by each write outside one; shared with the pools sharing the writer
	onUnlock func()                      // the WriterLock's released callback
	release  func(context.Context) error // ends this pool's use of the writer (see PoolConfig)
	writes   sync.Map                    // SQL text → true: a query that is not read-only
	nwrites  atomic.Int64                // entries in writes: while 0, reads skip the lookup
	closing  sync.Once
	closed   atomic.Bool // Close was called
	err      error

	writeCount, txs, rerouted atomic.Int64

	regMu  sync.Mutex
	regs   []poolReg // what the pool registered on its members, for Replay; one per key
	regGen uint64    // registrations made, replacements included
}

// readerSlot is a reader's count of queries, on a cache line of its own: counters side by side
// would make each update miss in the cache of the CPU that updated a neighbour.
type readerSlot struct {
	reads atomic.Int64
	_     [56]byte
}

// NewPool makes a pool of writer and readers (already open); with no readers, the writer
// serves reads too. [supervisor.Supervisor.OpenPool] is how programs get one.
//
// A nil writer makes a read pool (see [NewReadPool]).
func NewPool(dsn string, writer *Conn, readers []*Conn) *Pool {
	return NewPoolWith(PoolConfig{DSN: dsn, Writer: writer, Readers: readers})
}

// WriterLock is the lock a pool's writes and transactions take on its writer. Pools that share
// one writer share its lock too, so that their writes and transactions queue in order, and a
// transaction of one pool keeps the writes of the others out until it ends.
type WriterLock struct {
	ch       chan struct{}
	released func()
}

// NewWriterLock returns a lock for one writer. released, if not nil, is called after each
// release of the lock (a write outside a transaction, a Tx, a Hold ended): a supervisor counts
// the writes with it, to checkpoint the WAL off the writer's path.
func NewWriterLock(released func()) *WriterLock {
	return &WriterLock{ch: make(chan struct{}, 1), released: released}
}

// PoolConfig is what [NewPoolWith] builds a pool from.
type PoolConfig struct {
	DSN     string
	Writer  *Conn   // the writer; nil makes a read pool (see NewReadPool)
	Readers []*Conn // may be empty: the writer then serves reads too
	// Lock is the writer's lock, shared by every pool on the writer; nil: a lock of the pool's
	// own.
	Lock *WriterLock
	// ReleaseWriter ends the pool's use of a shared writer when the pool closes (another
	// pool may still use it); nil: Close closes the writer.
	ReleaseWriter func(context.Context) error
}

// NewPoolWith makes a pool as [NewPool] does, on a writer that other pools may share.
func NewPoolWith(cfg PoolConfig) *Pool {
	lock := cfg.Lock
	if lock == nil {
		lock = NewWriterLock(nil)
	}
	dsn, writer, readers := cfg.DSN, cfg.Writer, cfg.Readers
	p := &Pool{dsn: dsn, writer: writer, readers: readers, slots: make([]readerSlot, len(readers)), wlock: lock.ch, onUnlock: lock.released, release: cfg.ReleaseWriter}
	if p.release == nil && writer != nil {
		p.release = writer.Close
	}
	p.home.New = func() any {
		i := int(p.nhomes.Add(1)-1) % len(readers)
		return &i
	}
	return p
}

// PoolStats are a pool's counters.
type PoolStats struct {
	DSN      string
	Readers  int   // readers the pool was opened with
	Stopped  int   // readers stopped for good (restart budget spent): reads skip them
	Reads    int64 // queries served by readers
	Writes   int64 // writes and queries served by the writer, outside Tx
	Txs      int64 // transactions run by Tx
	Rerouted int64 // queries a reader refused as not read-only, sent to the writer
}

// Stats returns the pool's counters.
func (p *Pool) Stats() PoolStats {
	var reads int64
	for i := range p.slots {
		reads += p.slots[i].reads.Load()
	}
	stopped := 0
	for _, r := range p.readers {
		if r.sh.closing.Load() {
			stopped++
		}
	}
	return PoolStats{DSN: p.dsn, Readers: len(p.readers), Stopped: stopped, Reads: reads, Writes: p.writeCount.Load(),
		Txs: p.txs.Load(), Rerouted: p.rerouted.Load()}
}

// WriterPID returns the writer actor's PID: actors send it every request that writes. A read
// pool ([NewReadPool]) has none: nil.
func (p *Pool) WriterPID() *actor.PID {
	if p.writer == nil {
		return nil
	}
	return p.writer.PID()
}

// ReaderPIDs returns the reader actors' PIDs: actors may send any of them read-only queries
// (set messages.Query.ReadOnly to be told, rather than failing, when a statement would write).
func (p *Pool) ReaderPIDs() []*actor.PID {
	pids := make([]*actor.PID, len(p.readers))
	for i, r := range p.readers {
		pids[i] = r.PID()
	}
	return pids
}

// Writer returns the writer's handle (nil for a read pool). Writes through it do not wait for
// a Tx: use the pool's methods for that.
func (p *Pool) Writer() *Conn { return p.writer }

// lockWriter takes the writer for a write or a Tx, honouring ctx.
func (p *Pool) lockWriter(ctx context.Context, op string) error {
	if p.writer == nil {
		return fmt.Errorf("%s: %w", op, errNoWriter)
	}
	ctx = orBackground(ctx)
	select {
	case p.wlock <- struct{}{}:
		return nil
	default:
	}
	select {
	case p.wlock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: waiting for the writer: %w", op, ctx.Err())
	case <-p.writer.Done():
		return fmt.Errorf("%s: %w", op, messages.ErrClosed)
	}
}

func (p *Pool) unlockWriter() {
	<-p.wlock
	if p.onUnlock != nil {
		p.onUnlock()
	}
}

// Hold gives the caller the writer alone, as [Pool.Tx] gives it to its function, until it
// calls release (exactly once; later calls do nothing): for a transaction that spans calls the
// pool does not make, such as database/sql's. Writes through every pool sharing the writer wait
// meanwhile, in order. The caller begins and ends its transaction on the writer itself (see
// [Conn.BeginImmediate]) and must end it before release, or the next holder finds it open.
// Hold waits for the writer while ctx allows; each Hold counts in [PoolStats] Txs.
func (p *Pool) Hold(ctx context.Context) (writer *Conn, release func(), err error) {
	if err := p.lockWriter(ctx, "hold"); err != nil {
		return nil, nil, err
	}
	p.txs.Add(1)
	var once sync.Once
	return p.writer, func() { once.Do(p.unlockWriter) }, nil
}

// write runs fn on the writer, outside any Tx.
func (p *Pool) write(ctx context.Context, op string, fn func(*Conn) error) error {
	if err := p.lockWriter(ctx, op); err != nil {
		return err
	}
	defer p.unlockWriter()
	p.writeCount.Add(1)
	return fn(p.writer)
}

// reader picks the live reader with the smallest backlog, starting from the calling
// goroutine's home reader, or returns -1 when no reader is live (each stopped for good once its
// restart budget was spent: then the writer serves reads). Each P of the Go scheduler (a CPU
// running Go code) has a home reader, so that while readers are idle, the callers on one CPU
// use the same reader, whose connection's memory (SQLite's page cache, cursors, statements)
// then stays in that CPU's cache instead of moving between CPUs with every query: it measured
// faster than starting from a random reader (figures in bench/README.md).
func (p *Pool) reader() int {
	n := len(p.readers)
	if n == 0 {
		return -1
	}
	start := 0
	if n > 1 {
		h := p.home.Get().(*int)
		start = *h
		p.home.Put(h)
	}
	best, bestLoad := -1, int32(0)
	for i := 0; i < n && (best < 0 || bestLoad > 0); i++ {
		j := (start + i) % n
		r := p.readers[j]
		if r.sh.closing.Load() {
			continue // stopped (or stopping): never again a reader
		}
		if l := r.backlog(); best < 0 || l < bestLoad {
			best, bestLoad = j, l
		}
	}
	return best
}

// Exec runs a statement on the writer (see [Conn.Exec]).
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (res messages.Result, err error) {
	err = p.write(ctx, "exec", func(w *Conn) error {
		res, err = w.Exec(ctx, sql, args...)
		return err
	})
	return res, err
}

// ExecMany runs a statement per argument list on the writer, in one transaction (see
// [Conn.ExecMany]).
func (p *Pool) ExecMany(ctx context.Context, sql string, args [][]any) (res messages.Result, err error) {
	err = p.write(ctx, "exec many", func(w *Conn) error {
		res, err = w.ExecMany(ctx, sql, args)
		return err
	})
	return res, err
}

// ExecScript runs a script on the writer (see [Conn.ExecScript]).
func (p *Pool) ExecScript(ctx context.Context, script string) error {
	return p.write(ctx, "exec script", func(w *Conn) error { return w.ExecScript(ctx, script) })
}

// Query runs a query on a reader, or on the writer if it is not read-only
// (see [Conn.Query]). The cursor fetches from the connection that ran it.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (*Cursor, error) {
	var cur *Cursor
	err := p.read(ctx, "query", sql, func(c *Conn, readOnly bool) (err error) {
		cur, err = c.query(ctx, &messages.Query{Ctx: ctx, SQL: sql, Args: args, ReadOnly: readOnly})
		return err
	})
	return cur, err
}

// QueryAll runs a query on a reader (or the writer, as Query) and returns all its rows in one
// round trip (see [Conn.QueryAll]).
func (p *Pool) QueryAll(ctx context.Context, sql string, args ...any) ([]messages.Row, error) {
	var rows []messages.Row
	err := p.read(ctx, "query all", sql, func(c *Conn, readOnly bool) (err error) {
		rows, err = c.queryAll(ctx, &messages.Query{Ctx: ctx, SQL: sql, Args: args, FetchSize: -1, ReadOnly: readOnly})
		return err
	})
	return rows, err
}

// QueryRow runs a query on a reader (or the writer, as Query) and returns its first row, or
// an error wrapping [messages.ErrNoRows].
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) (messages.Row, error) {
	var row messages.Row
	err := p.read(ctx, "query row", sql, func(c *Conn, readOnly bool) (err error) {
		row, err = c.queryRowOf(ctx, sql, args, readOnly)
		return err
	})
	return row, err
}

// read runs a query on a live reader, rerouting it to the writer when the reader reports it
// is not read-only, or when no reader is live. A reader that stops for good while the query
// waits for it answers ErrClosed without running it: the query then goes to the next live
// reader. A read pool has no writer: a statement that writes fails with the reader's error
// (ErrNotReadOnly), and with no reader live a query fails with ErrClosed.
func (p *Pool) read(ctx context.Context, op, sql string, fn func(c *Conn, readOnly bool) error) error {
	if !p.isWrite(sql) {
		for i := p.reader(); i >= 0; i = p.reader() {
			err := fn(p.readers[i], true)
			if p.lost(p.readers[i], err) {
				continue // that reader stopped meanwhile: it no longer counts as live
			}
			if !errors.Is(err, messages.ErrNotReadOnly) || p.writer == nil {
				p.slots[i].reads.Add(1)
				return err
			}
			if _, loaded := p.writes.LoadOrStore(sql, true); !loaded {
				p.nwrites.Add(1)
			}
			p.rerouted.Add(1)
			break
		}
	}
	if p.writer == nil {
		return fmt.Errorf("%s: every reader of the read pool stopped: %w", op, messages.ErrClosed)
	}
	return p.write(ctx, op, func(w *Conn) error { return fn(w, false) })
}

// isWrite reports whether sql is a query a reader refused as not read-only.
func (p *Pool) isWrite(sql string) bool {
	if p.nwrites.Load() == 0 {
		return false
	}
	_, w := p.writes.Load(sql)
	return w
}

// CreateFunction registers a scalar function on every member (see [Conn.CreateFunction]).
func (p *Pool) CreateFunction(ctx context.Context, name string, nargs int, fn func(args []any) (any, error), opts ...FuncOption) error {
	return p.register(ctx, funcKey(name, nargs), func(ctx context.Context, c *Conn) error {
		return c.CreateFunction(ctx, name, nargs, fn, opts...)
	})
}

// CreateAggregate registers an aggregate function on every member (see [Conn.CreateAggregate]).
func (p *Pool) CreateAggregate(ctx context.Context, name string, nargs int, newAgg func() Aggregate, opts ...FuncOption) error {
	return p.register(ctx, funcKey(name, nargs), func(ctx context.Context, c *Conn) error {
		return c.CreateAggregate(ctx, name, nargs, newAgg, opts...)
	})
}

// CreateCollation registers a collating sequence on every member (see [Conn.CreateCollation]).
func (p *Pool) CreateCollation(ctx context.Context, name string, cmp func(a, b string) int) error {
	return p.register(ctx, "collation "+strings.ToLower(name), func(ctx context.Context, c *Conn) error {
		return c.CreateCollation(ctx, name, cmp)
	})
}

// SetAuthorizer installs fn as the authorizer of every member, the writer and each reader
// (see [Conn.SetAuthorizer]); nil removes it. On a reader, the reader's own guard (see
// [WithQueryOnly]) is still asked first.
func (p *Pool) SetAuthorizer(ctx context.Context, fn func(messages.AuthRequest) messages.AuthResult) error {
	return p.register(ctx, "authorizer", func(ctx context.Context, c *Conn) error { return c.SetAuthorizer(ctx, fn) })
}

// poolReg is what one of the calls above registered on the pool's members, to be
// registered again on connections beside the pool (see [Pool.Replay]).
type poolReg struct {
	key   string // what it replaces: a function's name and arity, a collation's name, the authorizer
	gen   uint64 // the pool's registrations before it, plus one
	apply func(context.Context, *Conn) error
}

// funcKey is the key of a function or aggregate: SQLite keeps one per name (case-insensitive)
// and arity.
func funcKey(name string, nargs int) string {
	return "function " + strings.ToLower(name) + "/" + strconv.Itoa(nargs)
}

// register applies fn to every member, and records it for Replay once it succeeded on every
// one, in place of an earlier registration of the same key: the list stays as long as the
// names registered, however often they are registered again.
func (p *Pool) register(ctx context.Context, key string, fn func(context.Context, *Conn) error) error {
	if err := p.each(func(c *Conn) error { return fn(ctx, c) }); err != nil {
		return err
	}
	p.regMu.Lock()
	defer p.regMu.Unlock()
	p.regs = slices.DeleteFunc(p.regs, func(r poolReg) bool { return r.key == key })
	p.regGen++
	p.regs = append(p.regs, poolReg{key: key, gen: p.regGen, apply: fn})
	return nil
}

// Replay registers on c, in the order they were made, the functions, aggregates, collations
// and authorizer registered through the pool (CreateFunction, CreateAggregate, CreateCollation,
// SetAuthorizer) since generation since, and returns the pool's generation now: pass it as
// since the next time for the same c (0 the first time). A connection a program opens beside a
// pool, for one caller's snapshot say, then runs the same functions under the same authorizer
// as the pool's members. A registration that fails on c stops the replay with its error.
func (p *Pool) Replay(ctx context.Context, c *Conn, since uint64) (uint64, error) {
	p.regMu.Lock()
	gen := p.regGen
	var todo []poolReg
	for _, r := range p.regs {
		if r.gen > since {
			todo = append(todo, r)
		}
	}
	p.regMu.Unlock()
	for _, r := range todo {
		if err := r.apply(ctx, c); err != nil {
			return since, err
		}
	}
	return gen, nil
}

// lost reports whether err, a reader's answer, says the reader stopped for good (its restart
// budget spent) while the pool is open: the pool then goes on without it.
func (p *Pool) lost(r *Conn, err error) bool {
	return errors.Is(err, messages.ErrClosed) && r.sh.closing.Load() && !p.closed.Load()
}

// each runs fn on the writer and every reader that has not stopped for good, and joins their
// errors.
func (p *Pool) each(fn func(*Conn) error) error {
	var errs []error
	if p.writer != nil {
		errs = append(errs, fn(p.writer))
	}
	for _, r := range p.readers {
		if err := fn(r); err != nil && !p.lost(r, err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Backup copies the database to destPath from a reader, consistently and without blocking
// writers (see [Conn.Backup]); from the writer when no reader is live.
func (p *Pool) Backup(ctx context.Context, destPath string) error {
	if i := p.reader(); i >= 0 {
		return p.readers[i].Backup(ctx, destPath)
	}
	if p.writer == nil {
		return fmt.Errorf("backup: every reader of the read pool stopped: %w", messages.ErrClosed)
	}
	return p.writer.Backup(ctx, destPath)
}

// Tx runs fn in a transaction on the writer, which fn has alone meanwhile: other writes
// through the pool wait. Tx commits when fn returns nil and rolls back when it returns an
// error (which Tx returns) or panics (the panic goes on in the caller after the rollback).
// The transaction begins IMMEDIATE: it holds the write lock from its start, so its reads see
// the data it is about to change.
//
// Whenever BEGIN may have run, Tx ends the transaction before it lets other writes in: also
// when ctx ends during BEGIN or COMMIT (the outcome is then unknown, so Tx rolls back whatever
// did not commit) and when ctx is nil. The rollback never depends on ctx (see
// [Conn.Rollback]); with ctx done it is queued ahead of every later write.
func (p *Pool) Tx(ctx context.Context, fn func(c *Conn) error) (err error) {
	if fn == nil {
		return &messages.ArgError{Reason: "nil transaction function"}
	}
	ctx = orBackground(ctx)
	if err := p.lockWriter(ctx, "tx"); err != nil {
		return err
	}
	defer p.unlockWriter()
	w := p.writer
	m := &messages.Begin{Ctx: ctx, Mode: messages.Immediate}
	r, err := w.call(ctx, "tx: begin", m, &m.ReplyTo)
	if err != nil { // no reply (ctx ended, say): BEGIN may have run
		p.endTx(ctx)
		return err
	}
	if err := r.ReplyErr(); err != nil {
		return failed("tx: begin", err)
	}
	p.txs.Add(1)
	done := false
	defer func() {
		if !done { // fn panicked: roll back, then let the panic go on
			p.endTx(ctx)
		}
	}()
	ferr := fn(w)
	done = true
	if ferr != nil {
		if rerr := p.endTx(ctx); rerr != nil {
			return errors.Join(ferr, fmt.Errorf("rollback: %w", rerr))
		}
		return ferr
	}
	if err := w.Commit(ctx); err != nil {
		p.endTx(ctx) // COMMIT failed, or may not have run: nothing of it may stay open
		return err
	}
	return nil
}

// endTx rolls back the writer's transaction, if one is open. With ctx done it does not wait
// for the rollback, which runs all the same before any write sent after it.
func (p *Pool) endTx(ctx context.Context) error {
	err := p.writer.Rollback(ctx)
	if err == nil || errors.Is(err, messages.ErrNoTransaction) || ctx.Err() != nil {
		return nil
	}
	return err
}

// Close closes every member. It is idempotent. A writer other pools share (see
// [NewPoolWith]) is only released: it closes with the last of them.
func (p *Pool) Close(ctx context.Context) error {
	p.closed.Store(true)
	p.closing.Do(func() {
		var errs []error
		for _, r := range p.readers {
			errs = append(errs, r.Close(ctx))
		}
		if p.release != nil { // nil for a read pool
			errs = append(errs, p.release(ctx))
		}
		p.err = errors.Join(errs...)
	})
	return p.err
}
