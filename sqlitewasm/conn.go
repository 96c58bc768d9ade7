package sqlitewasm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/vfs/memdb" // registers the memdb VFS for file:/name?vfs=memdb
)

// Conn is one SQLite connection with a cache of prepared statements.
// A Conn is not safe for concurrent use by multiple goroutines: it is owned by exactly one
// connection actor (or one goroutine, in tests and benchmarks).
type Conn struct {
	db   *sqlite3.Conn
	dsn  string
	conv map[string]Converter
	// builtinTime holds the declared types still read by the built-in time converter, which
	// the connection applies unboxed (see Rows.column).
	builtinTime map[string]bool
	cache       stmtCache
	blobs       map[*sqlite3.Blob]struct{} // open blobs

	intr    interrupt // the interrupt context go-sqlite3 holds, with the progress handler
	scratch []byte    // a bound time's text (see bindAll)
	trace   func(sql string, d time.Duration)
	cbErr   error // a guarded callback's panic, failing the running statement

	queryOnly    bool                                           // Config.QueryOnly: the guard is installed
	queryOnlyErr error                                          // the guard refused the statement being prepared
	quiet        int                                            // closing statements: callbacks' panics are recorded, not raised (see recoverQuiet)
	readPragma   string                                         // the bare "PRAGMA name" being prepared on a query-only connection
	ownTx        bool                                           // ExecMany or Dump runs its own transaction
	userAuth     func(messages.AuthRequest) messages.AuthResult // the caller's authorizer
	onChanges    func([]RowChange)
	pending      changeLog     // changes of the open transaction
	committed    [][]RowChange // changes of each commit not yet handed to onChanges, in order
}

// DSN returns the DSN the connection was opened with.
func (c *Conn) DSN() string { return c.dsn }

// Close closes open result sets, the cached statements and the connection. It is safe to
// call on a nil or closed Conn. If a panic earlier left the SQLite instance in a state where
// closing fails, Close drops it anyway and returns the error. Its error also holds the panic
// of a callback of the caller's that closing a statement ran (an aggregate's Final, for a
// window left half computed), here or since the last request ended (see [Conn.EndRequest]):
// closing the cursors of a connection before closing it, say.
func (c *Conn) Close() (err error) {
	if c == nil || c.db == nil {
		return nil
	}
	c.quiet++ // closing resets statements, which can call an aggregate's Final
	defer func() {
		c.quiet--
		if p := recover(); p != nil {
			err = fmt.Errorf("actorlite: closing %s: %v", c.dsn, p)
			// Drop everything that reaches the instance, so that the collector frees it
			// (and closes its files) even while this Conn lives on.
			c.cache, c.blobs = stmtCache{}, nil
		}
		c.db = nil
		err = c.takeCallbackErr(err)
	}()
	for b := range c.blobs {
		b.Close()
	}
	clear(c.blobs)
	c.cache.clear()
	for s := range c.db.Stmts() {
		s.Close()
	}
	return wrapErr(c.db.Close(), "")
}

// prepare returns a statement for sql, from the cache when one is idle there, with its cache
// entry (nil when it is not cached). The caller gives it back with release. A query of
// several statements is [messages.ErrMultipleStatements].
func (c *Conn) prepare(sql string) (*sqlite3.Stmt, *cachedStmt, error) {
	if e := c.cache.take(sql); e != nil {
		return e.s, e, nil
	}
	s, err := c.prepareUncached(sql)
	var e *cachedStmt
	if s != nil {
		e = c.cache.adopt(s)
	}
	return s, e, err
}

// params returns the parameters of s, whose cache entry is e (or nil): cached, it costs no
// call into SQLite.
func params(s *sqlite3.Stmt, e *cachedStmt) int {
	if e != nil {
		return e.params
	}
	return s.BindCount()
}

// prepareUncached prepares sql outside the cache: the caller owns (and closes) the statement.
func (c *Conn) prepareUncached(sql string) (*sqlite3.Stmt, error) {
	s, tail, err := c.prepareFirst(sql)
	if err != nil {
		return nil, wrapErr(err, sql)
	}
	if s == nil { // nothing to run, unless a NUL byte hid it from SQLite
		return nil, nulError(sql)
	}
	// The tail is checked, never prepared: preparing it could apply a pragma in it.
	if !trivia(tail) {
		s.Close()
		if err := nulError(tail); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %q", messages.ErrMultipleStatements, sql)
	}
	return s, nil
}

// stepping tells the query-only guard, while a statement runs, whether it is a bare "PRAGMA
// name": SQLite prepares a statement again when the schema changed since, and asks the
// authorizer again then. It returns the function that ends it.
func (c *Conn) stepping(sql string) func() {
	c.readPragma = barePragma(sql)
	return func() { c.readPragma = "" }
}

