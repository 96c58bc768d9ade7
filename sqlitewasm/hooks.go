package sqlitewasm

import (
	"fmt"
	"strings"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// authActions names SQLite's authorizer action codes in SQLite's words.
var authActions = [...]string{
	"COPY", "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE",
	"CREATE_TEMP_TRIGGER", "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE",
	"DROP_INDEX", "DROP_TABLE", "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER",
	"DROP_TEMP_VIEW", "DROP_TRIGGER", "DROP_VIEW", "INSERT", "PRAGMA", "READ", "SELECT",
	"TRANSACTION", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE", "REINDEX", "ANALYZE",
	"CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT", "RECURSIVE",
}

func authAction(code sqlite3.AuthorizerActionCode) string {
	if int(code) < len(authActions) {
		return authActions[code]
	}
	return fmt.Sprintf("ACTION_%d", code)
}

// authRequest fills the Table and Column of a request where its action names them.
func authRequest(code sqlite3.AuthorizerActionCode, arg1, arg2, db, trigger string) messages.AuthRequest {
	r := messages.AuthRequest{Action: authAction(code), Arg1: arg1, Arg2: arg2, Database: db, Trigger: trigger}
	switch code {
	case sqlite3.AUTH_READ, sqlite3.AUTH_UPDATE:
		r.Table, r.Column = arg1, arg2
	case sqlite3.AUTH_CREATE_INDEX, sqlite3.AUTH_CREATE_TEMP_INDEX, sqlite3.AUTH_DROP_INDEX,
		sqlite3.AUTH_DROP_TEMP_INDEX, sqlite3.AUTH_CREATE_TRIGGER, sqlite3.AUTH_CREATE_TEMP_TRIGGER,
		sqlite3.AUTH_DROP_TRIGGER, sqlite3.AUTH_DROP_TEMP_TRIGGER, sqlite3.AUTH_ALTER_TABLE:
		r.Table = arg2
	case sqlite3.AUTH_CREATE_TABLE, sqlite3.AUTH_CREATE_TEMP_TABLE, sqlite3.AUTH_DROP_TABLE,
		sqlite3.AUTH_DROP_TEMP_TABLE, sqlite3.AUTH_INSERT, sqlite3.AUTH_DELETE, sqlite3.AUTH_ANALYZE,
		sqlite3.AUTH_CREATE_VTABLE, sqlite3.AUTH_DROP_VTABLE:
		r.Table = arg1
	}
	return r
}

// SetAuthorizer installs fn as the statement authorizer (nil removes it). A statement fn
// denies fails with an error wrapping [messages.ErrNotAuthorized]. fn is the caller's code: a
// panic in it denies the statement, which then fails with an error holding the panic. On a
// query-only connection (Config.QueryOnly) its guard is asked first, and stays installed.
// https://sqlite.org/c3ref/set_authorizer.html
func (c *Conn) SetAuthorizer(fn func(messages.AuthRequest) messages.AuthResult) error {
	c.userAuth = fn
	return c.installAuthorizer()
}

// SetTrace installs fn, called after every statement the connection runs (through Exec,
// ExecMany, ExecScript, Query, and transactions) with its SQL, parameters expanded, and the
// time it took. nil removes it. A panic in fn fails the statement's call with an error (the
// statement itself ran).
func (c *Conn) SetTrace(fn func(sql string, d time.Duration)) { c.trace = fn }

// traced reports a finished statement to the trace callback.
func (c *Conn) traced(s *sqlite3.Stmt, d time.Duration) {
	if c.trace == nil || s == nil {
		return
	}
	sql := strings.TrimSpace(s.ExpandedSQL()) // a script's statements start with the space after the previous one
	c.guard("trace", func() { c.trace(sql, d) })
}

// RowChange is one row changed by a committed transaction.
type RowChange = messages.RowChange

// SetUpdateHook collects the rows changed by each transaction and gives them to fn after it
// commits, one call per commit that changed rows, in commit order; fn owns the slice. The
// changes of a rolled-back transaction are dropped. nil removes it. fn runs on the
// connection's goroutine at the end of the request that committed: see [Conn.EndRequest].
func (c *Conn) SetUpdateHook(fn func([]RowChange)) {
	c.onChanges = fn
	c.pending, c.committed = changeLog{}, nil
	if fn == nil {
		c.db.UpdateHook(nil)
		c.db.CommitHook(nil)
		c.db.RollbackHook(nil)
		return
	}
	c.db.UpdateHook(c.pending.add)
	c.db.CommitHook(func() bool {
		if changes := c.pending.take(); changes != nil {
			c.committed = append(c.committed, changes)
		}
		return true
	})
	c.db.RollbackHook(c.pending.reset)
}

// flushChanges hands the changes of each commit since the last call to the update hook, one
// call per commit.
func (c *Conn) flushChanges() {
	if c.onChanges == nil || len(c.committed) == 0 {
		return
	}
	commits := c.committed
	c.committed = nil
	for _, changes := range commits {
		c.onChanges(changes)
	}
}

// recoverQuiet, deferred by a callback of the caller's (a function, an aggregate, a
// collation) while the connection closes statements (quiet), turns the callback's panic into
// an error recorded for the request, and the callback's result into an error (ctx, if not
// nil). A panic that unwinds through SQLite's translated code leaves its instance unusable;
// closing a statement (its reset calls an aggregate's Final for a window left half computed)
// must not, or closing the connection would fail, and leave its files and locks open.
func (c *Conn) recoverQuiet(what string, ctx *sqlite3.Context) {
	if p := recover(); p != nil {
		err := fmt.Errorf("actorlite: %s panicked while its statement was closed: %v", what, p)
		if c.cbErr == nil {
			c.cbErr = err
		}
		if ctx != nil {
			ctx.ResultError(err)
		}
	}
}

// guard runs a callback of the caller's, turning a panic into an error recorded for the
// statement that is running (see [Conn.takeCallbackErr]).
func (c *Conn) guard(what string, fn func()) {
	defer func() {
		if p := recover(); p != nil && c.cbErr == nil {
			c.cbErr = fmt.Errorf("actorlite: %s callback panicked: %v", what, p)
		}
	}()
	fn()
}

// takeCallbackErr returns (and clears) the panic of a guarded callback joined to err.
func (c *Conn) takeCallbackErr(err error) error {
	if c.cbErr == nil {
		return err
	}
	cb := c.cbErr
	c.cbErr = nil
	if err == nil {
		return cb
	}
	return fmt.Errorf("%w: %w", cb, err)
}
