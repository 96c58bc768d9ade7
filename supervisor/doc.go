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
//	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: "app.db"}})
//	defer s.Stop(ctx)
//	err = s.InsertEvent(ctx, messages.Event{UserID: "u1", Name: "signup"})
//	db, err := s.Open(ctx, "app.db")
//	_, err = db.Exec(ctx, "INSERT INTO events (user_id, name, timestamp) VALUES (?, ?, ?)", "u2", "signup", time.Now())
//	cur, err := db.Query(ctx, "SELECT * FROM events WHERE name = ?", "signup")
//	rows, err := cur.FetchAll(ctx)
//
// (Example, in this package's examples, runs these lines.)
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
// # Analytics events
//
// With Config.Events.DSN set, Start spawns the events writer, a supervised child actor that
// owns the only writing connection to that database. [Supervisor.InsertEvent] and
// [Supervisor.InsertEvents] (and a [messages.InsertEvents] sent to [Supervisor.PID]) validate
// the events on the caller's side, and the writer commits them in groups, acknowledging each
// call after its commit. [Supervisor.EventsPool] is the read side: query-only connections to
// the same database, with no second DSN to pass and no idle writer.
//
// The writer creates the table (named by EventsConfig.Table, "events" by default) and its
// indexes when they are missing. This is its schema (the writer's CREATE TABLE is this one
// on one line, as sqlite_schema and .schema show it):
//
//	CREATE TABLE "events" (
//	    id INTEGER PRIMARY KEY,
//	    user_id TEXT NOT NULL,
//	    name TEXT NOT NULL,
//	    properties JSON TEXT,
//	    timestamp DATETIME NOT NULL,
//	    idempotency_key TEXT
//	);
//	CREATE INDEX "events_user_id_timestamp" ON "events" (user_id, timestamp);
//	CREATE UNIQUE INDEX "events_idempotency_key" ON "events" (idempotency_key) WHERE idempotency_key IS NOT NULL;
//
// What each column holds, and what [messages.Row] Get and Scan give for it, on any
// connection (the converters apply by declared type):
//
//	column           holds                                              reads back as
//	id               the rowid: ascending in commit order               int64
//	user_id, name    Event.UserID and Event.Name                        string
//	properties       Event.Properties, the JSON text as given;          json.RawMessage
//	                 NULL when the event had none                       (nil for NULL)
//	timestamp        Event.Timestamp (zero: when the supervisor got     time.Time
//	                 it) as messages.TimeLayout text in UTC, which
//	                 sorts in time order
//	idempotency_key  Event.IdempotencyKey; NULL when empty              string (nil for NULL)
//
// properties is declared "JSON TEXT": JSON picks the converter to json.RawMessage (the first
// word of a declared type does), and TEXT gives the column TEXT affinity, so a property that
// is a bare number is kept as the text it was (a column declared plain JSON has NUMERIC
// affinity: SQLite would store 12345678901234567890 as a rounded REAL). json_extract, ->>
// and the other JSON functions read it:
//
//	SELECT name, properties, timestamp FROM events WHERE user_id = ? ORDER BY timestamp DESC LIMIT 50 -- a timeline: the index
//	SELECT properties->>'$.plan' AS plan, count(*) FROM events WHERE name = 'signup' GROUP BY plan  -- stats on a property
//
// Tables from earlier versions. An events table created before idempotency keys gets the
// idempotency_key column (ALTER TABLE ADD COLUMN: nothing is rewritten; old rows have no key)
// and its unique index when the writer opens it, once. One created with properties BLOB (as
// earlier versions did) keeps working as it is, but its properties read back as string, not
// json.RawMessage: a declared type cannot change without rebuilding the table, which the
// writer does not do unasked (it logs a warning). To rebuild it, once a writer of this
// version has opened it (which added idempotency_key), with no supervisor writing events to
// that file (ids, rows and keys are kept; this rewrites the whole table once):
//
//	BEGIN IMMEDIATE;
//	CREATE TABLE events_new (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, properties JSON TEXT, timestamp DATETIME NOT NULL, idempotency_key TEXT);
//	INSERT INTO events_new (id, user_id, name, properties, timestamp, idempotency_key) SELECT id, user_id, name, properties, timestamp, idempotency_key FROM events;
//	DROP TABLE events;
//	ALTER TABLE events_new RENAME TO events;
//	COMMIT;
//
// (then start the supervisor: the writer recreates both indexes). A table of that name that
// lacks user_id, name, properties or timestamp is not an events table: Start fails with an
// error wrapping [messages.ErrConfig].
//
// Retries. An InsertEvents whose ctx ends before its answer returns ctx's error at once, and
// its events may still be written (they are dropped only if their batch had not begun). A
// caller that retries such a call, or an HTTP client that retries a request whose answer it
// never got, stores its events twice, unless each event carries an IdempotencyKey
// ([messages.Event]): the table holds one event per key (the unique index), and an event whose
// key is stored already, whether by an earlier call, an earlier incarnation of the writer, or
// an earlier event of the same batch, is acknowledged without a second row
// (Stats.EventsDuplicates counts them). Keys are the client's to choose: a request id and the
// event's position in it, a UUID per event.
//
// Errors, by whom they blame. [messages.ErrBadEvent] (an [*messages.EventError] naming the
// event's index and field, by its Go and JSON names): the caller's events; an HTTP service
// answers 400. [messages.ErrClosed]: the supervisor is stopping; 503.
// [messages.ErrOverloaded]: the call's ctx ended while it waited for room in the full queue
// (EventsConfig.MaxQueued), nothing of it queued; 429, with a Retry-After. [messages.ErrConfig] (a [*messages.ConfigError]): the program's configuration,
// such as an EventsConfig.Table that is not a plain SQL identifier; Start returns it.
//
// An HTTP ingest service. [messages.ParseEvents] decodes a request body holding one event or
// an array of them, in the JSON form `actorlite ingest` reads ([messages.Event] has its JSON
// tags). A handler passes InsertEvents the request's own context, r.Context(), bounded by a
// timeout of the service's (context.WithTimeout): it ends when the client goes away, so the
// handler never waits for a commit nobody will hear of (the client's retry carries the same
// keys), and the timeout turns a queue that stays full into a prompt 429 rather than a
// request that hangs. On shutdown, call http.Server.Shutdown first (it
// waits for the handlers, whose InsertEvents calls finish), then Supervisor.Stop (which
// flushes what is queued and closes the files). The ingestService example of this package
// (Example_ingestService) is such a service, with a per-user timeline and stats on a JSON
// property; the README's "An ingest service over HTTP" has its figures.
//
// # Stopping
//
// [Supervisor.Stop] serves the requests already sent, flushes queued events, rolls back open
// transactions and closes every connection, those opened by message included; callers still
// waiting get [messages.ErrClosed], and so do opens by message under way, cut short.
// With a done ctx it interrupts what runs and still closes every file. It is idempotent.
// An actor system passed in Config.System is left running.
package supervisor
