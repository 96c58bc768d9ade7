package messages

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Row is one result row: a read-only view on the chunk of rows it arrived in. Values are kept
// in typed slots (text and blobs in one byte buffer per chunk), so a row costs no allocation
// per value until a method boxes one. A Row is immutable and safe for concurrent use; the zero
// Row has no columns.
//
// Read values are int64, float64, string, []byte or nil, unless a converter for the column's
// declared type produced another type (built in: DATETIME and TIMESTAMP give [time.Time],
// BOOLEAN gives bool, JSON gives [json.RawMessage]).
type Row struct {
	set *rowSet
	off int // index of the row's first slot
}

// rowSet is what rows read: the values of a chunk of rows. It lives inside a chunk (rows built
// in place) or a frozenRow (one row copied to fit): see rowstore.go.
type rowSet struct {
	cols  []Column
	slots []slot
	buf   []byte // text and blob bytes
	boxed []any  // converted values

	// shared: the rowSet holds one row, in at most 1 KiB, so a string read from it shares
	// its memory instead of copying it: it keeps no more alive than the row itself, and buf
	// never changes once built. A point select (QueryRow + Scan) then allocates only its row.
	shared bool
}

type kind uint8

const (
	kindNull kind = iota
	kindInt
	kindFloat
	kindText
	kindBlob
	kindBoxed
	kindTime // a UTC time: Unix seconds in v, nanoseconds in n
)

// slot is one value: an integer, the bits of a float, an offset into buf with length n, an
// index into boxed, or a UTC time.
type slot struct {
	v    uint64
	n    uint32
	kind kind
}

// Len returns the number of columns.
func (r Row) Len() int {
	if r.set == nil {
		return 0
	}
	return len(r.set.cols)
}

// Columns returns the row's columns. The slice is shared: do not modify it.
func (r Row) Columns() []Column {
	if r.set == nil {
		return nil
	}
	return r.set.cols
}

// Index returns the value of column i (0-based), boxed; nil when i is out of range.
func (r Row) Index(i int) any {
	if i < 0 || i >= r.Len() {
		return nil
	}
	return r.set.value(r.off + i)
}

// Get returns the value of the column named name (compared exactly first, then without regard
// to case), and whether the row has such a column.
func (r Row) Get(name string) (any, bool) {
	i := r.colIndex(name)
	if i < 0 {
		return nil, false
	}
	return r.Index(i), true
}

// Values returns the row's values in column order, in a new slice.
func (r Row) Values() []any {
	vals := make([]any, r.Len())
	for i := range vals {
		vals[i] = r.set.value(r.off + i)
	}
	return vals
}

// Map returns the row as a map from column name to value. Of two columns with one name,
// the last wins.
func (r Row) Map() map[string]any {
	m := make(map[string]any, r.Len())
	for i, c := range r.Columns() {
		m[c.Name] = r.set.value(r.off + i)
	}
	return m
}

// String formats the row as its values in parentheses.
func (r Row) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range r.Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		switch v := r.Index(i).(type) {
		case string:
			b.WriteString(strconv.Quote(v))
		case []byte:
			fmt.Fprintf(&b, "x'%x'", v)
		case json.RawMessage:
			b.Write(v)
		case time.Time:
			b.WriteString(v.Format(time.RFC3339Nano))
		default:
			fmt.Fprint(&b, v)
		}
	}
	b.WriteByte(')')
	return b.String()
}

func (r Row) colIndex(name string) int {
	cols := r.Columns()
	for i := range cols {
		if cols[i].Name == name {
			return i
		}
	}
	for i := range cols {
		if strings.EqualFold(cols[i].Name, name) {
			return i
		}
	}
	return -1
}

func (s *rowSet) value(i int) any {
	sl := &s.slots[i]
	switch sl.kind {
	case kindInt:
		return int64(sl.v)
	case kindFloat:
		return math.Float64frombits(sl.v)
	case kindText:
		return s.text(sl)
	case kindBlob: // never nil, so that an empty blob differs from NULL
		return clone(s.bytes(sl))
	case kindBoxed:
		return s.boxed[sl.n]
	case kindTime:
		return timeOf(sl)
	default:
		return nil
	}
}