// prepareFirst prepares the first statement of sql. On a query-only connection it first
// tells the guard whether that statement is a bare "PRAGMA name", which only reads.
func (c *Conn) prepareFirst(sql string) (*sqlite3.Stmt, string, error) {
	c.intr.next = checkCall
	if c.queryOnly {
		defer c.stepping(sql)()
	}
	return c.db.Prepare(sql)
}

// meta returns the column metadata of s (column names and declared types, and converters),
// cached with the statement until SQLite re-prepares it after a schema change.
func (c *Conn) meta(s *sqlite3.Stmt, e *cachedStmt) ([]messages.Column, []Converter, []bool) {
	reprep := s.Status(sqlite3.STMTSTATUS_REPREPARE, false)
	if e != nil && e.cols != nil && e.reprep == reprep {
		return e.cols, e.conv, e.time
	}
	n := s.ColumnCount()
	cols := make([]messages.Column, n)
	var conv []Converter
	var isTime []bool
	for i := range n {
		cols[i] = messages.Column{Name: s.ColumnName(i), DeclType: s.ColumnDeclType(i)}
		key := ConverterKey(cols[i].DeclType)
		if fn := c.conv[key]; fn != nil && cols[i].DeclType != "" {
			if conv == nil {
				conv = make([]Converter, n)
			}
			conv[i] = fn
			if c.builtinTime[key] {
				if isTime == nil {
					isTime = make([]bool, n)
				}
				isTime[i] = true
			}
		}
	}
	if e != nil {
		e.cols, e.conv, e.time, e.reprep = cols, conv, isTime, reprep
	}
	return cols, conv, isTime
}

// release resets s and gives it back to the cache, clearing its bindings first if they may
// hold text or blobs (see bindAll): every use binds all parameters anew, so numbers left bound
// are harmless, while a large blob left bound would stay in memory.
func (c *Conn) release(s *sqlite3.Stmt, e *cachedStmt, clear bool) {
	if s == nil {
		return
	}
	if s.Reset() != nil || (clear && s.ClearBindings() != nil) {
		c.cache.drop(s)
		return
	}
	c.cache.put(s, e)
}

// Exec runs one statement with args and returns its result. Rows it returns are discarded.
func (c *Conn) Exec(sql string, args []any) (messages.Result, error) {
	s, e, err := c.prepare(sql)
	if err != nil || s == nil {
		return messages.Result{}, c.stmtErr(err)
	}
	clear, err := bindAll(s, params(s, e), args, &c.scratch)
	defer c.release(s, e, clear)
	if err != nil {
		return messages.Result{}, err
	}
	if err := c.run(s, sql); err != nil {
		return messages.Result{}, err
	}
	return messages.Result{LastInsertID: c.db.LastInsertRowID(), RowsAffected: c.db.Changes()}, nil
}

// run steps s to its end, traces it, and returns its error with any callback's panic.
func (c *Conn) run(s *sqlite3.Stmt, sql string) error {
	var t0 time.Time
	if c.trace != nil {
		t0 = time.Now()
	}
	c.intr.next = checkStep
	if c.queryOnly {
		defer c.stepping(sql)()
	}
	err := wrapErr(s.Exec(), sql)
	if c.trace != nil { // time.Since reads the clock: not for every row of an ExecMany
		c.traced(s, time.Since(t0))
	}
	return c.stmtErr(err)
}

// stmtErr completes a statement's error: a guarded callback's panic, the progress handler's
// abort, an authorizer's denial (the query-only guard's, or the caller's).
func (c *Conn) stmtErr(err error) error {
	err = c.takeCallbackErr(err)
	if c.intr.aborted && errors.Is(err, messages.ErrInterrupted) {
		err = fmt.Errorf("%w: %w", errAborted, err)
	}
	if qe := c.queryOnlyErr; qe != nil {
		c.queryOnlyErr = nil
		if err != nil {
			return fmt.Errorf("%w (%w)", qe, err)
		}
	}
	if err == nil {
		return nil // before errors.As, whose target would be allocated on every statement
	}
	var me *messages.Error
	if errors.As(err, &me) && me.Code == 23 { // SQLITE_AUTH
		err = fmt.Errorf("%w: %w", messages.ErrNotAuthorized, err)
	}
	return err
}

// execOwnTx runs one of the statements ExecMany and Dump open and end their own transactions
// with. It is prepared afresh, never taken from or given to the statement cache: a
// query-only connection's guard lets it through here, and must still refuse the same text
// from a caller, which a cached statement (authorized once, when prepared) would skip.
func (c *Conn) execOwnTx(sql string) error {
	c.ownTx = true
	s, err := c.prepareUncached(sql)
	c.ownTx = false
	if err != nil {
		return c.stmtErr(err)
	}
	defer s.Close()
	return c.run(s, sql)
}

