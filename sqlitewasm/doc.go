// Package sqlitewasm is actorlite's binding to SQLite: the only package that imports
// github.com/ncruces/go-sqlite3 (SQLite compiled to Wasm and translated to Go: no cgo).
//
// It opens connections with actorlite's default pragmas (busy_timeout=5s set first, then
// journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON), keeps a cache of prepared statements,
// binds arguments and reads values by the rules of package actors (converters included),
// reads column names and declared types, and translates SQLite's errors into
// [messages.Error] values that match actorlite's sentinel errors.
//
// It is synchronous and starts no goroutine. A [Conn] is not safe for concurrent use by
// multiple goroutines: in actorlite it is owned by exactly one connection actor.
//
// A [Conn] also holds what a caller installs on a connection: functions, aggregates and
// collations ([Conn.CreateFunction], [Conn.CreateAggregate], [Conn.CreateCollation]), the
// authorizer, trace, update hook and progress handler ([Conn.SetAuthorizer], [Conn.SetTrace],
// [Conn.SetUpdateHook], [Conn.SetProgressHandler]); and it gives incremental blob I/O
// ([Conn.OpenBlob]) and copies of the database ([Conn.Backup], [Conn.Serialize],
// [Conn.Deserialize], [Conn.Dump]).
//
// # Requests
//
// The owner of a Conn serves requests one at a time. For each, it installs the request's
// context with [Conn.SetInterrupt] (SQLite is interrupted once it is done), and after it calls
// [Conn.EndRequest], which gives the update hook the request's commits and returns the panic of
// a callback that no statement's error reported, so that the request fails with it.
package sqlitewasm