func (s *rowSet) bytes(sl *slot) []byte { return s.buf[sl.v : sl.v+uint64(sl.n)] }

// clone returns a copy of p, never nil (an empty value differs from NULL). make and copy, which
// the compiler turns into one allocation without clearing it first, rather than append's
// growth of an empty slice.
func clone(p []byte) []byte {
	c := make([]byte, len(p))
	copy(c, p)
	return c
}

// text returns the bytes of sl as a string: shared with the row when the rowSet allows it
// (see rowSet.shared), else a copy.
func (s *rowSet) text(sl *slot) string {
	if s.shared && sl.n > 0 {
		return unsafe.String(&s.buf[sl.v], int(sl.n))
	}
	return string(s.bytes(sl))
}

func timeOf(sl *slot) time.Time { return time.Unix(int64(sl.v), int64(sl.n)).UTC() }

// Scan copies the row's values into dest, one destination per column, in column order.
// Destinations: *int, *int64, *float64, *string, *[]byte, *bool, *time.Time, *json.RawMessage,
// *any, and any [sql.Scanner] (sql.NullString and friends). Numbers convert between integer and
// float when no precision is lost, and parse from text; NULL scans only into *any, *[]byte,
// *json.RawMessage (as nil) and Scanners; an empty text or blob scans into those two as an
// empty, non-nil slice. A mismatch, or a nil destination, is a [*ScanError].
//
// A []byte (or json.RawMessage) is always a new copy, the caller's to modify. A string is a
// copy too, except from a chunk of a single row that is small: a row read alone (QueryRow, a
// fetch of one row) that takes at most 912 bytes, 16 a value plus its text and blob bytes, or
// the one row of a chunk meant for more whose text and blob bytes total at most 176. There it
// shares the row's memory, which it then keeps alive (at most 1 KiB), and costs no allocation.
func (r Row) Scan(dest ...any) error {
	if len(dest) != r.Len() {
		return &ScanError{Column: -1, Reason: fmt.Sprintf("%d destinations for %d columns", len(dest), r.Len())}
	}
	for i, d := range dest {
		if err := r.scanOne(i, d); err != nil {
			return err
		}
	}
	return nil
}

func (r Row) scanOne(i int, dest any) error {
	s := r.set
	sl := &s.slots[r.off+i]
	// The common pairs of value and destination first, without the general path's
	// reflection (its nil check) and closure.
	switch d := dest.(type) {
	case *int64:
		if d != nil && sl.kind == kindInt {
			*d = int64(sl.v)
			return nil
		}
	case *string:
		if d != nil && sl.kind == kindText {
			*d = s.text(sl)
			return nil
		}
	case *[]byte:
		if d != nil && sl.kind == kindBlob { // a new slice, never nil: an empty value differs from NULL
			*d = clone(s.bytes(sl))
			return nil
		}
	case *float64:
		if d != nil && sl.kind == kindFloat {
			*d = math.Float64frombits(sl.v)
			return nil
		}
	case *time.Time:
		if d != nil && sl.kind == kindTime {
			*d = timeOf(sl)
			return nil
		}
	}
	return r.scanSlow(i, sl, dest)
}

