package actors_test

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

func TestOpenBlob(t *testing.T) {
	var reads, writes atomic.Int64
	var tooBig atomic.Bool
	s, c := newBoomConn(t, actors.WithFaultHook(func(req messages.Request) {
		switch m := req.(type) {
		case *messages.BlobRead:
			reads.Add(1)
			tooBig.CompareAndSwap(false, m.N > 256<<10)
		case *messages.BlobWrite:
			writes.Add(1)
			tooBig.CompareAndSwap(false, len(m.Data) > 256<<10)
		}
	}))
	ctx := testCtx(t)
	const size = 600 << 10 // three messages of at most 256 KiB
	exec(t, c, "CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
	id := exec(t, c, "INSERT INTO files (name, data) VALUES ('big', zeroblob(?))", size).LastInsertID

	b, err := c.OpenBlob(ctx, "files", "data", id, true)
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != size {
		t.Fatalf("size %d", b.Size())
	}
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i * 7 % 251)
	}
	if n, err := b.Write(want); n != size || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if w := writes.Load(); w != 3 {
		t.Fatalf("%d write messages for 600 KiB, want 3", w)
	}
	// Writing past the end fails: a blob cannot grow.
	if n, err := b.Write([]byte{1}); n != 0 || err == nil {
		t.Fatalf("write past the end: %d, %v", n, err)
	}
	if pos, err := b.Seek(0, io.SeekStart); pos != 0 || err != nil {
		t.Fatal(pos, err)
	}
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("read back differs from what was written")
	}
	// Reads move at most 256 KiB per message.
	reads.Store(0)
	b.Seek(0, io.SeekStart)
	buf := make([]byte, size)
	if n, err := b.Read(buf); n != 256<<10 || err != nil {
		t.Fatalf("one read of 600 KiB: %d, %v; want 256 KiB", n, err)
	}
	if r := reads.Load(); r != 1 {
		t.Fatalf("%d messages for one read", r)
	}
	if tooBig.Load() {
		t.Fatal("a blob message carried more than 256 KiB")
	}
	// Seek.
	if pos, err := b.Seek(-10, io.SeekEnd); pos != size-10 || err != nil {
		t.Fatal(pos, err)
	}
	if pos, err := b.Seek(4, io.SeekCurrent); pos != size-6 || err != nil {
		t.Fatal(pos, err)
	}
	tail := make([]byte, 100)
	if n, err := io.ReadFull(b, tail); n != 6 || !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.Equal(tail[:6], want[size-6:]) {
		t.Fatalf("tail: %d, %v", n, err)
	}
	if n, err := b.Read(tail); n != 0 || err != io.EOF {
		t.Fatalf("read at the end: %d, %v", n, err)
	}
	if _, err := b.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("negative seek succeeded")
	}
	if _, err := b.Seek(0, 42); err == nil {
		t.Fatal("bad whence succeeded")
	}
	// Write in the middle, then read the row through SQL.
	b.Seek(10, io.SeekStart)
	if _, err := b.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := b.Read(buf); !errors.Is(err, messages.ErrBlobClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if v := queryValue(t, c, "SELECT substr(data, 11, 5) FROM files WHERE id = ?", id); !bytes.Equal(v.([]byte), []byte("hello")) {
		t.Fatalf("SQL sees %q", v)
	}

	// Read-only blobs cannot be written.
	ro, err := c.OpenBlob(ctx, "files", "data", id, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Write([]byte("x")); err == nil {
		t.Fatal("write to a read-only blob succeeded")
	}
	ro.Close()

	// Bad input.
	for _, bad := range []struct {
		table, column string
		rowid         int64
	}{{"nosuch", "data", id}, {"files", "nosuch", id}, {"files", "data", 999}, {"", "", 0}} {
		if b, err := c.OpenBlob(ctx, bad.table, bad.column, bad.rowid, false); err == nil || b != nil {
			t.Fatalf("OpenBlob(%+v): %v, %v", bad, b, err)
		}
	}
	// Unknown blob ids by message.
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(c.PID(), &messages.BlobRead{Blob: 12345, N: 10, ReplyTo: reply})
	if err := (<-reply).ReplyErr(); !errors.Is(err, messages.ErrBlobClosed) {
		t.Fatalf("read of an unknown blob: %v", err)
	}

	// A crash invalidates open blobs.
	b2, err := c.OpenBlob(ctx, "files", "data", id, false)
	if err != nil {
		t.Fatal(err)
	}
	crashAndRestart(t, s, c)
	if _, err := b2.Read(buf); !errors.Is(err, messages.ErrBlobClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("read after a crash: %v, want ErrBlobClosed and ErrCrashed", err)
	}
	if err := b2.Close(); err != nil {
		t.Fatalf("close after a crash: %v", err)
	}
	// And so does closing the connection.
	b3, err := c.OpenBlob(ctx, "files", "data", id, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b3.Read(buf); !errors.Is(err, messages.ErrBlobClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := b3.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenBlob(ctx, "files", "data", id, false); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("OpenBlob on a closed conn: %v", err)
	}
}

func TestBlobInvalidatedByUpdate(t *testing.T) {
	_, c := newBoomConn(t)
	ctx := testCtx(t)
	exec(t, c, "CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB)")
	exec(t, c, "INSERT INTO files VALUES (1, x'00010203')")
	b, err := c.OpenBlob(ctx, "files", "data", 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	exec(t, c, "UPDATE files SET data = x'ff' WHERE id = 1")
	if _, err := b.Read(make([]byte, 4)); err == nil {
		t.Fatal("a blob read after its row changed succeeded")
	}
	// The connection is fine.
	if v := queryValue(t, c, "SELECT hex(data) FROM files"); v != "FF" {
		t.Fatal(v)
	}
}
