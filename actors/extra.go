package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// FuncOption qualifies a user function ([Conn.CreateFunction], [Conn.CreateAggregate],
// [Conn.CreateWindowFunction]).
type FuncOption func(*funcOpts)

type funcOpts struct {
	flags      messages.FuncFlags
	innocuous  bool
	directOnly bool
}

// Deterministic declares that the function gives the same result for the same arguments
// (Python's deterministic=True): SQLite may then factor calls out, and the function can be used
// in index expressions and generated columns. Since go-sqlite3's SQLite runs with
// trusted_schema off, a function used in the schema must also be innocuous: Deterministic
// marks it innocuous too, unless [DirectOnly] is given.
func Deterministic() FuncOption {
	return func(o *funcOpts) { o.flags |= messages.FuncDeterministic }
}

// DirectOnly forbids calling the function from triggers, views, CHECK constraints, generated
// columns and index expressions: only top-level SQL may call it. Use it for functions with
// side effects.
func DirectOnly() FuncOption {
	return func(o *funcOpts) { o.directOnly = true }
}

// Innocuous declares that the function has no side effects and leaks nothing, so the schema
// may use it although trusted_schema is off.
func Innocuous() FuncOption {
	return func(o *funcOpts) { o.innocuous = true }
}

func funcFlags(opts []FuncOption) messages.FuncFlags {
	var o funcOpts
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	f := o.flags
	if o.directOnly {
		f |= messages.FuncDirectOnly
	} else if o.innocuous || f&messages.FuncDeterministic != 0 {
		f |= messages.FuncInnocuous
	}
	return f
}

// Aggregate is a user aggregate function (see [Conn.CreateAggregate]).
type Aggregate = messages.Aggregate

// WindowAggregate is an aggregate that can also be a window function (see
// [Conn.CreateWindowFunction]).
type WindowAggregate = messages.WindowAggregate

