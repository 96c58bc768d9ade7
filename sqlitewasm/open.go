package sqlitewasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"github.com/ncruces/go-sqlite3/ext/rtree"
)

// Config holds how a connection is opened. The zero Config gives the defaults of DESIGN §4:
// WAL, synchronous=NORMAL, busy_timeout=5s, foreign_keys=ON, the built-in converters.
type Config struct {
	ReadOnly    bool          // open read-only (SQLITE_OPEN_READONLY)
	BusyTimeout time.Duration // 0 means 5s; negative means none
	Synchronous string        // "" means NORMAL
	Pragmas     [][2]string   // run after the defaults, in order: PRAGMA name=value
	// Converters maps a declared type (its first word, any case) to a converter. They are
	// applied on top of the built-in ones; a nil Converter removes a built-in one.
	Converters map[string]Converter
	StmtCache  int      // prepared statements kept for reuse; 0 means 64, negative means none
	Extensions []string // bundled extensions to load: ExtFTS5, ExtRTree
	// QueryOnly makes a connection that serves single read-only statements to many callers
	// (a pool's reader): PRAGMA query_only=ON, applied last, and a guard that refuses, with
	// [messages.ErrNotReadOnly], what would change the connection for the next caller: every
	// PRAGMA but those that only read, ATTACH, DETACH, BEGIN and SAVEPOINT.
	QueryOnly bool
}

var pragmaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// Open opens dsn: a file path, a "file:" URI, ":memory:", or "file:/name?vfs=memdb" (an
// in-memory database shared by name, that outlives its connections). ctx interrupts the
// open. The error wraps [messages.ErrCantOpen] (or another class of [messages.Error]) when
// SQLite cannot open the database.
//
// Open returns when ctx ends, with its error, even where SQLite cannot be interrupted: between
// the retries of a WAL read lock that fails with SQLITE_PROTOCOL (about 10 s of them, as when C
// SQLite opened the WAL database first and holds it), SQLite sleeps, and nothing wakes it. A
// ctx that can end thus has the open run on a goroutine of its own, which, when its caller has
// gone, closes whatever it opened.
func Open(ctx context.Context, dsn string, cfg Config) (*Conn, error) {
	if err := checkPath(dsn); err != nil {
		return nil, err
	}
	// Options are checked before the file is opened: a rejected one creates no file.
	stmts, err := pragmaStmts(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkExtensions(cfg.Extensions); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Err() != nil {
		return nil, interrupted(ctx)
	}
	if ctx.Done() == nil { // nothing to honour: the open runs here
		return open(ctx, dsn, cfg, stmts)
	}
	type opened struct {
		c     *Conn
		err   error
		panic any // raised again on the caller's goroutine, as an open run there would
	}
	done := make(chan opened, 1)
	go func() {
		var r opened
		defer func() {
			if p := recover(); p != nil {
				r = opened{panic: p}
			}
			done <- r
		}()
		r.c, r.err = open(ctx, dsn, cfg, stmts)
	}()
	select {
	case r := <-done:
		if r.panic != nil {
			panic(r.panic)
		}
		return r.c, r.err
	case <-ctx.Done():
		go func() { // the caller has gone: nobody else will close it
			if r := <-done; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, interrupted(ctx)
	}
}

// interrupted is the error of an open that ctx ended, as SQLite's own when ctx interrupts a
// statement of the open: it wraps [messages.ErrInterrupted] and ctx's error.
func interrupted(ctx context.Context) error {
	code := int(sqlite3.INTERRUPT)
	return &messages.Error{Code: code, ExtendedCode: code, Message: "interrupted",
		Err: fmt.Errorf("%w (%w)", ctx.Err(), sqlite3.INTERRUPT)}
}

// protocolHint ends the message of an open's SQLITE_PROTOCOL error: what most likely caused it.
const protocolHint = "; a program using C SQLite (the sqlite3 shell, Python, mattn/go-sqlite3) " +
	"may hold this WAL database, having opened it first: its POSIX locks and go-sqlite3's OFD " +
	"locks do not mix until it closes it"

// lockProtocolHint adds protocolHint to err when it is an SQLITE_PROTOCOL *messages.Error, as
// open's setup returns it: the first go-sqlite3 connection to a WAL database that C SQLite
// opened first fails so, after SQLite's retries (README.md, "Reliability"). Any other error,
// a wrapped one too (its message is fixed), is returned as it is.
func lockProtocolHint(err error) error {
	if se, ok := err.(*messages.Error); ok && se.Code == int(sqlite3.PROTOCOL) && !strings.HasSuffix(se.Message, protocolHint) {
		se.Message += protocolHint
	}
	return err
}

// open is Open once its arguments are checked, on the goroutine that runs it.
func open(ctx context.Context, dsn string, cfg Config, stmts []string) (*Conn, error) {
	flags := sqlite3.OPEN_URI
	if cfg.ReadOnly {
		flags |= sqlite3.OPEN_READONLY
	} else {
		flags |= sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE
	}
	db, err := sqlite3.OpenFlags(dsn, flags)
	if err != nil {
		return nil, wrapErr(err, "")
	}
	c := &Conn{db: db, dsn: dsn, conv: builtinConverters(), blobs: make(map[*sqlite3.Blob]struct{}),
		builtinTime: map[string]bool{"DATETIME": true, "TIMESTAMP": true}}
	for k, fn := range cfg.Converters {
		delete(c.builtinTime, ConverterKey(k))
		if fn == nil {
			delete(c.conv, ConverterKey(k))
		} else {
			c.conv[ConverterKey(k)] = fn
		}
	}
	size := cfg.StmtCache
	if size == 0 {
		size = 64
	}
	c.cache.init(size)
	db.SetInterrupt(ctx)
	err = c.setup(ctx, cfg, stmts)
	if err == nil && cfg.QueryOnly {
		err = c.setQueryOnly()
	}
	c.intr = interrupt{Context: context.Background(), c: c}
	db.SetInterrupt(&c.intr) // for good: SetInterrupt sets the context inside it
	if err != nil {
		c.Close()
		return nil, lockProtocolHint(err)
	}
	pinMemDB(db) // a shared memdb database outlives its connections
	return c, nil
}

// checkPath gives a clear error for a plain path whose directory is missing or that names a
// directory: SQLite's own is only "unable to open database file".
func checkPath(dsn string) error {
	if dsn == "" || dsn == ":memory:" || strings.HasPrefix(dsn, "file:") {
		return nil
	}
	cantOpen := func(reason string) error {
		return &messages.Error{Code: 14, ExtendedCode: 14, Message: fmt.Sprintf("unable to open database file %q: %s", dsn, reason), Err: sqlite3.CANTOPEN}
	}
	if fi, err := os.Stat(dsn); err == nil && fi.IsDir() {
		return cantOpen("is a directory")
	}
	if _, err := os.Stat(filepath.Dir(dsn)); err != nil {
		return cantOpen("its directory does not exist")
	}
	return nil
}

// setup applies cfg to a new connection: the busy timeout, then stmts (from pragmaStmts,
// checked before the file was opened), then the extensions.
func (c *Conn) setup(ctx context.Context, cfg Config, stmts []string) error {
	busy := cfg.BusyTimeout
	if busy == 0 {
		busy = 5 * time.Second
	}
	if busy > 0 { // before journal_mode: switching to WAL can itself meet a lock
		if err := c.db.BusyTimeout(busy); err != nil {
			return wrapErr(err, "")
		}
	}
	// One statement per pragma: even if a statement were malformed, it could not reach
	// into the next one (the readers of a pool rely on their query_only=ON, which comes
	// after the caller's pragmas).
	for _, stmt := range stmts {
		if err := c.execRetryBusy(ctx, stmt, busy); err != nil {
			return err
		}
	}
	return c.loadExtensions(cfg.Extensions)
}

// pragmaStmts returns the statements that set cfg's pragmas, in order: journal_mode=WAL
// (unless read-only), synchronous, foreign_keys=ON, then cfg.Pragmas. A name that is not
// [schema.]name, a value that is not a pragma value (see [pragmaValue]) or a synchronous mode
// other than OFF, NORMAL, FULL, EXTRA or 0-3 is an [*messages.ArgError] naming the pragma.
func pragmaStmts(cfg Config) ([]string, error) {
	sync := strings.ToUpper(strings.Trim(cfg.Synchronous, sqlSpace))
	switch sync {
	case "":
		sync = "NORMAL"
	case "OFF", "NORMAL", "FULL", "EXTRA", "0", "1", "2", "3":
	default:
		return nil, &messages.ArgError{Reason: fmt.Sprintf("pragma synchronous: mode %q is not OFF, NORMAL, FULL or EXTRA (or 0 to 3)", cfg.Synchronous)}
	}
	pragmas := make([][2]string, 0, 3+len(cfg.Pragmas))
	if !cfg.ReadOnly {
		pragmas = append(pragmas, [2]string{"journal_mode", "WAL"})
	}
	pragmas = append(pragmas, [2]string{"synchronous", sync}, [2]string{"foreign_keys", "ON"})
	pragmas = append(pragmas, cfg.Pragmas...)
	stmts := make([]string, len(pragmas))
	for i, p := range pragmas {
		name, value := p[0], p[1]
		if !pragmaName.MatchString(name) {
			return nil, &messages.ArgError{Reason: fmt.Sprintf("bad pragma name %q", name)}
		}
		text, ok := pragmaValue(value)
		if !ok {
			return nil, &messages.ArgError{Reason: fmt.Sprintf("pragma %s: value %q is not one number, name or 'string'", name, value)}
		}
		stmts[i] = fmt.Sprintf(`PRAGMA "%s"=%s`, strings.Replace(name, ".", `"."`, 1), quoteText(text))
	}
	return stmts, nil
}

// sqlSpace holds the characters SQLite's tokenizer takes for white space.
const sqlSpace = " \t\n\f\r"

var (
	pragmaNumber = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|0[xX][0-9A-Fa-f]+)$`)
	pragmaWord   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// pragmaValue checks that v (spaces around it aside) is one token of a pragma value, as
// https://sqlite.org/pragma.html#syntax allows: a signed integer or real (-4000, 1.5e3, 0x10),
// a name or keyword (ON, WAL, NORMAL, …), or a single-quoted string (a quote in it doubled, no NUL).
// It returns the text SQLite takes from that token: the number with its sign (a '+' dropped,
// as SQLite drops it), the name as written, the string without its quotes. Anything else (a
// comment, a second token, a ';', a double-quoted name, a blob) is not ok: a value appended to
// a statement must not be able to end it or comment out what follows.
func pragmaValue(v string) (text string, ok bool) {
	v = strings.Trim(v, sqlSpace)
	switch {
	case pragmaNumber.MatchString(v):
		return strings.TrimPrefix(v, "+"), true
	case pragmaWord.MatchString(v):
		return v, true
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		inner := v[1 : len(v)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") || strings.IndexByte(inner, 0) >= 0 {
			return "", false
		}
		return strings.ReplaceAll(inner, "''", "'"), true
	}
	return "", false
}

// quoteText returns text as an SQL string literal. A pragma takes its value as text whatever
// the token was (SQLite's sqlite3Pragma: "-" and the number, or the name or string
// dequoted), so a value passed as a literal means what its token meant, and a keyword such as
// NULL, which SQLite refuses bare, cannot turn an accepted value into a syntax error.
func quoteText(text string) string {
	return "'" + strings.ReplaceAll(text, "'", "''") + "'"
}

// execRetryBusy runs an idempotent script, retrying it while it meets a lock, for up to
// timeout. Switching a new database to WAL needs an exclusive lock, and SQLite reports BUSY
// there without calling the busy handler when several connections open it at once.
func (c *Conn) execRetryBusy(ctx context.Context, script string, timeout time.Duration) error {
	start, wait := time.Now(), time.Millisecond
	for {
		err := wrapErr(c.db.Exec(script), script)
		if err == nil || !errors.Is(err, messages.ErrBusy) || time.Since(start)+wait > timeout {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// Extension names for [Config].Extensions.
const (
	ExtFTS5  = "fts5"  // full-text search, https://sqlite.org/fts5.html
	ExtRTree = "rtree" // R*Tree and geopoly, https://sqlite.org/rtree.html
)

// checkExtensions returns an [*messages.ArgError] for the first name that is not a bundled
// extension: Open checks the names before it runs anything.
func checkExtensions(names []string) error {
	for _, name := range names {
		switch strings.ToLower(name) {
		case ExtFTS5, ExtRTree:
		default:
			return &messages.ArgError{Reason: fmt.Sprintf("unknown extension %q (bundled: fts5, rtree; JSON and math functions are built in)", name)}
		}
	}
	return nil
}

func (c *Conn) loadExtensions(names []string) error {
	if err := checkExtensions(names); err != nil {
		return err
	}
	for _, name := range names {
		var err error
		switch strings.ToLower(name) {
		case ExtFTS5:
			err = fts5.Register(c.db)
		case ExtRTree:
			err = rtree.Register(c.db)
		}
		if err != nil {
			return fmt.Errorf("loading %s: %w", name, wrapErr(err, ""))
		}
	}
	return nil
}
