package messages

import (
	"context"
	"io"
	"time"
)

// Backup copies the database, consistently and while it is in use, to the file Dest
// (created or overwritten), and replies [*Ack].
type Backup struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Dest     string
}

// Dump writes SQL text that recreates the database (sqlite3's .dump, Python's iterdump) to W,
// from one consistent snapshot, and replies [*Ack]. The connection is busy while it writes.
type Dump struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	W        io.Writer
}

// Serialize replies [*BlobReply] with the bytes of the main database in Data.
type Serialize struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
}

// Deserialize replaces the main database with Data (the bytes of a database file) and
// replies [*Ack].
type Deserialize struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Data     []byte
}

// ErrorReply returns &Ack{Err: err}.
func (*Backup) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Dump) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ErrorReply returns &BlobReply{Err: err}.
func (*Serialize) ErrorReply(err error) Reply { return &BlobReply{Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*Deserialize) ErrorReply(err error) Reply { return &Ack{Err: err} }