// scanSlow is scanOne for every other pair, and for errors.
func (r Row) scanSlow(i int, sl *slot, dest any) error {
	s := r.set
	fail := func(format string, args ...any) error {
		return &ScanError{Column: i, Name: s.cols[i].Name, Dest: fmt.Sprintf("%T", dest), Reason: fmt.Sprintf(format, args...)}
	}
	if v := reflect.ValueOf(dest); v.Kind() == reflect.Pointer && v.IsNil() {
		return fail("nil pointer")
	}
	k := sl.kind
	var boxed any
	switch k {
	case kindBoxed:
		boxed = s.boxed[sl.n]
	case kindTime: // as a converted time.Time, without boxing it for the common destinations
		switch d := dest.(type) {
		case *time.Time:
			*d = timeOf(sl)
			return nil
		case *string:
			*d = timeOf(sl).Format(TimeLayout)
			return nil
		}
		k, boxed = kindBoxed, timeOf(sl)
	}
	switch d := dest.(type) {
	case *any:
		*d = s.value(r.off + i)
		return nil
	case *string:
		switch k {
		case kindText, kindBlob:
			*d = s.text(sl)
		case kindInt:
			*d = strconv.FormatInt(int64(sl.v), 10)
		case kindFloat:
			*d = strconv.FormatFloat(math.Float64frombits(sl.v), 'g', -1, 64)
		case kindBoxed:
			switch b := boxed.(type) {
			case string:
				*d = b
			case json.RawMessage:
				*d = string(b)
			case time.Time:
				*d = b.UTC().Format(TimeLayout)
			default:
				*d = fmt.Sprint(b)
			}
		default:
			return fail("NULL")
		}
		return nil
	case *[]byte:
		switch k {
		case kindText, kindBlob: // a new slice, never nil: an empty value differs from NULL
			*d = clone(s.bytes(sl))
		case kindNull:
			*d = nil
		case kindBoxed:
			switch b := boxed.(type) {
			case []byte:
				*d = bytes.Clone(b)
			case json.RawMessage:
				*d = bytes.Clone(b)
			case string:
				*d = []byte(b)
			default:
				return fail("value of type %T", boxed)
			}
		default:
			return fail("value of type %T", s.value(r.off+i))
		}
		return nil
	case *json.RawMessage:
		switch k {
		case kindText, kindBlob:
			*d = append(json.RawMessage{}, s.bytes(sl)...)
		case kindNull:
			*d = nil
		case kindBoxed:
			switch b := boxed.(type) {
			case json.RawMessage:
				*d = bytes.Clone(b)
			case []byte:
				*d = bytes.Clone(b)
			case string:
				*d = json.RawMessage(b)
			default:
				return fail("value of type %T", boxed)
			}
		default:
			v := s.value(r.off + i)
			raw, err := json.Marshal(v)
			if err != nil {
				return fail("%v", err)
			}
			*d = raw
		}
		return nil
	case *int64:
		n, err := r.int64At(k, sl, boxed)
		if err != nil {
			return fail("%v", err)
		}
		*d = n
		return nil
	case *int:
		n, err := r.int64At(k, sl, boxed)
		if err != nil {
			return fail("%v", err)
		}
		if int64(int(n)) != n {
			return fail("%d overflows int", n)
		}
		*d = int(n)
		return nil
	case *float64:
		switch k {
		case kindInt:
			*d = float64(int64(sl.v))
		case kindFloat:
			*d = math.Float64frombits(sl.v)
		case kindText:
			f, err := strconv.ParseFloat(strings.TrimSpace(string(s.bytes(sl))), 64)
			if err != nil {
				return fail("text %q is not a number", s.bytes(sl))
			}
			*d = f
		case kindBoxed:
			switch b := boxed.(type) {
			case float64:
				*d = b
			case int64:
				*d = float64(b)
			default:
				return fail("value of type %T", boxed)
			}
		default:
			return fail("%s", kindName(k))
		}
		return nil
	case *bool:
		switch k {
		case kindInt:
			*d = sl.v != 0
		case kindFloat:
			*d = math.Float64frombits(sl.v) != 0
		case kindText:
			b, err := strconv.ParseBool(strings.TrimSpace(string(s.bytes(sl))))
			if err != nil {
				return fail("text %q is not a boolean", s.bytes(sl))
			}
			*d = b
		case kindBoxed:
			b, ok := boxed.(bool)
			if !ok {
				return fail("value of type %T", boxed)
			}
			*d = b
		default:
			return fail("%s", kindName(k))
		}
		return nil
	case *time.Time:
		switch k {
		case kindBoxed:
			t, ok := boxed.(time.Time)
			if !ok {
				return fail("value of type %T", boxed)
			}
			*d = t
		case kindText:
			t, err := ParseTime(string(s.bytes(sl)))
			if err != nil {
				return fail("%v", err)
			}
			*d = t
		case kindInt:
			*d = time.Unix(int64(sl.v), 0).UTC()
		default:
			return fail("%s", kindName(k))
		}
		return nil
	case sql.Scanner:
		v := s.value(r.off + i)
		if raw, ok := v.(json.RawMessage); ok {
			v = []byte(raw)
		}
		if err := d.Scan(v); err != nil {
			return fail("%v", err)
		}
		return nil
	case nil:
		return fail("nil destination")
	default:
		return fail("unsupported destination type")
	}
}

