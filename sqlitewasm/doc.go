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
package sqlitewasm
