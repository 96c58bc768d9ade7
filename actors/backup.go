package actors

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/actorlite/actorlite/messages"
)

// Backup copies the database, consistently and while it is in use, to the file destPath
// (created, or overwritten), as aiosqlite's backup.
func (c *Conn) Backup(ctx context.Context, destPath string) error {
	m := &messages.Backup{Ctx: ctx, Dest: destPath}
	return c.ack(ctx, "backup", m, &m.ReplyTo)
}

// Serialize returns the bytes of the main database, as its file would hold them (Python's
// serialize).
func (c *Conn) Serialize(ctx context.Context) ([]byte, error) {
	m := &messages.Serialize{Ctx: ctx}
	r, err := c.call(ctx, "serialize", m, &m.ReplyTo)
	if err != nil {
		return nil, err
	}
	rep := r.(*messages.BlobReply)
	return rep.Data, failed("serialize", rep.Err)
}

// Deserialize replaces the main database with data, the bytes of a database file (Python's
// deserialize). data belongs to the connection once passed.
func (c *Conn) Deserialize(ctx context.Context, data []byte) error {
	m := &messages.Deserialize{Ctx: ctx, Data: data}
	return c.ack(ctx, "deserialize", m, &m.ReplyTo)
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
		err := c.ack(dctx, "dump", m, &m.ReplyTo)
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
		return fmt.Errorf("dump: writing: %w", werr)
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

func (a *connActor) dump(m *messages.Dump) messages.Reply {
	if m.W == nil {
		return &messages.Ack{Err: &messages.ArgError{Reason: "nil writer"}}
	}
	return &messages.Ack{Err: a.db.Dump(m.W)}
}

func (a *connActor) serialize() messages.Reply {
	data, err := a.db.Serialize()
	return &messages.BlobReply{Data: data, Size: int64(len(data)), Err: err}
}