func (r Row) int64At(k kind, sl *slot, boxed any) (int64, error) {
	switch k {
	case kindInt:
		return int64(sl.v), nil
	case kindFloat:
		f := math.Float64frombits(sl.v)
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, fmt.Errorf("float %v is not an integer", f)
		}
		return int64(f), nil
	case kindText:
		text := strings.TrimSpace(string(r.set.bytes(sl)))
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("text %q is not an integer", text)
		}
		return n, nil
	case kindBoxed:
		switch b := boxed.(type) {
		case int64:
			return b, nil
		case bool:
			if b {
				return 1, nil
			}
			return 0, nil
		}
		return 0, fmt.Errorf("value of type %T", boxed)
	default:
		return 0, fmt.Errorf("%s", kindName(k))
	}
}

func kindName(k kind) string {
	switch k {
	case kindNull:
		return "NULL"
	case kindInt:
		return "integer"
	case kindFloat:
		return "float"
	case kindText:
		return "text"
	case kindBlob:
		return "blob"
	default:
		return "converted value"
	}
}

// RowsBuilder builds a chunk of rows. It is used by the code that reads rows from SQLite
// (package sqlitewasm); a reader of rows never needs it. Append each row's values in column
// order with the typed methods, then call Rows. The zero RowsBuilder is not usable: call
// [NewRowsBuilder]. Not safe for concurrent use.
type RowsBuilder struct {
	set   *rowSet // &c.rowSet
	c     *chunk
	nrows int
	// scratch: c is a reused chunk (see scratchChunks), which Rows and Reply copy a single
	// row out of, into memory of its own size, and then give back.
	scratch bool
}

// NewRowsBuilder starts a chunk of rows with the given columns, with room for about n rows
// (n is only a hint: n <= 0 reserves none). cols is shared by the rows built, not copied.
//
// A chunk meant for one row (n == 1: QueryRow, a fetch of one row) is built in reused memory,
// and Rows copies the row out into an allocation sized to it: a point select allocates its
// row's bytes, not room for a larger one.
func NewRowsBuilder(cols []Column, n int) RowsBuilder {
	if n == 1 {
		c := scratchChunks.Get().(*chunk)
		c.reset(cols, len(cols))
		return RowsBuilder{set: &c.rowSet, c: c, scratch: true}
	}
	c := new(chunk)
	c.reset(cols, max(n, 0)*len(cols))
	return RowsBuilder{set: &c.rowSet, c: c}
}

// Int appends an integer value.
func (b *RowsBuilder) Int(v int64) {
	b.set.slots = append(b.set.slots, slot{kind: kindInt, v: uint64(v)})
}

// Float appends a float value.
func (b *RowsBuilder) Float(v float64) {
	b.set.slots = append(b.set.slots, slot{kind: kindFloat, v: math.Float64bits(v)})
}

// Text appends a text value, copying p.
func (b *RowsBuilder) Text(p []byte) { b.bytes(kindText, p) }

// Blob appends a blob value, copying p.
func (b *RowsBuilder) Blob(p []byte) { b.bytes(kindBlob, p) }

func (b *RowsBuilder) bytes(k kind, p []byte) {
	s := b.set
	s.slots = append(s.slots, slot{kind: k, v: uint64(len(s.buf)), n: uint32(len(p))})
	s.buf = append(s.buf, p...)
}

// Time appends a time.Time: kept unboxed when it is in UTC, else as Value does.
func (b *RowsBuilder) Time(t time.Time) {
	if t.Location() != time.UTC {
		b.Value(t)
		return
	}
	b.set.slots = append(b.set.slots, slot{kind: kindTime, v: uint64(t.Unix()), n: uint32(t.Nanosecond())})
}

