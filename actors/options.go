package actors

import (
	"strings"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// Option sets a per-connection setting for [supervisor.Supervisor.Open].
type Option func(*config)

type config struct {
	db             sqlitewasm.Config
	fetchSize      int
	fault          func(messages.Request)
	autocommitOnly bool // see WithAutocommitOnly

	eventsFault func(batch int64, i int) // see WithEventsFault
}

// DefaultFetchSize is how many rows ride on a query's reply, and how many a cursor fetches at
// a time, unless [WithFetchSize] says otherwise.
const DefaultFetchSize = 64

func newConfig(opts []Option) config {
	c := config{fetchSize: DefaultFetchSize}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithReadOnly opens the database read-only: writes fail with [messages.ErrReadOnly].
func WithReadOnly() Option { return func(c *config) { c.db.ReadOnly = true } }

// WithQueryOnly makes a connection that serves single read-only statements to many callers,
// as a pool's readers are: PRAGMA query_only=ON (applied after every other pragma), and a
// guard, consulted while each statement is prepared and before any authorizer of
// [Conn.SetAuthorizer], that refuses with [messages.ErrNotReadOnly] what would change the
// connection for the next caller: every PRAGMA but those that only read (table_info,
// index_list, integrity_check, …), ATTACH, DETACH, BEGIN and SAVEPOINT. (SQLite applies a
// pragma while it prepares it, so query_only alone could be turned off by PRAGMA
// query_only=0.) Dump and ExecMany still run their own transactions.
func WithQueryOnly() Option { return func(c *config) { c.db.QueryOnly = true } }

// WithAutocommitOnly makes a connection that many callers share as their writer, as a pool's
// writer is: a transaction opens only with a Begin request ([Conn.Begin], [Pool.Tx]). A
// request that would leave a transaction open otherwise (BEGIN or SAVEPOINT in its SQL) is
// rolled back and fails with an error wrapping [messages.ErrInTransaction]: the writes other
// callers send next would run inside it, and be lost when it is rolled back at close.
func WithAutocommitOnly() Option { return func(c *config) { c.autocommitOnly = true } }

// WithBusyTimeout sets how long a statement waits for another connection's lock before it
// fails with [messages.ErrBusy]. Default 5s; a negative d disables waiting.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d == 0 {
			d = -1
		}
		c.db.BusyTimeout = d
	}
}

// WithSynchronous sets PRAGMA synchronous: "OFF", "NORMAL" (the default: durable against a
// process crash in WAL mode), "FULL" (also against power loss) or "EXTRA", in any case, or
// their numbers 0 to 3. Any other mode fails Open with a [*messages.ArgError].
func WithSynchronous(mode string) Option {
	return func(c *config) { c.db.Synchronous = strings.ToUpper(mode) }
}

// WithFetchSize sets how many rows ride on a query's reply and each cursor fetch (default
// 64). Values below 1 mean the default. A chunk also ends once its values reach 4 MiB
// (sqlitewasm.ChunkBytes): a cursor holds at most about that much besides one row, whatever
// the size of its rows.
func WithFetchSize(n int) Option {
	return func(c *config) {
		if n < 1 {
			n = DefaultFetchSize
		}
		c.fetchSize = n
	}
}

// WithConverter registers fn for columns whose declared type is declType (its first word,
// any case: "DECIMAL" matches "decimal(10,2)"), as Python's register_converter. fn receives an
// int64, float64, string or []byte (NULL is never converted) and runs on the connection's
// goroutine; its error or panic fails the query with [messages.ErrConvert]. A nil fn removes a
// built-in converter (DATETIME, TIMESTAMP, BOOLEAN, JSON).
func WithConverter(declType string, fn func(any) (any, error)) Option {
	return func(c *config) {
		if c.db.Converters == nil {
			c.db.Converters = make(map[string]sqlitewasm.Converter)
		}
		c.db.Converters[declType] = fn
	}
}

// WithPragma runs PRAGMA name=value when the connection opens (and reopens after a crash),
// after the defaults, each pragma as a statement of its own. name is a pragma name, with a
// schema name before it if wanted ("main.user_version"); value is one token of a pragma
// value: a signed integer or real ("-8000", "1.5"), a name or keyword ("ON", "WAL",
// "NORMAL") or a single-quoted string ("'wal'", quotes in it doubled), with spaces around it
// allowed. Anything else (a comment, a second token, a ';') fails Open with a
// [*messages.ArgError] naming the pragma, and before any pragma ran. As in SQLite, a pragma
// name SQLite does not know is ignored.
func WithPragma(name, value string) Option {
	return func(c *config) { c.db.Pragmas = append(c.db.Pragmas, [2]string{name, value}) }
}

// WithStatementCache sets how many prepared statements the connection keeps for reuse
// (default 64; negative: none).
func WithStatementCache(n int) Option {
	return func(c *config) { c.db.StmtCache = n }
}

// WithFaultHook is for fault-injection tests: fn runs on the connection's goroutine before
// each request is served, and a panic in it is a real crash of the connection actor. The events
// writer's counterpart is [WithEventsFault].
func WithFaultHook(fn func(req messages.Request)) Option {
	return func(c *config) { c.fault = fn }
}

// WithFTS5 loads the FTS5 full-text search extension (https://sqlite.org/fts5.html) on the
// connection. It is a separate Wasm module, so it costs memory per connection: opt in.
func WithFTS5() Option {
	return func(c *config) { c.db.Extensions = append(c.db.Extensions, sqlitewasm.ExtFTS5) }
}

// WithRTree loads the R*Tree and Geopoly extensions (https://sqlite.org/rtree.html).
func WithRTree() Option {
	return func(c *config) { c.db.Extensions = append(c.db.Extensions, sqlitewasm.ExtRTree) }
}
