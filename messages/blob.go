package messages

import (
	"context"
	"time"
)

// BlobID names an open blob inside its connection actor.
type BlobID uint64

// OpenBlob opens the blob in Table.Column of row RowID for incremental I/O and replies
// [*BlobReply].
type OpenBlob struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Table    string
	Column   string
	RowID    int64
	Write    bool
}

// BlobRead reads at most N bytes at Offset of an open blob and replies [*BlobReply] with
// them in Data (fewer at the end; none past it).
type BlobRead struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Blob     BlobID
	Offset   int64
	N        int
}

// BlobWrite writes Data at Offset of a blob opened for writing and replies [*BlobReply].
// A blob cannot grow.
type BlobWrite struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Blob     BlobID
	Offset   int64
	Data     []byte
}

// CloseBlob closes a blob and replies [*Ack].
type CloseBlob struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Blob     BlobID
}

// BlobReply answers [OpenBlob], [BlobRead], [BlobWrite] and [Serialize].
type BlobReply struct {
	Blob BlobID
	Size int64
	Data []byte
	N    int
	Err  error
	ID   uint64 // the ID of the request it answers
}

// ErrorReply returns &BlobReply{Err: err}.
func (*OpenBlob) ErrorReply(err error) Reply { return &BlobReply{Err: err} }

// ErrorReply returns &BlobReply{Blob: m.Blob, Err: err}.
func (m *BlobRead) ErrorReply(err error) Reply { return &BlobReply{Blob: m.Blob, Err: err} }

// ErrorReply returns &BlobReply{Blob: m.Blob, Err: err}.
func (m *BlobWrite) ErrorReply(err error) Reply { return &BlobReply{Blob: m.Blob, Err: err} }

// ErrorReply returns &Ack{Err: err}.
func (*CloseBlob) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ReplyErr returns r.Err.
func (r *BlobReply) ReplyErr() error { return r.Err }