// ExecMany runs sql once per argument list, in one transaction unless one is open. On an
// error nothing is kept when ExecMany began the transaction itself.
func (c *Conn) ExecMany(sql string, args [][]any) (messages.Result, error) {
	s, e, err := c.prepare(sql)
	if err != nil || s == nil {
		return messages.Result{}, c.stmtErr(err)
	}
	clear := false
	defer func() { c.release(s, e, clear) }()
	np := params(s, e)
	own := c.db.GetAutocommit()
	if own {
		if err := c.execOwnTx("BEGIN"); err != nil {
			return messages.Result{}, err
		}
	}
	var res messages.Result
	for i, a := range args {
		holds, err := bindAll(s, np, a, &c.scratch)
		clear = clear || holds
		if err != nil {
			err = fmt.Errorf("args[%d]: %w", i, err)
			return messages.Result{}, c.abort(own, err)
		}
		if err := c.run(s, sql); err != nil {
			err = fmt.Errorf("args[%d]: %w", i, err)
			return messages.Result{}, c.abort(own, err)
		}
		res.RowsAffected += c.db.Changes()
	}
	res.LastInsertID = c.db.LastInsertRowID()
	if own {
		if err := c.execOwnTx("COMMIT"); err != nil {
			return messages.Result{}, c.abort(own, err)
		}
	}
	return res, nil
}

// abort rolls back the transaction ExecMany began (own) and returns err.
func (c *Conn) abort(own bool, err error) error {
	if own && !c.db.GetAutocommit() {
		old := c.db.SetInterrupt(context.Background()) // roll back even when interrupted
		rerr := c.execOwnTx("ROLLBACK")
		c.db.SetInterrupt(old)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// ExecScript runs a script of statements separated by semicolons, one prepared statement
// at a time (each traced, each interruptible), and stops at the first error.
func (c *Conn) ExecScript(script string) error {
	for rest := script; !trivia(rest); {
		s, tail, err := c.prepareFirst(rest)
		if err != nil {
			return c.stmtErr(wrapErr(err, rest))
		}
		if s == nil { // only comments or spaces left, unless a NUL byte hid the rest
			return nulError(rest)
		}
		err = c.run(s, s.SQL())
		s.Close()
		if err != nil {
			return err
		}
		rest = tail
	}
	return nil
}

// Begin opens a transaction in mode ([messages.Deferred], Immediate or Exclusive; "" is Deferred).
func (c *Conn) Begin(mode string) error {
	if !c.db.GetAutocommit() {
		return messages.ErrInTransaction
	}
	sql := "BEGIN"
	switch strings.ToUpper(mode) {
	case "", messages.Deferred:
	case messages.Immediate:
		sql = "BEGIN IMMEDIATE"
	case messages.Exclusive:
		sql = "BEGIN EXCLUSIVE"
	default:
		return &messages.ArgError{Reason: fmt.Sprintf("unknown transaction mode %q", mode)}
	}
	_, err := c.Exec(sql, nil)
	return err
}

// Commit commits the open transaction; [messages.ErrNoTransaction] if none is open.
func (c *Conn) Commit() error {
	if c.db.GetAutocommit() {
		return messages.ErrNoTransaction
	}
	_, err := c.Exec("COMMIT", nil)
	return err
}

// Rollback rolls back the open transaction; [messages.ErrNoTransaction] if none is open.
// It runs even when the connection's interrupt context is done.
func (c *Conn) Rollback() error {
	if c.db.GetAutocommit() {
		return messages.ErrNoTransaction
	}
	old := c.db.SetInterrupt(context.Background())
	defer c.db.SetInterrupt(old)
	_, err := c.Exec("ROLLBACK", nil)
	return err
}

// InTransaction reports whether a transaction is open.
func (c *Conn) InTransaction() bool { return !c.db.GetAutocommit() }

// LastInsertID returns the rowid of the most recent successful INSERT.
func (c *Conn) LastInsertID() int64 { return c.db.LastInsertRowID() }

// Changes returns the rows changed by the most recent statement.
func (c *Conn) Changes() int64 { return c.db.Changes() }

// TotalChanges returns the rows changed since the connection opened.
func (c *Conn) TotalChanges() int64 { return c.db.TotalChanges() }

// wrapErr turns a driver error into a [*messages.Error] (nil stays nil; other errors pass).
func wrapErr(err error, sql string) error {
	if err == nil {
		return nil
	}
	var me *messages.Error
	if errors.As(err, &me) {
		return err
	}
	var code, xcode int
	var se *sqlite3.Error
	var ec sqlite3.ErrorCode
	var xc sqlite3.ExtendedErrorCode
	switch {
	case errors.As(err, &se):
		code, xcode = int(se.Code()), int(se.ExtendedCode())
		if sql == "" {
			sql = se.SQL()
		}
	case errors.As(err, &xc):
		code, xcode = int(xc.Code()), int(xc)
	case errors.As(err, &ec):
		code, xcode = int(ec), int(ec)
	default:
		return err
	}
	return &messages.Error{Code: code, ExtendedCode: xcode, Message: strings.TrimPrefix(err.Error(), "sqlite3: "), SQL: sql, Err: err}
}
