package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/asynkron/protoactor-go/actor"
)

// SetAuthorizer installs fn as the connection's authorizer (Python's set_authorizer); nil
// removes it. SQLite asks it, while preparing each statement, for every action the statement
// takes; a statement it denies fails with an error wrapping [messages.ErrNotAuthorized]. fn is
// your code, so a panic in it fails only that statement (the panic is in the error) and the
// connection stays up. It is installed again after a restart.
func (c *Conn) SetAuthorizer(ctx context.Context, fn func(messages.AuthRequest) messages.AuthResult) error {
	m := &messages.SetAuthorizer{Ctx: ctx, Fn: fn}
	return c.ack(ctx, "set authorizer", m, &m.ReplyTo)
}

// SetTrace installs fn (Python's set_trace_callback), called on the connection's goroutine
// after every statement the connection runs for Exec, ExecMany, ExecScript, Query and
// transactions, with its SQL text, parameters expanded, and how long it ran; nil removes it.
// A panic in fn fails that call with an error holding the panic (the statement itself ran).
func (c *Conn) SetTrace(ctx context.Context, fn func(sql string, d time.Duration)) error {
	m := &messages.SetTrace{Ctx: ctx, Fn: fn}
	return c.ack(ctx, "set trace", m, &m.ReplyTo)
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
	return c.ack(ctx, "set progress handler", m, &m.ReplyTo)
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
	return c.ack(ctx, "set update hook", m, &m.ReplyTo)
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

func (a *connActor) setAuthorizer(m *messages.SetAuthorizer) messages.Reply {
	return a.apply("authorizer", m.Fn == nil, func(db *sqlitewasm.Conn) error { return db.SetAuthorizer(m.Fn) })
}

func (a *connActor) setTrace(m *messages.SetTrace) messages.Reply {
	return a.apply("trace", m.Fn == nil, func(db *sqlitewasm.Conn) error { db.SetTrace(m.Fn); return nil })
}

// setUpdateHook installs the update hook m asks for on the connection actor self.
func (a *connActor) setUpdateHook(self *actor.PID, m *messages.SetUpdateHook) messages.Reply {
	fn, err := a.sh.updateHook(self, m)
	if err != nil {
		return &messages.Ack{Err: err}
	}
	return a.apply("update hook", fn == nil, func(db *sqlitewasm.Conn) error { db.SetUpdateHook(fn); return nil })
}

// setProgressHandler installs the progress handler (sqlitewasm runs it), replayed after a
// restart.
func (a *connActor) setProgressHandler(m *messages.SetProgressHandler) messages.Reply {
	if m.Fn != nil && m.Steps < 1 {
		return &messages.Ack{Err: &messages.ArgError{Reason: fmt.Sprintf("progress handler steps %d < 1", m.Steps)}}
	}
	return a.apply("progress handler", m.Fn == nil, func(db *sqlitewasm.Conn) error {
		db.SetProgressHandler(m.Steps, m.Fn)
		return nil
	})
}

// Interrupt interrupts whatever the connection runs now (Python's interrupt): the running
// statement fails with an error wrapping [messages.ErrInterrupted]. It is not a message, so it
// does not queue behind that statement; requests queued behind it run normally. What runs may
// be a cursor's fetch sent ahead (see [Cursor]): that cursor then fails with the error. With
// nothing running it does nothing. It never waits: ctx is only checked, and when it is already done
// Interrupt interrupts nothing and returns an error wrapping ctx.Err(), as every call does.
func (c *Conn) Interrupt(ctx context.Context) error {
	if err := c.sh.closedErr(); err != nil {
		return fmt.Errorf("interrupt: %w", err)
	}
	if err := orBackground(ctx).Err(); err != nil {
		return fmt.Errorf("interrupt: %w", err)
	}
	c.sh.interrupts.Add(1) // what runs now sees it; what starts later does not
	return nil
}
