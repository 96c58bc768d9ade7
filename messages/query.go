package messages

import (
	"context"
	"time"
)

// Column describes one result column, as Python's cursor.description does.
type Column struct {
	Name     string // the column's name (its alias, when the query gives one)
	DeclType string // the declared type of the table column it comes from; "" for expressions
}

// Query runs a statement that returns rows and replies [*Rows] with the first chunk of at
// most FetchSize rows (0 means the connection's default, 64; negative means all rows), fewer
// when the rows are large: a chunk ends after the row that brings its text and blob values to
// 4 MiB, so that a message's size is bounded in bytes too. When the reply's Done is false,
// the statement stays open in the actor as the cursor named by [Rows.Cursor]: fetch the rest
// with [Fetch] and close it early with [CloseCursor].
type Query struct {
	Ctx       context.Context // the caller's context; may be nil
	ReplyTo   chan<- Reply    // set by handles; actors leave it nil
	ID        uint64          // echoed in the reply's ID
	Deadline  time.Time       // when set, the request ends then, as if Ctx ended
	SQL       string
	Args      []any
	FetchSize int
	// ReadOnly asks the actor to run the statement only if SQLite reports it read-only, and
	// to fail with ErrNotReadOnly (having run nothing) otherwise. Pools route with it.
	ReadOnly bool
	// OneRow asks for the first row only: the actor steps once, closes the statement, and
	// replies with at most one row and Done set (QueryRow uses it).
	OneRow bool
}

// CursorID names an open cursor inside its connection actor. Ids are never reused by a
// connection, across restarts included.
type CursorID uint64

// Fetch asks an open cursor for at most N more rows (N <= 0: all remaining) and replies [*Rows]:
// fewer when they are large, as for [Query]. The cursor is closed when its rows are exhausted
// (Done is true); a reply with fewer than N rows and Done false only means "fetch again". An
// actor's Fetch refused with [ErrOverloaded] has Done false too: the cursor is still open. A
// Query whose cursor would be handed out after its Deadline closes it and fails instead (its
// asker no longer waits).
type Fetch struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Cursor   CursorID
	N        int
}

// CloseCursor closes a cursor and replies [*Ack]. Closing a closed or exhausted cursor is not
// an error; an id the connection never issued is ([ErrUnknownCursor]).
type CloseCursor struct {
	Ctx      context.Context // the caller's context; may be nil
	ReplyTo  chan<- Reply    // set by handles; actors leave it nil
	ID       uint64          // echoed in the reply's ID
	Deadline time.Time       // when set, the request ends then, as if Ctx ended
	Cursor   CursorID
}

// Rows answers [Query] and [Fetch] with a chunk of rows.
type Rows struct {
	Cursor  CursorID // the cursor to fetch from while Done is false
	Columns []Column // the result's columns (on the Query reply; nil on Fetch replies)
	Rows    []Row
	Done    bool // no rows remain; the cursor is closed
	Err     error
	ID      uint64 // the ID of the request it answers
}

// ErrorReply returns &Rows{Err: err, Done: true}.
func (*Query) ErrorReply(err error) Reply { return &Rows{Err: err, Done: true} }

// ErrorReply returns &Rows{Cursor: m.Cursor, Err: err, Done: true}.
func (m *Fetch) ErrorReply(err error) Reply { return &Rows{Cursor: m.Cursor, Err: err, Done: true} }

// ErrorReply returns &Ack{Err: err}.
func (*CloseCursor) ErrorReply(err error) Reply { return &Ack{Err: err} }

// ReplyErr returns r.Err.
func (r *Rows) ReplyErr() error { return r.Err }
