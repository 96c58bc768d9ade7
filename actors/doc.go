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
// # Values
//
// Arguments bind as SQLite values: nil, integers, floats, bool (0/1), string, []byte,
// time.Time (fixed-width RFC 3339 text in UTC, messages.TimeLayout, so text order is time
// order), json.RawMessage (JSON text), pointers to these (nil binds NULL), named types of
// these kinds, and any driver.Valuer (the Go form of Python's adapters). Anything else is a
// *messages.ArgError naming the argument's position and type.
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