// TimeText appends SQLite's text form of a UTC time ("YYYY-MM-DD HH:MM:SS[.f]", with a T or a
// Z or neither) as a time, and reports whether b had that form; it appends nothing otherwise.
// It is the DATETIME converter's fast path: no time.Time is built.
func (b *RowsBuilder) TimeText(text []byte) bool {
	sec, nsec, ok := parseUTCUnix(text)
	if ok {
		b.set.slots = append(b.set.slots, slot{kind: kindTime, v: uint64(sec), n: uint32(nsec)})
	}
	return ok
}

// Null appends NULL.
func (b *RowsBuilder) Null() {
	b.set.slots = append(b.set.slots, slot{kind: kindNull})
}

// Value appends any value (a converter's result). nil appends NULL.
func (b *RowsBuilder) Value(v any) {
	if v == nil {
		b.Null()
		return
	}
	s := b.set
	s.slots = append(s.slots, slot{kind: kindBoxed, n: uint32(len(s.boxed))})
	s.boxed = append(s.boxed, v)
}

// Grow makes room for n more bytes of text or blob.
func (b *RowsBuilder) Grow(n int) {
	if s := b.set; cap(s.buf)-len(s.buf) < n {
		s.buf = append(s.buf[:len(s.buf):len(s.buf)], make([]byte, n)...)[:len(s.buf)]
	}
}

// Len returns the number of complete rows appended so far.
func (b *RowsBuilder) Len() int {
	if n := len(b.set.cols); n > 0 {
		return len(b.set.slots) / n
	}
	return b.nrows
}

// EndRow marks the end of a row. It is needed only for rows of zero columns.
func (b *RowsBuilder) EndRow() {
	if len(b.set.cols) == 0 {
		b.nrows++
	}
}

// BufLen returns the bytes of text and blob appended so far.
func (b *RowsBuilder) BufLen() int { return len(b.set.buf) }

// Reply returns a reply message carrying the rows built, allocated together with them: the
// caller fills in its other fields. The builder must not be used afterwards.
func (b *RowsBuilder) Reply() *Rows {
	if f := b.freeze(); f != nil {
		rr := new(rowReply)
		rr.r.Rows = rr.one[:0]
		if row, ok := f.row(); ok {
			rr.one[0], rr.r.Rows = row, rr.one[:1]
		}
		return &rr.r
	}
	c := b.c
	c.reply = Rows{Rows: b.Rows()}
	return &c.reply
}

// Row returns the first row built, and whether there is one: the row of a chunk meant for one
// (see [NewRowsBuilder]), without a slice or reply to carry it. The builder must not be used
// afterwards.
func (b *RowsBuilder) Row() (Row, bool) {
	if f := b.freeze(); f != nil {
		return f.row()
	}
	if rows := b.Rows(); len(rows) > 0 {
		return rows[0], true
	}
	return Row{}, false
}

// Rows returns the rows built. The builder must not be used afterwards.
func (b *RowsBuilder) Rows() []Row {
	if f := b.freeze(); f != nil {
		if row, ok := f.row(); ok {
			return []Row{row}
		}
		return nil
	}
	n := b.Len()
	if n == 0 {
		return nil
	}
	var rows []Row
	c := b.c
	if n == 1 {
		rows = c.inlineRows[:]
		c.shared = len(c.buf) == 0 || unsafe.SliceData(c.buf) == &c.inlineBuf[0]
	} else {
		rows = make([]Row, n)
	}
	w := len(c.cols)
	for i := range rows {
		rows[i] = Row{set: &c.rowSet, off: i * w}
	}
	return rows
}

// freeze ends a scratch builder: its one row (or none) is copied into a frozenRow of its
// size, and the scratch chunk is given back. It returns nil, and leaves the builder as it is,
// when b is not a scratch builder or its rows do not fit a frozenRow: the chunk is then the
// rows' own (a scratch one is not given back).
func (b *RowsBuilder) freeze() *frozenRow {
	if !b.scratch {
		return nil
	}
	b.scratch = false
	n := b.Len()
	f := b.c.freeze(n)
	if f == nil {
		return nil
	}
	b.c.recycle()
	b.c, b.set = nil, nil // a use after Rows fails here, never in another builder's rows
	return f
}