// CreateAggregate registers an aggregate SQL function of nargs arguments (-1: any number),
// as Python's create_aggregate; newAgg makes the state of one group. Like a scalar function,
// it runs on the connection's goroutine, a panic in it is a crash of the connection, and it
// is registered again after a restart. As in SQLite, it can also be used with OVER (...) as
// long as the window frame only grows; a frame that slides (ROWS n PRECEDING) fails the
// statement: register such functions with [Conn.CreateWindowFunction].
func (c *Conn) CreateAggregate(ctx context.Context, name string, nargs int, newAgg func() Aggregate, opts ...FuncOption) error {
	if newAgg == nil {
		return &messages.ArgError{Reason: "nil aggregate constructor"}
	}
	m := &messages.CreateAggregate{Ctx: ctx, Name: name, NArgs: nargs, New: newAgg, Flags: funcFlags(opts)}
	return c.ack(ctx, "create aggregate", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// CreateWindowFunction registers an aggregate window function, as Python's
// create_window_function: usable with OVER (...), and as a plain aggregate. All its results,
// without OVER too, come from Value (see [messages.WindowAggregate]); Final is not called.
func (c *Conn) CreateWindowFunction(ctx context.Context, name string, nargs int, newAgg func() WindowAggregate, opts ...FuncOption) error {
	if newAgg == nil {
		return &messages.ArgError{Reason: "nil aggregate constructor"}
	}
	m := &messages.CreateAggregate{Ctx: ctx, Name: name, NArgs: nargs, Window: true, Flags: funcFlags(opts),
		New: func() messages.Aggregate { return newAgg() }}
	return c.ack(ctx, "create window function", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// windowOf returns agg as a WindowAggregate. One sent by message (CreateAggregate with
// Window set) may lack Inverse and Value: then every statement using it fails with an
// *ArgError, instead of a failed type assertion crashing the connection.
func windowOf(agg messages.Aggregate) messages.WindowAggregate {
	if w, ok := agg.(messages.WindowAggregate); ok {
		return w
	}
	return notWindow{agg}
}

type notWindow struct{ messages.Aggregate }

func (n notWindow) err() error {
	return &messages.ArgError{Reason: fmt.Sprintf("%T is not a WindowAggregate (no Inverse and Value): register it with CreateAggregate", n.Aggregate)}
}

func (n notWindow) Inverse([]any) error { return n.err() }
func (n notWindow) Value() (any, error) { return nil, n.err() }

// CreateCollation registers a collating sequence, as Python's create_collation: cmp returns
// <0, 0 or >0 as a sorts before, with, or after b. A panic in cmp is a crash of the connection.
func (c *Conn) CreateCollation(ctx context.Context, name string, cmp func(a, b string) int) error {
	if cmp == nil {
		return &messages.ArgError{Reason: "nil collation"}
	}
	m := &messages.CreateCollation{Ctx: ctx, Name: name, Cmp: cmp}
	return c.ack(ctx, "create collation", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// SetAuthorizer installs fn as the connection's authorizer (Python's set_authorizer); nil
// removes it. SQLite asks it, while preparing each statement, for every action the statement
// takes; a statement it denies fails with an error wrapping [messages.ErrNotAuthorized]. fn is
// your code, so a panic in it fails only that statement (the panic is in the error) and the
// connection stays up. It is installed again after a restart.
func (c *Conn) SetAuthorizer(ctx context.Context, fn func(messages.AuthRequest) messages.AuthResult) error {
	m := &messages.SetAuthorizer{Ctx: ctx, Fn: fn}
	return c.ack(ctx, "set authorizer", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// SetTrace installs fn (Python's set_trace_callback), called on the connection's goroutine
// after every statement the connection runs for Exec, ExecMany, ExecScript, Query and
// transactions, with its SQL text, parameters expanded, and how long it ran; nil removes it.
// A panic in fn fails that call with an error holding the panic (the statement itself ran).
func (c *Conn) SetTrace(ctx context.Context, fn func(sql string, d time.Duration)) error {
	m := &messages.SetTrace{Ctx: ctx, Fn: fn}
	return c.ack(ctx, "set trace", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// SetProgressHandler installs fn (Python's set_progress_handler), called while a statement
// runs about every steps virtual-machine instructions; returning true aborts the statement with
// an error wrapping [messages.ErrInterrupted]. nil removes it. go-sqlite3 checks for progress
// every 1,000 instructions, so a steps of 1,000 or more is honoured at that granularity
// (rounded up to a multiple of 1,000), and a statement that runs fewer instructions never calls
// fn; below 1,000 fn is also called before each step of a statement (each statement run, each
// row read), so that, as in Python, it can abort any statement. A panic in fn aborts only that
// statement, with the panic in its error.
func (c *Conn) SetProgressHandler(ctx context.Context, steps int, fn func() (abort bool)) error {
	if fn != nil && steps < 1 {
		return &messages.ArgError{Reason: fmt.Sprintf("progress handler steps %d < 1", steps)}
	}
	m := &messages.SetProgressHandler{Ctx: ctx, Steps: steps, Fn: fn}
	return c.ack(ctx, "set progress handler", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// SetUpdateHook makes the connection send the actor pid a *[messages.RowChanges] after each
// commit: the rows the transaction inserted, updated or deleted, in the order it changed them,
// with the connection's PID and DSN. A change feed: one message per commit that changed rows,
// in pid's mailbox before the caller of the request that committed has its reply. Changes of a
// rolled-back transaction are never sent. nil removes it. The feed survives a crash of the
// connection. Changes committed by a request that then crashed the connection are not sent.
// SQLite has no hook for ROLLBACK TO a savepoint: rows changed and then undone that way, in a
// transaction that commits, are still sent. As SQLite's update hook, it sees rowid tables
// only: not WITHOUT ROWID tables. It sends [messages.SetUpdateHook] with Subscriber pid: an
// actor can send that itself.
func (c *Conn) SetUpdateHook(ctx context.Context, pid *actor.PID) error {
	m := &messages.SetUpdateHook{Ctx: ctx}
	if pid != nil { // never a typed nil in the interface
		m.Subscriber = pid
	}
	return c.ack(ctx, "set update hook", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// Ensure protoactor's PID names a subscriber.
var _ messages.PID = (*actor.PID)(nil)

// updateHook returns the function m installs as the update hook of the connection actor self:
// m.Fn, or one sending each commit's changes to m.Subscriber; nil when m removes the hook.
func (sh *shared) updateHook(self *actor.PID, m *messages.SetUpdateHook) (func([]messages.RowChange), error) {
	sub, err := subscriberPID(m.Subscriber)
	switch {
	case err != nil:
		return nil, err
	case sub != nil && m.Fn != nil:
		return nil, &messages.ArgError{Reason: "update hook with both a Subscriber and an Fn: set one"}
	case sub == nil:
		return m.Fn, nil
	}
	root, dsn := sh.sys.Root, sh.dsn
	return func(changes []messages.RowChange) {
		root.Send(sub, &messages.RowChanges{Conn: self, DSN: dsn, Changes: changes})
	}, nil
}

// subscriberPID returns p as a *actor.PID: p itself if it is one, else one with its address
// and id. nil (or a nil *actor.PID) is no subscriber; one without an id is an error.
func subscriberPID(p messages.PID) (*actor.PID, error) {
	if p == nil {
		return nil, nil
	}
	pid, ok := p.(*actor.PID)
	if ok && pid == nil {
		return nil, nil
	}
	if p.GetId() == "" {
		return nil, &messages.ArgError{Reason: fmt.Sprintf("update hook subscriber %T with an empty id", p)}
	}
	if !ok {
		pid = actor.NewPID(p.GetAddress(), p.GetId())
	}
	return pid, nil
}

// Interrupt interrupts whatever the connection runs now (Python's interrupt): the running
// statement fails with an error wrapping [messages.ErrInterrupted]. It is not a message, so it
// does not queue behind that statement; requests queued behind it run normally. With nothing
// running it does nothing.
func (c *Conn) Interrupt(ctx context.Context) error {
	if err := c.sh.closedErr(); err != nil {
		return fmt.Errorf("actorlite: interrupt: %w", err)
	}
	if seq := c.sh.running.Load(); seq != 0 {
		c.sh.interrupted.Store(seq)
	}
	return nil
}

// ExecInsert runs an INSERT and returns the new row's id (aiosqlite's execute_insert).
func (c *Conn) ExecInsert(ctx context.Context, sql string, args ...any) (int64, error) {
	res, err := c.Exec(ctx, sql, args...)
	return res.LastInsertID, err
}

// QueryAll runs a query and returns all its rows in one round trip (aiosqlite's
// execute_fetchall).
func (c *Conn) QueryAll(ctx context.Context, sql string, args ...any) ([]messages.Row, error) {
	m := &messages.Query{Ctx: ctx, SQL: sql, Args: args, FetchSize: -1}
	r, err := c.call(ctx, "query all", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
	if err != nil {
		return nil, err
	}
	rows := r.(*messages.Rows)
	return rows.Rows, rows.Err
}

// TotalChanges returns the rows changed since the connection opened (Python's total_changes;
// a restart after a crash starts it again from zero).
func (c *Conn) TotalChanges(ctx context.Context) (int64, error) {
	m := &messages.TotalChanges{Ctx: ctx}
	r, err := c.call(ctx, "total changes", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
	if err != nil {
		return 0, err
	}
	rep := r.(*messages.ExecReply)
	return rep.Result.RowsAffected, rep.Err
}

// Serialize returns the bytes of the main database, as its file would hold them (Python's
// serialize).
func (c *Conn) Serialize(ctx context.Context) ([]byte, error) {
	m := &messages.Serialize{Ctx: ctx}
	r, err := c.call(ctx, "serialize", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
	if err != nil {
		return nil, err
	}
	rep := r.(*messages.BlobReply)
	return rep.Data, rep.Err
}

// Deserialize replaces the main database with data, the bytes of a database file (Python's
// deserialize). data belongs to the connection once passed.
func (c *Conn) Deserialize(ctx context.Context, data []byte) error {
	m := &messages.Deserialize{Ctx: ctx, Data: data}
	return c.ack(ctx, "deserialize", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
}

// Dump writes SQL text that recreates the database to w (sqlite3's .dump, Python's
// iterdump): tables and rows, then indexes, triggers and views, from one consistent snapshot.
// Piping it into a fresh database recreates this one. The connection is busy while it writes;
// w is written from the caller's goroutine.
func (c *Conn) Dump(ctx context.Context, w io.Writer) error {
	if w == nil {
		return &messages.ArgError{Reason: "nil writer"}
	}
	ctx = orBackground(ctx)
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pw := &chunkWriter{ctx: dctx, chunks: make(chan []byte, 4)}
	m := &messages.Dump{Ctx: dctx, W: pw}
	done := make(chan error, 1)
	go func() {
		err := c.ack(dctx, "dump", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
		pw.close() // the actor may still write if dctx is done: pw then refuses
		done <- err
	}()
	var werr error
	for chunk := range pw.chunks {
		if werr == nil {
			if _, werr = w.Write(chunk); werr != nil {
				cancel(werr) // stops the actor's writes
			}
		}
	}
	err := <-done
	if werr != nil {
		return fmt.Errorf("actorlite: dump: writing: %w", werr)
	}
	return err
}

// chunkWriter carries the actor's writes to the goroutine that called Dump.
type chunkWriter struct {
	ctx    context.Context
	chunks chan []byte
	mu     sync.Mutex
	closed bool
}

// close closes chunks; later writes fail. A write blocked in Write finishes first: its send
// succeeds (Dump reads chunks until they are closed) or ctx is done.
func (w *chunkWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	close(w.chunks)
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed { // the call returned (its ctx is done): never send on the closed channel
		if err := context.Cause(w.ctx); err != nil {
			return 0, err
		}
		return 0, io.ErrClosedPipe
	}
	select {
	case w.chunks <- append([]byte(nil), p...):
		return len(p), nil
	case <-w.ctx.Done():
		return 0, context.Cause(w.ctx)
	}
}

// blobChunk bounds the bytes one blob message carries.
const blobChunk = 256 << 10

// Blob is an open BLOB for incremental I/O (Python's blobopen): an io.ReadWriteSeeker and
// io.Closer that moves at most 256 KiB per message, so a large blob is never copied whole.
// Read, Write and Seek use the ctx given to OpenBlob; ReadContext and WriteContext take
// their own. A blob cannot grow: write past its end fails. Once its connection closed or
// crashed it returns [messages.ErrBlobClosed]. Not safe for concurrent use.
//
// A blob opened for reading is held open in the actor until Close, as SQLite's blob handles
// are: it reads one consistent row (a change to the row makes later reads fail) and holds a
// read snapshot, as an open cursor does. A blob opened for writing is held by nothing between
// messages: each Write message opens it, writes and closes it, so each Write commits by
// itself outside a transaction (inside Begin/Commit it is part of the transaction). Held open,
// it would hold the database's write lock, and SQLite would defer the commit of every other
// write on the connection, other callers' included, until it closed. If the row changes
// between two writes, the next write goes to the row as it is then.
type Blob struct {
	conn   *Conn
	ctx    context.Context
	id     messages.BlobID
	size   int64
	off    int64
	gen    int64
	closed bool
}

// OpenBlob opens the blob in table.column of the row rowid, for reading, or also writing.
func (c *Conn) OpenBlob(ctx context.Context, table, column string, rowid int64, write bool) (*Blob, error) {
	m := &messages.OpenBlob{Ctx: ctx, Table: table, Column: column, RowID: rowid, Write: write}
	r, err := c.call(ctx, "open blob", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
	if err != nil {
		return nil, err
	}
	rep := r.(*messages.BlobReply)
	if rep.Err != nil {
		return nil, rep.Err
	}
	ctx = orBackground(ctx)
	return &Blob{conn: c, ctx: ctx, id: rep.Blob, size: rep.Size, gen: c.sh.gen.Load()}, nil
}

// Size returns the blob's size in bytes.
func (b *Blob) Size() int64 { return b.size }

func (b *Blob) check() error {
	if b.closed {
		return messages.ErrBlobClosed
	}
	if err := b.conn.sh.gone(b.gen); err != nil {
		return fmt.Errorf("%w: %w", messages.ErrBlobClosed, err)
	}
	return nil
}

// Read reads up to len(p) bytes (at most 256 KiB) at the current offset.
func (b *Blob) Read(p []byte) (int, error) { return b.ReadContext(b.ctx, p) }

// ReadContext is Read with its own ctx.
func (b *Blob) ReadContext(ctx context.Context, p []byte) (int, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	if b.off >= b.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	m := &messages.BlobRead{Ctx: ctx, Blob: b.id, Offset: b.off, N: min(len(p), blobChunk)}
	r, err := b.conn.call(ctx, "blob read", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
	if err != nil {
		return 0, err
	}
	rep := r.(*messages.BlobReply)
	n := copy(p, rep.Data)
	b.off += int64(n)
	if rep.Err != nil && !errors.Is(rep.Err, io.EOF) {
		return n, rep.Err
	}
	return n, nil
}

// Write writes p at the current offset, in messages of at most 256 KiB.
func (b *Blob) Write(p []byte) (int, error) { return b.WriteContext(b.ctx, p) }

// WriteContext is Write with its own ctx.
func (b *Blob) WriteContext(ctx context.Context, p []byte) (int, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	if b.off+int64(len(p)) > b.size {
		return 0, &messages.ArgError{Reason: fmt.Sprintf("write of %d bytes at offset %d past the blob's end (%d bytes): blobs cannot grow", len(p), b.off, b.size)}
	}
	written := 0
	for written < len(p) {
		chunk := p[written:min(len(p), written+blobChunk)]
		m := &messages.BlobWrite{Ctx: ctx, Blob: b.id, Offset: b.off, Data: chunk}
		r, err := b.conn.call(ctx, "blob write", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
		if err != nil {
			return written, err
		}
		if err := r.ReplyErr(); err != nil {
			return written, err
		}
		written += len(chunk)
		b.off += int64(len(chunk))
	}
	return written, nil
}

// Seek sets the offset of the next Read or Write (io.SeekStart, io.SeekCurrent, io.SeekEnd).
func (b *Blob) Seek(offset int64, whence int) (int64, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size
	default:
		return b.off, &messages.ArgError{Reason: fmt.Sprintf("bad whence %d", whence)}
	}
	if offset < 0 {
		return b.off, &messages.ArgError{Reason: fmt.Sprintf("negative offset %d", offset)}
	}
	b.off = offset
	return offset, nil
}

// Close closes the blob. It is idempotent. The close never depends on the ctx given to
// OpenBlob: with it done, the close is still sent and frees the blob (a reading blob's
// snapshot) before anything sent after it runs, and Close returns an error wrapping ctx's.
func (b *Blob) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.conn.sh.gone(b.gen) != nil {
		return nil
	}
	m := &messages.CloseBlob{Ctx: b.ctx, Blob: b.id}
	err := b.conn.release(b.ctx, "close blob", m, func(ch chan<- messages.Reply) { m.ReplyTo = ch })
	if errors.Is(err, messages.ErrClosed) {
		return nil
	}
	return err
}

var _ io.ReadWriteSeeker = (*Blob)(nil)
var _ io.Closer = (*Blob)(nil)
