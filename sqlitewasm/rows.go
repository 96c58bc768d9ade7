package sqlitewasm

import (
	"fmt"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// Rows is an open result set: a prepared statement stepped on demand. Close it (or read it to
// the end) to give the statement back. Not safe for concurrent use. A Rows outlives its Conn
// harmlessly: closing the Conn closes the statement, and Close afterwards does nothing.
type Rows struct {
	c       *Conn
	stmt    *sqlite3.Stmt
	entry   *cachedStmt // stmt's cache entry; nil when it is not cached
	sql     string
	cols    []messages.Column
	conv    []Converter // per column; nil when no column has one
	time    []bool      // per column: conv is the built-in time converter (read without boxing)
	done    bool
	clear   bool          // release clears the bindings (see bindAll)
	took    time.Duration // time spent stepping, measured while a trace is set
	stepped bool          // the statement ran (a statement closed before running is not traced)
}

// Query runs sql with args and returns its result set, positioned before the first row.
func (c *Conn) Query(sql string, args []any) (*Rows, error) {
	r := new(Rows)
	if err := c.QueryInto(r, sql, args); err != nil {
		return nil, err
	}
	return r, nil
}

// QueryInto is Query into a Rows the caller provides (overwriting it): a caller that reads a
// result to its end, or closes it, before the next query can reuse one Rows and allocate
// nothing per query. On an error r is left closed.
func (c *Conn) QueryInto(r *Rows, sql string, args []any) error {
	*r = Rows{c: c, sql: sql, done: true}
	s, e, err := c.prepare(sql)
	if err != nil {
		return c.stmtErr(err)
	}
	if s == nil { // empty SQL or only comments
		return nil
	}
	clear, err := bindAll(s, params(s, e), args, &c.scratch)
	if err != nil {
		c.release(s, e, true)
		return err
	}
	r.stmt, r.entry, r.done, r.clear = s, e, false, clear
	r.cols, r.conv, r.time = c.meta(s, e)
	return nil
}

// ReadOnly reports whether the statement makes no direct change to the database.
// https://sqlite.org/c3ref/stmt_readonly.html
func (r *Rows) ReadOnly() bool { return r.stmt == nil || r.stmt.ReadOnly() }

// Columns returns the result's columns (cursor.description).
func (r *Rows) Columns() []messages.Column { return r.cols }

// Done reports whether every row was read (the statement was given back).
func (r *Rows) Done() bool { return r.done }

// ChunkBytes bounds the text and blob bytes of a chunk of rows that Next reads for n > 0: it
// stops after the row that reaches ChunkBytes, with fewer than n rows, so that a chunk of rows
// holding large values (a cursor's fetch, a query's first reply) is bounded in bytes, not only
// in rows. A single row larger than ChunkBytes still comes whole. (n <= 0 asks for every row.)
const ChunkBytes = 4 << 20

// Next appends at most n rows (n <= 0: all remaining) to b, and at most about ChunkBytes bytes
// of values once n > 0, and reports whether the rows are exhausted, in which case the
// statement is given back. An error closes r.
func (r *Rows) Next(b *messages.RowsBuilder, n int) (done bool, err error) {
	if r.done {
		return true, nil
	}
	if r.c.db == nil { // the Conn closed, and its statements with it
		r.stmt, r.done = nil, true
		return true, messages.ErrClosed
	}
	s := r.stmt
	ncol := len(r.cols)
	start := b.BufLen()
	r.stepped = true
	if r.c.queryOnly {
		defer r.c.stepping(r.sql)()
	}
	if r.c.trace != nil {
		t0 := time.Now()
		defer func() { r.took += time.Since(t0) }()
	}
	for got := 0; n <= 0 || got < n; got++ {
		r.c.intr.next = checkStep
		if got%nextRowCtxEvery != 0 {
			r.c.intr.next = checkNextRow
		}
		if !s.Step() {
			err := wrapErr(s.Err(), r.sql)
			r.Close()
			return true, r.c.stmtErr(err)
		}
		for i := range ncol {
			if err := r.column(b, i); err != nil {
				r.Close()
				return true, err
			}
		}
		b.EndRow()
		if n > 0 && b.BufLen()-start >= ChunkBytes && got+1 < n {
			return false, nil // a chunk of large rows: the rest comes with the next one
		}
		if got == sampleRows-1 && (n <= 0 || n > sampleRows) {
			// A chunk that goes on past its first rows: size its byte buffer from them, rather
			// than let appends grow it by doubling and copying; beyond rowsReserved rows or
			// bytesReserved bytes, appends take over. (Small results never get here.)
			left := rowsReserved - sampleRows
			if n > 0 {
				left = min(n, rowsReserved) - sampleRows
			}
			b.Grow(min((b.BufLen()-start)/sampleRows*left, bytesReserved))
		}
	}
	return false, nil
}

func (r *Rows) column(b *messages.RowsBuilder, i int) error {
	s := r.stmt
	t := s.ColumnType(i)
	if r.time != nil && r.time[i] && t == sqlite3.TEXT {
		// The built-in DATETIME converter, without its boxing: a typed time slot.
		if b.TimeText(s.ColumnRawText(i)) {
			return nil
		} // else the converter: another form of time, or its own error
	}
	if r.conv != nil && r.conv[i] != nil && t != sqlite3.NULL {
		var raw any
		switch t {
		case sqlite3.INTEGER:
			raw = s.ColumnInt64(i)
		case sqlite3.FLOAT:
			raw = s.ColumnFloat(i)
		case sqlite3.TEXT:
			raw = s.ColumnText(i)
		default: // never nil, so that a converter tells an empty blob from NULL
			raw = s.ColumnBlob(i, []byte{})
		}
		v, err := convert(r.conv[i], raw)
		if err != nil {
			return fmt.Errorf("%w: column %d (%s %s): %w", messages.ErrConvert, i, r.cols[i].Name, r.cols[i].DeclType, err)
		}
		b.Value(v)
		return nil
	}
	switch t {
	case sqlite3.INTEGER:
		b.Int(s.ColumnInt64(i))
	case sqlite3.FLOAT:
		b.Float(s.ColumnFloat(i))
	case sqlite3.TEXT:
		b.Text(s.ColumnRawText(i))
	case sqlite3.BLOB:
		b.Blob(s.ColumnRawBlob(i))
	default:
		b.Null()
	}
	return nil
}

// convert calls a user converter, turning a panic into an error: a converter is the caller's
// code, and its failure fails the fetch, not the connection.
func convert(fn Converter, v any) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(v)
}

