package sqlitewasm

import (
	"context"
	"errors"
)

// SetInterrupt makes SQLite interrupt what the connection runs when ctx is done, and returns
// the previous context, to restore afterwards. nil means [context.Background]. It also starts
// the progress handler's count of instructions afresh (see [Conn.SetProgressHandler]).
// https://sqlite.org/c3ref/interrupt.html
func (c *Conn) SetInterrupt(ctx context.Context) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	old := c.intr.Context
	c.intr.Context, c.intr.calls, c.intr.aborted = ctx, 0, false
	return old
}

// SetProgressHandler installs fn (Python's set_progress_handler), called while the connection
// runs statements about every steps virtual-machine instructions; fn returning true aborts the
// statement, which fails with an error wrapping [messages.ErrInterrupted]. nil removes it.
//
// SQLite reports progress to go-sqlite3 every 1,000 instructions, so a steps of 1,000 or more
// is honoured at that granularity (rounded up to a multiple of 1,000), and a statement that
// runs fewer instructions never calls fn. Below 1,000, where SQLite would call fn within any
// statement, fn is also called before each step of a statement (each statement run, each row
// read), so that it can abort any statement, however short. steps below 1 count as 1. Each
// retry while the connection waits for a lock another connection holds counts as progress
// too. A panic in fn aborts the statement, which then fails with an error holding the panic.
// https://sqlite.org/c3ref/progress_handler.html
func (c *Conn) SetProgressHandler(steps int, fn func() (abort bool)) {
	steps = max(steps, 1)
	c.intr.progress, c.intr.steps, c.intr.every = fn, steps, (steps+999)/1000
	c.intr.calls, c.intr.aborted = 0, false
}

// EndRequest marks the end of a request of the connection's owner (a unit of work, as a
// message an actor serves): the update hook gets the changes of each commit since the last
// EndRequest, one call per commit (see [Conn.SetUpdateHook]), and EndRequest returns (and
// forgets) the panic of a guarded callback that no statement's error reported, such as a
// trace run when a cursor closed. The owner fails the request with it, so that the panic
// never fails a later, unrelated request.
func (c *Conn) EndRequest() error {
	c.flushChanges()
	return c.takeCallbackErr(nil)
}

// errAborted is what a statement the progress handler aborted fails with, besides
// [messages.ErrInterrupted].
var errAborted = errors.New("actorlite: aborted by the progress handler")

// interrupt is the context go-sqlite3 holds as the connection's interrupt context, and the
// progress handler's state. go-sqlite3 asks its Err before it prepares or steps a statement
// (or opens a blob), from SQLite's progress callback every 1,000 instructions, and before each
// retry while it waits for a lock. It is done when the owner's context (SetInterrupt's) is,
// and once the progress handler aborted the call under way.
type interrupt struct {
	context.Context // the owner's; never nil
	c               *Conn

	progress     func() (abort bool) // the progress handler, or nil
	steps, every int                 // call it every steps instructions: every `every` progress checks
	next         check               // what the next Err is asked for
	calls        int                 // progress checks since the handler was last called
	aborted      bool                // the handler aborted the call under way
}

// check tells what go-sqlite3 asks the interrupt context's Err for. The code that calls
// go-sqlite3 sets interrupt.next just before a call that starts with a check.
type check uint8

const (
	checkProgress check = iota // SQLite's progress callback, or a retry on a lock
	checkCall                  // go-sqlite3's check before it prepares a statement or opens a blob
	checkStep                  // go-sqlite3's check before it steps (or runs) a statement
	// checkNextRow is checkStep for a row of a result after the first of a chunk (Rows.Next):
	// the owner's ctx is not asked, but on every nextRowCtxEvery-th row. A scan steps once per
	// row, and asking an actor's ctx (several atomic loads, calls through interfaces) took
	// about 5% of the connection's time per row. A ctx that ends is still seen within that
	// many rows, and within a long step by the progress checks SQLite makes every 1,000
	// instructions, which always ask it.
	checkNextRow
)

// nextRowCtxEvery: Rows.Next asks the owner's ctx before the first row of each chunk and then
// before every nextRowCtxEvery-th (see checkNextRow).
const nextRowCtxEvery = 8

func (i *interrupt) Err() error {
	what := i.next
	i.next = checkProgress
	if what != checkNextRow {
		if err := i.Context.Err(); err != nil {
			return err
		}
	}
	if i.progress == nil {
		return nil
	}
	switch {
	case what != checkProgress: // a new call: the handler has not aborted it
		i.aborted = false
		if (what == checkStep || what == checkNextRow) && i.steps < 1000 {
			i.callHandler()
		}
	case !i.aborted:
		if i.calls++; i.calls >= i.every {
			i.calls = 0
			i.callHandler()
		}
	}
	if i.aborted {
		return errAborted
	}
	return nil
}

// callHandler calls the progress handler, guarded: a panic in it aborts the call.
func (i *interrupt) callHandler() {
	abort := false
	i.c.guard("progress handler", func() { abort = i.progress() })
	i.aborted = abort || i.c.cbErr != nil
}
