package sqlitewasm

import (
	"fmt"
	"strings"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// A query-only connection (Config.QueryOnly) serves single read-only statements to many
// callers, as a pool's reader does, so nothing a caller sends may change it for the next
// one. PRAGMA query_only=ON alone does not do that: SQLite applies a pragma while it prepares
// it (PRAGMA query_only=0 would turn it off before anything could refuse it), ATTACH and
// DETACH change the connection without writing, and BEGIN or SAVEPOINT would leave it inside
// a transaction, holding a snapshot, for whoever comes next. So a query-only connection also
// installs an authorizer, consulted while each statement is prepared and before any
// authorizer of the caller's, that refuses those statements with an error wrapping
// [messages.ErrNotReadOnly] (a pool then sends the statement to its writer instead).

// readOnlyPragmas are the pragmas a query-only connection runs in any form: those that only
// read, even given an argument (which names a table, an index or a limit, never a setting).
// Any other pragma runs only in its bare reading form, a statement that is just "PRAGMA
// [schema.]name", recognised from the statement's text: SQLite hands the authorizer an
// empty argument both for PRAGMA x and for PRAGMA x=”, which sets x, so the authorizer
// alone cannot tell them apart. Inside another statement (SELECT … FROM pragma_x(…)) it is
// refused.
var readOnlyPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_info": true,
	"index_xinfo": true, "index_list": true, "foreign_key_list": true, "foreign_key_check": true,
	"integrity_check": true, "quick_check": true, "database_list": true, "collation_list": true,
	"function_list": true, "module_list": true, "pragma_list": true, "compile_options": true,
	"data_version": true, "freelist_count": true, "page_count": true,
}

// queryOnlyDenial returns why a query-only connection refuses an action, or "".
func (c *Conn) queryOnlyDenial(code sqlite3.AuthorizerActionCode, arg1, arg2 string) string {
	switch code {
	case sqlite3.AUTH_PRAGMA:
		if !readOnlyPragmas[strings.ToLower(arg1)] && (arg2 != "" || !strings.EqualFold(arg1, c.readPragma)) {
			return "PRAGMA " + arg1 + " may change the connection"
		}
		c.readPragma = "" // one bare pragma per statement
	case sqlite3.AUTH_ATTACH, sqlite3.AUTH_DETACH:
		return authAction(code) + " changes the connection"
	case sqlite3.AUTH_TRANSACTION, sqlite3.AUTH_SAVEPOINT:
		if !c.ownTx { // ExecMany's and Dump's own, which end before the request does
			return authAction(code) + " would leave the connection inside a transaction"
		}
	}
	return ""
}

// installAuthorizer sets SQLite's authorizer to the query-only guard (if the connection is
// query-only), then the caller's authorizer (if any); with neither, none.
func (c *Conn) installAuthorizer() error {
	user, guard := c.userAuth, c.queryOnly
	if user == nil && !guard {
		return wrapErr(c.db.SetAuthorizer(nil), "")
	}
	return wrapErr(c.db.SetAuthorizer(func(code sqlite3.AuthorizerActionCode, a3, a4, db, inner string) sqlite3.AuthorizerReturnCode {
		if guard {
			if why := c.queryOnlyDenial(code, a3, a4); why != "" {
				if c.queryOnlyErr == nil {
					c.queryOnlyErr = fmt.Errorf("%w: a query-only connection refuses this: %s", messages.ErrNotReadOnly, why)
				}
				return sqlite3.AUTH_DENY
			}
		}
		if user == nil {
			return sqlite3.AUTH_OK
		}
		res := messages.AuthDeny
		c.guard("authorizer", func() { res = user(authRequest(code, a3, a4, db, inner)) })
		switch res {
		case messages.AuthOK:
			return sqlite3.AUTH_OK
		case messages.AuthIgnore:
			return sqlite3.AUTH_IGNORE
		default:
			return sqlite3.AUTH_DENY
		}
	}), "")
}

// setQueryOnly makes the connection query-only (see Config.QueryOnly).
func (c *Conn) setQueryOnly() error {
	if err := wrapErr(c.db.Exec("PRAGMA query_only=ON"), ""); err != nil {
		return err
	}
	c.queryOnly = true
	return c.installAuthorizer()
}
