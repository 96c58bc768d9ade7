package sqlitewasm

import (
	"fmt"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// Stmt is a prepared statement its owner keeps for repeated use, bound with typed values and
// no boxing (the events writer inserts every event through one). Like its Conn, a Stmt is not
// safe for concurrent use. Closing the Conn closes it.
// https://sqlite.org/c3ref/stmt.html
type Stmt struct {
	c   *Conn
	s   *sqlite3.Stmt
	sql string
}

// Prepare compiles sql, which must hold exactly one statement, into a Stmt the caller owns
// (it is not taken back by the statement cache). Close it when done.
func (c *Conn) Prepare(sql string) (*Stmt, error) {
	s, err := c.prepareUncached(sql)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, &messages.ArgError{Reason: fmt.Sprintf("no statement in %q", sql)}
	}
	return &Stmt{c: c, s: s, sql: sql}, nil
}

// BindText binds v as text to the 1-based parameter i.
func (s *Stmt) BindText(i int, v string) error { return wrapErr(s.s.BindText(i, v), s.sql) }

// BindTextBytes binds v as text to the 1-based parameter i, without copying it on the Go
// side; a nil v binds NULL.
func (s *Stmt) BindTextBytes(i int, v []byte) error { return wrapErr(s.s.BindRawText(i, v), s.sql) }

// BindNull binds NULL to the 1-based parameter i.
func (s *Stmt) BindNull(i int) error { return wrapErr(s.s.BindNull(i), s.sql) }

// Exec runs the statement to completion and resets it, keeping its bindings for the next
// run. It honours the Conn's interrupt context ([Conn.SetInterrupt]).
func (s *Stmt) Exec() error {
	s.c.intr.next = checkStep
	return wrapErr(s.s.Exec(), s.sql)
}

// Close releases the statement. It is safe to call more than once, and after the Conn closed.
func (s *Stmt) Close() error {
	if s == nil || s.s == nil {
		return nil
	}
	err := s.s.Close()
	s.s = nil
	return wrapErr(err, s.sql)
}
