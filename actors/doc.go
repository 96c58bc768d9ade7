// Package actors holds the connection actor, which owns one SQLite connection, and the
// handles callers hold: [Conn] (aiosqlite's Connection) and [Cursor] (its Cursor). Get a Conn
// from supervisor.Supervisor.Open.
//
// A Conn and a Cursor are safe for concurrent use by many goroutines: each call is a message
// to the connection's actor, which serves them one at a time, in arrival order. A caller in a
// goroutine waits for the typed reply (or its ctx); a caller that is itself an actor never
// blocks its mailbox: it sends the requests of package messages to [Conn.PID] with
// Request/RequestFuture and handles the reply as a message (for example with ReenterAfter).
// An actor opens connections the same way, with supervisor.OpenConn: then it holds only their
// PIDs, and no Conn.
//
// # What is where
//
// [Conn] has aiosqlite's calls (Exec, ExecMany, ExecScript, Query, QueryRow, transactions,
// Backup, Close) and what Python's sqlite3 adds beyond them: user functions, aggregates, window
// functions and collations ([Conn.CreateFunction], [Conn.CreateAggregate],
// [Conn.CreateWindowFunction], [Conn.CreateCollation]); hooks ([Conn.SetAuthorizer],
// [Conn.SetTrace], [Conn.SetProgressHandler], [Conn.SetUpdateHook], a change feed to an actor)
// and [Conn.Interrupt]; incremental BLOB I/O ([Conn.OpenBlob], [Blob]); copies of the database
// ([Conn.Backup], [Conn.Dump], [Conn.Serialize], [Conn.Deserialize]). Connection settings are
// [Option] values. [Pool] is one writer and several readers on one database ([NewReadPool]:
// readers alone, for a database another actor writes, such as the events store). Actors use [Ask]
// and the requests of package messages.
//
// The rest is for supervisors, not for programs that use supervisor.Supervisor: [Child],
// [ChildConfig] and [NewChild] spawn a connection actor under any parent (package supervisor
// does, and so can a program's own supervision tree: see the example of NewChild), [Crash] is
// what its parent's strategy is told, [EventWriter] is the events writer behind
// supervisor.Supervisor.InsertEvents, and [Deliver] and [AnswerUnknown] answer requests the
// way the connection does.
//
// # Bounds
//
// A connection holds at most MaxPending requests in flight (supervisor.Config.MaxPending,
// [DefaultMaxPending]) and MaxPendingBytes bytes of requests of [LargeRequest] bytes or more
// ([DefaultMaxPendingBytes]). Past them a handle's call waits (honouring its ctx), and an
// actor's request is answered at once with an error wrapping [messages.ErrOverloaded]: an
// actor never blocks.
//
// # Values
//
// Arguments bind as SQLite values: nil, integers, floats, bool (0/1), string, []byte,
// time.Time (fixed-width RFC 3339 text in UTC, messages.TimeLayout, so text order is time
// order), json.RawMessage (JSON text), pointers to these (nil binds NULL), named types of
// these kinds, and any driver.Valuer (the Go form of Python's adapters). Anything else is a
// *messages.ArgError naming the argument's position and type. Arguments bind by position (a
// ?NNN parameter by its number), except a sql.NamedArg (sql.Named("id", 7)), which binds the
// parameters :id, @id and $id; with named arguments, every parameter must get one.
//
// Values read are int64, float64, string, []byte or nil, unless a converter for the column's
// declared type applies (Python's converters with PARSE_DECLTYPES): built in, DATETIME and
// TIMESTAMP give time.Time, BOOLEAN gives bool, JSON gives json.RawMessage; add your own with
// [WithConverter].
//
// # Performance
//
// Each connection's actor runs on one long-lived goroutine (a small custom dispatcher):
// protoactor's default starts a goroutine per activation, whose stack must grow for SQLite's
// deep calls. A query's first chunk of rows rides on its reply, so a small query costs one
// round trip. Rows arrive as typed slots in one arena per chunk, not as a []any per row.
package actors
