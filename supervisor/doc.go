// Package supervisor is the entry point of actorlite: non-blocking, supervised access to
// SQLite for Go programs, the Go answer to Python's aiosqlite.
//
// [Start] creates (or joins) a protoactor-go actor system and spawns the supervising actor.
// [Supervisor.Open] opens the database (on the caller's goroutine, which would otherwise only
// wait), spawns a connection actor as its child that owns that SQLite connection from then on,
// and returns its handle, an [actors.Conn]. Every call on the handle is a message to the actor;
// nobody else touches the connection. [Supervisor.InsertEvent] routes analytics
// events to a writer that commits them in groups. [Supervisor.Stop] closes everything.
//
//	s, err := supervisor.Start(ctx, supervisor.Config{})
//	defer s.Stop(ctx)
//	db, err := s.Open(ctx, "app.db")
//	_, err = db.Exec(ctx, "INSERT INTO events (user_id, name) VALUES (?, ?)", "u1", "signup")
//	cur, err := db.Query(ctx, "SELECT * FROM events WHERE name = ?", "signup")
//	rows, err := cur.FetchAll(ctx)
//
// A Supervisor, and the handles it returns, are safe for concurrent use by many goroutines.
//
// # When a connection crashes
//
// A panic inside a connection actor is a crash: a user function (registered with
// CreateFunction) that panics, a bug, a corrupted SQLite instance. This is what you see:
//
//   - The call that crashed it returns at once with an error wrapping [messages.ErrCrashed]
//     (errors.As gives a [*messages.CrashError] with the panic value). It is never left hanging:
//     the connection itself answers it, before its supervisor decides anything, so this holds
//     for an actor's request too, and under a program's own supervisor strategy.
//   - The connection is restarted: the same DSN is reopened with the same options, converters
//     and functions. Your *actors.Conn stays valid; keep using it.
//   - Requests queued behind the crash are served after the restart, in their order. None is
//     lost or run twice.
//   - Cursors open at the crash return an error wrapping [messages.ErrCursorClosed] and
//     ErrCrashed, even for rows they had buffered. Run the query again.
//   - Committed rows are never lost. A database opened as ":memory:" is lost, though (the new
//     connection gets a new, empty one): use "file:/name?vfs=memdb" for an in-memory database
//     that survives restarts.
//   - If a transaction you opened (Begin, or a BEGIN you ran) was open between requests, its
//     uncommitted work is gone. Every call on the connection then fails with
//     [messages.ErrTransactionLost], so nothing you meant to run inside the transaction runs
//     by accident in autocommit mode. Call Rollback (it succeeds and clears the state), then
//     redo the transaction from its start. Commit also clears the state but returns
//     ErrTransactionLost, since nothing was committed. A request that crashes inside a
//     transaction of its own (ExecMany's, Dump's) or while it commits or rolls back keeps
//     nothing of it and leaves nothing to clear: its ErrCrashed says it all.
//   - A connection that crashes while closing is closed all the same.
//   - A connection that crashes more than Config.MaxRestarts times within
//     Config.RestartWindow is stopped for good: every call then returns an error wrapping both
//     [messages.ErrClosed] and ErrCrashed, and so does every request an actor sends to its PID
//     (which answers in its place until the handle is closed, or Stop; for a connection
//     opened by message, until the PID gets a Close). Other connections are never affected.
//
// Each crash is logged once through Config.Logger, with the DSN, the panic's stack and what
// followed (a restart, or a stop); counted in [Supervisor.Stats]; and published on the actor
// system's EventStream as an *actor.SupervisorEvent (Reason: an [*actors.Crash]; Directive:
// restart or stop), as protoactor's own strategies do.
//
// # From actors
//
// A program's own actors message connections directly: [actors.Conn.PID] is the connection's
// PID, the requests and replies are package messages' (its doc has the table), and
// [actors.Ask] sends one and continues with its typed reply without blocking the actor. An
// actor's request is honoured as a handle's call is: Deadline for its ctx, ID echoed in the
// reply, answered when it crashes the connection or finds it closed, and bounded by
// Config.MaxPending (past it, answered at once with [messages.ErrOverloaded]). A program that
// builds its own supervision tree spawns [actors.NewChild]'s Props under its own parent.
//
// An actor must not block its mailbox on Open either. It sends an [OpenConn] (or, for a
// writer and query-only readers, an [OpenPoolConns]) to [Supervisor.PID] with Request or
// RequestFuture, and gets a [*ConnOpened] with the connection's PID once the database is
// open; the open runs off the supervisor's mailbox too. A Name makes the PID known in advance
// ([Supervisor.ConnPID]). Such a connection has no handle, so nothing closes it when garbage
// is collected: it lives until its PID receives a [messages.Close], or until Stop. It is
// supervised, restarted and counted in Stats like any other.
//
// # Cancellation and back-pressure
//
// Every call takes a context.Context and returns promptly once it is done, wherever the
// request is: waiting for one of the connection's Config.MaxPending slots, queued in the
// actor's mailbox (it is then skipped, with no effect), or running (SQLite is interrupted;
// measured on a 2-core machine, BenchmarkCancelLatency: the caller of a running query returns
// about 17 µs after cancel, and the connection answers its next request about 18 µs after).
// A user function that blocks without returning is the one thing that can hold a cancelled
// call: SQLite is only interrupted between its instructions. Releasing never depends on the
// ctx: Close, Cursor.Close, Blob.Close and Rollback with a done ctx still happen.
//
// At most Config.MaxPending requests per connection are in flight, and Config.MaxPendingBytes
// bytes of large ones; further callers wait, honouring their ctx, so memory stays bounded, in
// bytes, however fast callers are. An actor's request, which must not block, is answered at
// once with [messages.ErrOverloaded] instead of waiting. The events queue is bounded the same way
// (EventsConfig.MaxQueued, MaxQueuedBytes). The README's "Reliability" section lists every
// bound, and how the promises above are tested (a crash storm, fuzzing, kill -9).
//
// # Stopping
//
// [Supervisor.Stop] serves the requests already sent, flushes queued events, rolls back open
// transactions and closes every connection, those opened by message included; callers still
// waiting get [messages.ErrClosed], and so do opens by message under way, cut short.
// With a done ctx it interrupts what runs and still closes every file. It is idempotent.
// An actor system passed in Config.System is left running.
package supervisor
