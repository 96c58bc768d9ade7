package actors

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

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
	r, err := c.call(ctx, "open blob", m, &m.ReplyTo)
	if err != nil {
		return nil, err
	}
	rep := r.(*messages.BlobReply)
	if rep.Err != nil {
		return nil, failed("open blob", rep.Err)
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
	r, err := b.conn.call(ctx, "blob read", m, &m.ReplyTo)
	if err != nil {
		return 0, err
	}
	rep := r.(*messages.BlobReply)
	n := copy(p, rep.Data)
	b.off += int64(n)
	if rep.Err != nil && !errors.Is(rep.Err, io.EOF) {
		return n, failed("blob read", rep.Err)
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
		r, err := b.conn.call(ctx, "blob write", m, &m.ReplyTo)
		if err != nil {
			return written, err
		}
		if err := r.ReplyErr(); err != nil {
			return written, failed("blob write", err)
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
	err := b.conn.release(b.ctx, "close blob", m, &m.ReplyTo)
	if errors.Is(err, messages.ErrClosed) {
		return nil
	}
	return err
}

var _ io.ReadWriteSeeker = (*Blob)(nil)

var _ io.Closer = (*Blob)(nil)

// blobRef is a blob a caller opened. A blob opened for reading stays open (read) until its
// CloseBlob, as SQLite's blob handles do: a change to its row expires it, and it holds a read
// snapshot meanwhile, as a cursor does. A blob opened for writing is held by no SQLite handle
// between messages: an open write blob is an active write statement, which keeps the
// connection's implicit transaction open, so SQLite would defer the commit of every other
// caller's write until the blob closed (and it would hold the database's write lock). Each
// message on it opens the blob, does its part and closes it, committing a write by itself
// outside a transaction.
type blobRef struct {
	table, column string
	rowid         int64
	write         bool
	read          *sqlitewasm.Blob // the open handle of a blob opened for reading
}

// openBlob opens a blob: a reading one stays open until closeBlob, a writing one is only checked.
func (a *connActor) openBlob(m *messages.OpenBlob) messages.Reply {
	ref := &blobRef{table: m.Table, column: m.Column, rowid: m.RowID, write: m.Write}
	var size int64
	if m.Write {
		err := a.withBlob(ref, func(b *sqlitewasm.Blob) error { size = b.Size(); return nil })
		if err != nil {
			return &messages.BlobReply{Err: err}
		}
	} else {
		b, err := a.db.OpenBlob(m.Table, m.Column, m.RowID, false)
		if err != nil {
			return &messages.BlobReply{Err: err}
		}
		ref.read, size = b, b.Size()
	}
	a.sh.nextBlob++
	a.blobs[a.sh.nextBlob] = ref
	return &messages.BlobReply{Blob: a.sh.nextBlob, Size: size}
}

// readBlob reads at most m.N bytes of an open blob at m.Offset.
func (a *connActor) readBlob(m *messages.BlobRead) messages.Reply {
	ref, ok := a.blobs[m.Blob]
	if !ok || m.N < 0 || m.Offset < 0 {
		return &messages.BlobReply{Blob: m.Blob, Err: a.noBlob(m.Blob, ok)}
	}
	reply := &messages.BlobReply{Blob: m.Blob}
	err := a.withBlob(ref, func(b *sqlitewasm.Blob) error {
		reply.Size = b.Size()
		buf := make([]byte, min(m.N, int(max(0, reply.Size-m.Offset))))
		n, err := b.ReadAt(buf, m.Offset)
		reply.Data, reply.N = buf[:n], n
		return err
	})
	reply.Err = err
	return reply
}

// writeBlob writes m.Data to an open blob at m.Offset.
func (a *connActor) writeBlob(m *messages.BlobWrite) messages.Reply {
	ref, ok := a.blobs[m.Blob]
	if !ok || m.Offset < 0 {
		return &messages.BlobReply{Blob: m.Blob, Err: a.noBlob(m.Blob, ok)}
	}
	reply := &messages.BlobReply{Blob: m.Blob}
	reply.Err = a.withBlob(ref, func(b *sqlitewasm.Blob) (err error) {
		reply.Size = b.Size()
		reply.N, err = b.WriteAt(m.Data, m.Offset)
		return err
	})
	return reply
}

// closeBlob forgets a blob, closing its handle if it holds one.
func (a *connActor) closeBlob(m *messages.CloseBlob) messages.Reply {
	ref, ok := a.blobs[m.Blob]
	delete(a.blobs, m.Blob)
	if ok && ref.read != nil {
		return &messages.Ack{Err: a.db.CloseBlob(ref.read)}
	}
	return &messages.Ack{}
}

// withBlob runs fn on ref's blob: its open handle if it has one, else the blob opened for the
// call (for writing if ref is) and closed after it, whose error it joins.
func (a *connActor) withBlob(ref *blobRef, fn func(*sqlitewasm.Blob) error) error {
	if ref.read != nil {
		return fn(ref.read)
	}
	b, err := a.db.OpenBlob(ref.table, ref.column, ref.rowid, ref.write)
	if err != nil {
		return err
	}
	err = fn(b)
	return errors.Join(err, a.db.CloseBlob(b))
}

// noBlob explains a blob request that cannot be served.
func (a *connActor) noBlob(id messages.BlobID, open bool) error {
	if open {
		return &messages.ArgError{Reason: "negative offset or length"}
	}
	if id == 0 || id > a.sh.nextBlob {
		return fmt.Errorf("%w: unknown blob %d", messages.ErrBlobClosed, id)
	}
	return messages.ErrBlobClosed
}
