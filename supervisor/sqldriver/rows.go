package sqldriver

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

// rows reads a query's cursor, a chunk of rows per message.
type rows struct {
	ctx  context.Context // the query's: database/sql closes the rows when it ends
	cur  *actors.Cursor
	cols []messages.Column
	buf  []messages.Row
	done bool
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
)

func newRows(ctx context.Context, cur *actors.Cursor) *rows {
	return &rows{ctx: ctx, cur: cur, cols: cur.Columns()}
}

func (r *rows) Columns() []string {
	names := make([]string, len(r.cols))
	for i, c := range r.cols {
		names[i] = c.Name
	}
	return names
}

// Close closes the cursor: a cursor read to its end is closed already.
func (r *rows) Close() error {
	r.done, r.buf = true, nil
	return r.cur.Close(context.Background())
}

// Next fills dest with the next row. A JSON column's json.RawMessage is handed over as []byte
// (a driver.Value); DATETIME and BOOLEAN values are already time.Time and bool.
func (r *rows) Next(dest []driver.Value) error {
	if len(r.buf) == 0 {
		if r.done {
			return io.EOF
		}
		buf, err := r.cur.FetchMany(r.ctx, 0)
		if err != nil {
			return err
		}
		if len(buf) == 0 {
			r.done = true
			return io.EOF
		}
		r.buf = buf
	}
	row := r.buf[0]
	r.buf = r.buf[1:]
	for i := range dest {
		v := row.Index(i)
		if j, ok := v.(json.RawMessage); ok {
			v = []byte(j)
		}
		dest[i] = v
	}
	return nil
}

// ColumnTypeDatabaseTypeName returns the column's declared type, upper-cased ("" for an
// expression).
func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	return strings.ToUpper(r.cols[i].DeclType)
}

// ColumnTypeScanType returns the Go type a column's values scan as, from its declared type:
// time.Time for DATETIME and TIMESTAMP, bool for BOOLEAN, []byte for JSON and BLOB, then
// SQLite's affinity rules (INT → int64; CHAR, CLOB, TEXT → string; REAL, FLOA, DOUB →
// float64); any other (an expression, NUMERIC) may hold any value: interface{}.
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	return scanType(r.cols[i].DeclType)
}

var (
	typeAny     = reflect.TypeFor[any]()
	typeInt64   = reflect.TypeFor[int64]()
	typeFloat64 = reflect.TypeFor[float64]()
	typeString  = reflect.TypeFor[string]()
	typeBytes   = reflect.TypeFor[[]byte]()
	typeBool    = reflect.TypeFor[bool]()
	typeTime    = reflect.TypeFor[time.Time]()
)

func scanType(decl string) reflect.Type {
	d := strings.ToUpper(strings.TrimSpace(decl))
	key := d
	if i := strings.IndexAny(key, " (\t\n"); i >= 0 {
		key = key[:i]
	}
	switch key {
	case "":
		return typeAny
	case "DATETIME", "TIMESTAMP":
		return typeTime
	case "BOOLEAN":
		return typeBool
	case "JSON":
		return typeBytes
	}
	// https://sqlite.org/datatype3.html#determination_of_column_affinity
	switch {
	case strings.Contains(d, "INT"):
		return typeInt64
	case strings.Contains(d, "CHAR"), strings.Contains(d, "CLOB"), strings.Contains(d, "TEXT"):
		return typeString
	case strings.Contains(d, "BLOB"):
		return typeBytes
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return typeFloat64
	}
	return typeAny
}
