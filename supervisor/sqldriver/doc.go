// Package sqldriver is actorlite's database/sql driver: Go programs and their tools
// (migrations with goose or golang-migrate, sqlx, sqlc's generated code, bun) reach actorlite's
// supervised connection actors through database/sql, on the same database, and through the
// same writer, as the program's own actors.
//
// Importing the package registers the driver as [DriverName]:
//
//	db, err := sql.Open("actorlite", "app.db")
//
// sql.Open uses a process-wide supervisor, started on first use and stopped when the last
// *sql.DB opened that way is closed. A program with a supervisor of its own uses
// [NewConnector] and sql.OpenDB instead; the *sql.DB then uses that supervisor's actors.
//
// # Routing
//
// A connector opens one pool ([supervisor.Supervisor.OpenPool]) on its database: one writer
// actor and GOMAXPROCS readers. database/sql's connections are light sessions on that pool,
// not connections of their own:
//   - every write outside a transaction (Exec) goes to the writer, in order;
//   - a read-write transaction (BeginTx) takes the writer for itself until Commit or Rollback,
//     with BEGIN IMMEDIATE: other writers queue in order behind it, never sleep in SQLite's
//     busy handler, and never get "database is locked"; a transaction that reads and then
//     writes can never fail with SQLITE_BUSY;
//   - reads outside a transaction (Query) go to the readers, which run in parallel with the
//     writer (WAL); a query that writes (INSERT … RETURNING) goes to the writer;
//   - a ReadOnly transaction runs on a reader of its own, a consistent snapshot from its first
//     read until it ends, and never waits for the writer.
//
// The writer is one per database file: pools the program opens with OpenPool on the same
// database, and other connectors, share it, so a database/sql transaction and the program's
// [actors.Pool.Tx] queue on the same lock. Statements are prepared and cached by the actor
// that runs them (by SQL text), so a database/sql prepared statement costs no round trip of
// its own. Since the writer is shared, BEGIN, COMMIT or SAVEPOINT sent as SQL outside a
// transaction are refused (use BeginTx); SAVEPOINT and RELEASE inside a transaction work.
//
// # Transactions and isolation
//
// As go-sqlite3's own driver maps them: sql.LevelDefault and sql.LevelSerializable begin
// IMMEDIATE, sql.LevelLinearizable EXCLUSIVE; other levels are refused with an error wrapping
// messages.ErrBadArgument. ReadOnly with the default or serializable level runs on a reader
// (deferred: its snapshot starts at its first read); ReadOnly with LevelLinearizable, or on a
// database whose pool has no readers (not in WAL mode), holds the writer with query_only on;
// its statements that name the query_only pragma are refused (messages.ErrNotReadOnly), since
// SQLite would apply PRAGMA query_only = OFF before anything could refuse it.
//
// # Values
//
// Arguments are what actorlite binds (see package actors): nil, integers, floats, bool,
// string, []byte, time.Time (stored as fixed-width RFC 3339 text in UTC, so text order is time
// order), json.RawMessage (JSON text) and driver.Valuer, plus pointers and named types of these
// kinds. Placeholders are ?, ?NNN, :name, @name and $name; sql.Named("x", v) binds :x, @x and
// $x. Columns declared DATETIME or TIMESTAMP scan as time.Time, BOOLEAN as bool, JSON as
// []byte holding the JSON text; other values as int64, float64, string, []byte or nil.
// An Exec with no arguments may hold several statements separated by semicolons (migration
// tools rely on it); its result is that of the last one.
//
// # Cancellation and failures
//
// The ctx of every call interrupts the statement it runs. A connection actor that crashed is
// restarted by its supervisor; the call whose statement crashed it gets the crash error
// (wrapping messages.ErrCrashed), since its statement ran. A call that nothing ran for, because
// the writer had stopped for good after spending its restart budget, gets driver.ErrBadConn:
// database/sql then retries it on a new connection, for which the connector opens a new pool.
// A transaction a crash lost fails every statement with messages.ErrTransactionLost until it is
// rolled back.
//
// # Reaching actorlite underneath
//
// sql.Conn.Raw hands over a *[Conn], whose [Conn.ActorConn] is the *actors.Conn its statements
// run on now (the writer, or a transaction's connection), and [Conn.Pool] the pool, for what
// database/sql cannot express: user functions (register them with Pool().CreateFunction, on
// every member), blobs, the update hook. A ReadOnly transaction on a reader of its own runs
// on a connection beside the pool, which gets what was registered through the pool
// (functions, aggregates, collations, the authorizer: actors.Pool.Replay) before the
// transaction begins; what is registered on one member alone (through ActorConn) is not there.
package sqldriver
