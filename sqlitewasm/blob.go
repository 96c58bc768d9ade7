package sqlitewasm

import (
	"fmt"
	"io"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// Blob is an open BLOB for incremental I/O. Not safe for concurrent use.
type Blob struct {
	b *sqlite3.Blob
}

// OpenBlob opens the blob in table.column of the row rowid, for reading, or also writing.
// https://sqlite.org/c3ref/blob_open.html
func (c *Conn) OpenBlob(table, column string, rowid int64, write bool) (*Blob, error) {
	c.intr.next = checkCall
	b, err := c.db.OpenBlob("main", table, column, rowid, write)
	if err != nil {
		return nil, wrapErr(err, "")
	}
	c.blobs[b] = struct{}{}
	return &Blob{b: b}, nil
}

// Size returns the blob's size in bytes.
func (b *Blob) Size() int64 { return b.b.Size() }

// ReadAt reads len(p) bytes at off (fewer at the end, with io.EOF).
func (b *Blob) ReadAt(p []byte, off int64) (int, error) {
	size := b.b.Size()
	if off >= size {
		return 0, io.EOF
	}
	if _, err := b.b.Seek(off, io.SeekStart); err != nil {
		return 0, wrapErr(err, "")
	}
	n := int(min(int64(len(p)), size-off))
	n, err := io.ReadFull(b.b, p[:n])
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, wrapErr(err, "")
}

// WriteAt writes p at off. A blob cannot grow: writing past its end is an error.
func (b *Blob) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > b.b.Size() {
		return 0, &messages.ArgError{Reason: fmt.Sprintf("write of %d bytes at %d past the blob's end (%d bytes); blobs cannot grow: use zeroblob(n)", len(p), off, b.b.Size())}
	}
	if _, err := b.b.Seek(off, io.SeekStart); err != nil {
		return 0, wrapErr(err, "")
	}
	n, err := b.b.Write(p)
	return n, wrapErr(err, "")
}

// CloseBlob closes b, a blob OpenBlob opened.
func (c *Conn) CloseBlob(b *Blob) error {
	delete(c.blobs, b.b)
	return wrapErr(b.b.Close(), "")
}