// Close gives the statement back. It is safe to call more than once, and after the Conn closed.
// A panic of the caller's code that resetting the statement runs (an aggregate's Final, for a
// window left half computed) is recorded for the request, not raised (see recoverQuiet).
func (r *Rows) Close() {
	if r.stmt != nil && r.c.db != nil {
		r.c.quiet++
		defer func() { r.c.quiet-- }()
		if r.stepped {
			r.c.traced(r.stmt, r.took)
		}
		r.c.release(r.stmt, r.entry, r.clear)
	}
	r.stmt, r.entry, r.done = nil, nil, true
}

// After sampleRows rows of a chunk, Next reserves room in its byte buffer for at most
// rowsReserved rows like them, and at most bytesReserved bytes (rows holding a large blob must
// not reserve a thousand times its size).
const (
	sampleRows    = 16
	rowsReserved  = 1024
	bytesReserved = 1 << 20
)

// QueryRow runs sql and returns its first row, or [messages.ErrNoRows].
func (c *Conn) QueryRow(sql string, args []any) (messages.Row, error) {
	var r Rows
	if err := c.QueryInto(&r, sql, args); err != nil {
		return messages.Row{}, err
	}
	b := messages.NewRowsBuilder(r.cols, 1)
	_, err := r.Next(&b, 1)
	r.Close()
	if err != nil {
		return messages.Row{}, err
	}
	row, ok := b.Row()
	if !ok {
		return messages.Row{}, messages.ErrNoRows
	}
	return row, nil
}

// newBuilder starts a chunk of rows for r.
func newBuilder(r *Rows) messages.RowsBuilder { return messages.NewRowsBuilder(r.cols, 16) }
