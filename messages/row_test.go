package messages_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
)

// tm is the time the fixtures use; its TimeLayout text is tmText.
var (
	tm     = time.Date(2024, 3, 5, 6, 7, 8, 123456789, time.UTC)
	tmText = "2024-03-05T06:07:08.123456789Z"
)

// fixtureCols and fixture build one row holding every kind of slot.
var fixtureCols = []messages.Column{
	{Name: "id", DeclType: "INTEGER"},
	{Name: "price", DeclType: "REAL"},
	{Name: "name", DeclType: "TEXT"},
	{Name: "data", DeclType: "BLOB"},
	{Name: "note", DeclType: "TEXT"},
	{Name: "created", DeclType: "DATETIME"},
	{Name: "flag", DeclType: "BOOLEAN"},
	{Name: "doc", DeclType: "JSON"},
}

func fillFixture(b *messages.RowsBuilder) {
	b.Int(42)
	b.Float(9.5)
	b.Text([]byte("Ada"))
	b.Blob([]byte{0xde, 0xad})
	b.Null()
	b.Value(tm)
	b.Value(true)
	b.Value(json.RawMessage(`{"a":1}`))
}

func fixture(t *testing.T) messages.Row {
	t.Helper()
	b := messages.NewRowsBuilder(fixtureCols, 1)
	fillFixture(&b)
	rows := b.Rows()
	if len(rows) != 1 {
		t.Fatalf("built %d rows, want 1", len(rows))
	}
	return rows[0]
}

// one builds a row of a single column named "c" whose value fill appends.
func one(t *testing.T, f fill) messages.Row {
	t.Helper()
	b := messages.NewRowsBuilder([]messages.Column{{Name: "c"}}, 1)
	f(&b)
	rows := b.Rows()
	if len(rows) != 1 {
		t.Fatalf("built %d rows, want 1", len(rows))
	}
	return rows[0]
}

// fill appends one value to a RowsBuilder; the v* functions make them for table entries.
type fill = func(*messages.RowsBuilder)

func vInt(v int64) fill     { return func(b *messages.RowsBuilder) { b.Int(v) } }
func vFloat(v float64) fill { return func(b *messages.RowsBuilder) { b.Float(v) } }
func vText(v string) fill   { return func(b *messages.RowsBuilder) { b.Text([]byte(v)) } }
func vBlob(v ...byte) fill  { return func(b *messages.RowsBuilder) { b.Blob(v) } }
func vNull() fill           { return func(b *messages.RowsBuilder) { b.Null() } }
func vBoxed(v any) fill     { return func(b *messages.RowsBuilder) { b.Value(v) } }

// Shorthands for expected values.
func newDest[T any]() func() any                   { return func() any { return new(T) } }
func deref(dest any) any                           { return reflect.ValueOf(dest).Elem().Interface() }
func quote(v any) string                           { return fmt.Sprintf("%#v", v) }
func timeOf(sec int64) time.Time                   { return time.Unix(sec, 0).UTC() }
func raw(s string) json.RawMessage                 { return json.RawMessage(s) }
func bytesOf(s string) []byte                      { return []byte(s) }
func nullTime(t time.Time, ok bool) sql.NullTime   { return sql.NullTime{Time: t, Valid: ok} }
func nullString(s string, ok bool) sql.NullString  { return sql.NullString{String: s, Valid: ok} }
func nullInt(n int64, ok bool) sql.NullInt64       { return sql.NullInt64{Int64: n, Valid: ok} }
func nullFloat(f float64, ok bool) sql.NullFloat64 { return sql.NullFloat64{Float64: f, Valid: ok} }
func nullBool(v bool, ok bool) sql.NullBool        { return sql.NullBool{Bool: v, Valid: ok} }

// equalValue compares times by instant and everything else deeply (so []byte{} differs from nil).
func equalValue(got, want any) bool {
	if wt, ok := want.(time.Time); ok {
		gt, ok := got.(time.Time)
		return ok && gt.Equal(wt)
	}
	if wt, ok := want.(sql.NullTime); ok {
		gt, ok := got.(sql.NullTime)
		return ok && gt.Valid == wt.Valid && gt.Time.Equal(wt.Time)
	}
	return reflect.DeepEqual(got, want)
}

func TestRowIndex(t *testing.T) {
	r := fixture(t)
	tests := []struct {
		i    int
		want any
	}{
		{-1, nil},
		{0, int64(42)},
		{1, 9.5},
		{2, "Ada"},
		{3, []byte{0xde, 0xad}},
		{4, nil},
		{5, tm},
		{6, true},
		{7, raw(`{"a":1}`)},
		{8, nil},
		{math.MaxInt, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.i), func(t *testing.T) {
			if got := r.Index(tt.i); !equalValue(got, tt.want) {
				t.Errorf("Index(%d) = %s, want %s", tt.i, quote(got), quote(tt.want))
			}
		})
	}
}

func TestRowGet(t *testing.T) {
	cols := []messages.Column{{Name: "Name"}, {Name: "name"}, {Name: "Total"}, {Name: ""}}
	b := messages.NewRowsBuilder(cols, 1)
	b.Text([]byte("upper"))
	b.Text([]byte("lower"))
	b.Int(3)
	b.Int(4)
	r := b.Rows()[0]
	tests := []struct {
		name   string
		want   any
		wantOK bool
	}{
		{"Name", "upper", true},   // exact
		{"name", "lower", true},   // exact beats an earlier case-insensitive match
		{"NAME", "upper", true},   // case-insensitive: the first match
		{"total", int64(3), true}, // case-insensitive only
		{"TOTAL", int64(3), true},
		{"", int64(4), true}, // an unnamed column is reachable by ""
		{"missing", nil, false},
		{"nam", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.Get(tt.name)
			if ok != tt.wantOK || !equalValue(got, tt.want) {
				t.Errorf("Get(%q) = %s, %v; want %s, %v", tt.name, quote(got), ok, quote(tt.want), tt.wantOK)
			}
		})
	}
}

func TestRowValuesMapLenColumns(t *testing.T) {
	r := fixture(t)
	if got := r.Len(); got != len(fixtureCols) {
		t.Errorf("Len() = %d, want %d", got, len(fixtureCols))
	}
	if got := r.Columns(); !reflect.DeepEqual(got, fixtureCols) {
		t.Errorf("Columns() = %v, want %v", got, fixtureCols)
	}
	wantValues := []any{int64(42), 9.5, "Ada", []byte{0xde, 0xad}, nil, tm, true, raw(`{"a":1}`)}
	vals := r.Values()
	if len(vals) != len(wantValues) {
		t.Fatalf("Values() has %d values, want %d", len(vals), len(wantValues))
	}
	for i := range vals {
		if !equalValue(vals[i], wantValues[i]) {
			t.Errorf("Values()[%d] = %s, want %s", i, quote(vals[i]), quote(wantValues[i]))
		}
	}
	m := r.Map()
	if len(m) != len(fixtureCols) {
		t.Errorf("Map() has %d entries, want %d", len(m), len(fixtureCols))
	}
	for i, c := range fixtureCols {
		if v, ok := m[c.Name]; !ok || !equalValue(v, wantValues[i]) {
			t.Errorf("Map()[%q] = %s, %v; want %s", c.Name, quote(v), ok, quote(wantValues[i]))
		}
	}
	// Values returns a new slice each time.
	vals[0] = "changed"
	if got := r.Values()[0]; got != int64(42) {
		t.Errorf("Values() shares its slice: %v", got)
	}
}

func TestRowMapDuplicateNames(t *testing.T) {
	b := messages.NewRowsBuilder([]messages.Column{{Name: "x"}, {Name: "x"}}, 1)
	b.Int(1)
	b.Int(2)
	r := b.Rows()[0]
	if got := r.Map(); len(got) != 1 || got["x"] != int64(2) {
		t.Errorf("Map() = %v, want map[x:2] (the last wins)", got)
	}
	if got, _ := r.Get("x"); got != int64(1) {
		t.Errorf("Get(x) = %v, want the first column", got)
	}
}

func TestRowString(t *testing.T) {
	tests := []struct {
		name string
		fill fill
		want string
	}{
		{"int", vInt(-7), "(-7)"},
		{"float", vFloat(2.5), "(2.5)"},
		{"text", vText(`a "b"`), `("a \"b\"")`},
		{"blob", vBlob(0x00, 0xff), "(x'00ff')"},
		{"null", vNull(), "(<nil>)"},
		{"time", vBoxed(tm), "(2024-03-05T06:07:08.123456789Z)"},
		{"bool", vBoxed(false), "(false)"},
		{"json", vBoxed(raw(`[1,2]`)), "([1,2])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := one(t, tt.fill).String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := fixture(t).String(), `(42, 9.5, "Ada", x'dead', <nil>, 2024-03-05T06:07:08.123456789Z, true, {"a":1})`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestZeroRow(t *testing.T) {
	var r messages.Row
	if r.Len() != 0 {
		t.Errorf("Len() = %d", r.Len())
	}
	if r.Columns() != nil {
		t.Errorf("Columns() = %v", r.Columns())
	}
	if v := r.Index(0); v != nil {
		t.Errorf("Index(0) = %v", v)
	}
	if v, ok := r.Get("x"); v != nil || ok {
		t.Errorf("Get(x) = %v, %v", v, ok)
	}
	if v := r.Values(); len(v) != 0 {
		t.Errorf("Values() = %v", v)
	}
	if m := r.Map(); len(m) != 0 {
		t.Errorf("Map() = %v", m)
	}
	if s := r.String(); s != "()" {
		t.Errorf("String() = %q", s)
	}
	if err := r.Scan(); err != nil {
		t.Errorf("Scan() = %v", err)
	}
	var n int
	err := r.Scan(&n)
	var se *messages.ScanError
	if !errors.Is(err, messages.ErrScan) || !errors.As(err, &se) || se.Column != -1 {
		t.Errorf("Scan(&n) on the zero Row = %v", err)
	}
}

func TestRowsBuilder(t *testing.T) {
	cols := []messages.Column{{Name: "n"}, {Name: "s"}}
	b := messages.NewRowsBuilder(cols, 2)
	if b.Len() != 0 || b.BufLen() != 0 {
		t.Fatalf("empty builder: Len %d, BufLen %d", b.Len(), b.BufLen())
	}
	if rows := b.Rows(); rows != nil {
		t.Fatalf("Rows() of no rows = %v, want nil", rows)
	}
	b = messages.NewRowsBuilder(cols, 2)
	src := []byte("first")
	b.Int(1)
	b.Grow(100)
	b.Text(src)
	src[0] = 'X' // Text copied it
	if b.Len() != 1 {
		t.Errorf("Len() after one row = %d", b.Len())
	}
	b.Int(2) // half a row
	if b.Len() != 1 {
		t.Errorf("Len() with half a row = %d", b.Len())
	}
	b.Blob([]byte("second"))
	b.Int(3)
	b.Null()
	if b.Len() != 3 || b.BufLen() != len("first")+len("second") {
		t.Errorf("Len() = %d, BufLen() = %d", b.Len(), b.BufLen())
	}
	rows := b.Rows()
	want := [][]any{{int64(1), "first"}, {int64(2), []byte("second")}, {int64(3), nil}}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if got := r.Values(); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("row %d = %#v, want %#v", i, got, want[i])
		}
		if &r.Columns()[0] != &cols[0] {
			t.Errorf("row %d does not share the columns", i)
		}
	}
}

func TestRowsBuilderSizeHint(t *testing.T) {
	for _, n := range []int{-100, -1, 0, 1, 1000} {
		b := messages.NewRowsBuilder([]messages.Column{{Name: "x"}}, n)
		b.Int(int64(n))
		if rows := b.Rows(); len(rows) != 1 || rows[0].Index(0) != int64(n) {
			t.Errorf("hint %d: rows %v", n, rows)
		}
	}
}

func TestRowsBuilderZeroColumns(t *testing.T) {
	b := messages.NewRowsBuilder(nil, 0)
	for range 3 {
		b.EndRow()
	}
	rows := b.Rows()
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if r.Len() != 0 || r.String() != "()" || r.Scan() != nil {
			t.Errorf("row of no columns: Len %d, String %q", r.Len(), r.String())
		}
	}
}

func TestRowBytesAreCopies(t *testing.T) {
	r := one(t, vBlob(1, 2, 3))
	v := r.Index(0).([]byte)
	v[0] = 9
	var d []byte
	if err := r.Scan(&d); err != nil {
		t.Fatal(err)
	}
	d[1] = 9
	var a any
	if err := r.Scan(&a); err != nil {
		t.Fatal(err)
	}
	a.([]byte)[2] = 9
	if got := r.Index(0); !reflect.DeepEqual(got, []byte{1, 2, 3}) {
		t.Errorf("row changed through a returned slice: %v", got)
	}
	// Scanning into a *[]byte that holds a buffer does not write into that buffer.
	buf := []byte("xyz")
	d = buf
	if err := r.Scan(&d); err != nil {
		t.Fatal(err)
	}
	if string(buf) != "xyz" {
		t.Errorf("Scan wrote into the destination's old buffer: %q", buf)
	}
}

// TestRowEmptyBytesNotNull checks that a zero-length blob or text reads as an empty, non-nil
// []byte, so that it can be told from NULL, whatever the destination held before.
func TestRowEmptyBytesNotNull(t *testing.T) {
	for _, fill := range []fill{vBlob(), vText("")} {
		r := one(t, fill)
		for _, prev := range [][]byte{nil, []byte("old")} {
			d := prev
			if err := r.Scan(&d); err != nil {
				t.Fatal(err)
			}
			if d == nil || len(d) != 0 {
				t.Errorf("Scan(*[]byte) over %q = %#v, want []byte{}", prev, d)
			}
			var j json.RawMessage
			if err := r.Scan(&j); err != nil {
				t.Fatal(err)
			}
			if j == nil || len(j) != 0 {
				t.Errorf("Scan(*json.RawMessage) = %#v, want empty non-nil", j)
			}
		}
	}
	if v, ok := one(t, vBlob()).Index(0).([]byte); !ok || v == nil {
		t.Errorf("Index of an empty blob = %#v, want []byte{}", v)
	}
	var d = []byte("old")
	if err := one(t, vNull()).Scan(&d); err != nil || d != nil {
		t.Errorf("Scan NULL into *[]byte = %#v, %v; want nil", d, err)
	}
}

type scanCase struct {
	name string
	fill fill
	dest func() any
	want any
}

func TestRowScan(t *testing.T) {
	type decimal struct{ units, scale int }
	tests := []scanCase{
		// integer slot
		{"int/int", vInt(42), newDest[int](), 42},
		{"int/int64", vInt(math.MinInt64), newDest[int64](), int64(math.MinInt64)},
		{"int/float64", vInt(-3), newDest[float64](), -3.0},
		{"int/string", vInt(42), newDest[string](), "42"},
		{"int/bool true", vInt(2), newDest[bool](), true},
		{"int/bool false", vInt(0), newDest[bool](), false},
		{"int/time", vInt(1700000000), newDest[time.Time](), timeOf(1700000000)},
		{"int/json", vInt(42), newDest[json.RawMessage](), raw("42")},
		{"int/any", vInt(42), newDest[any](), int64(42)},
		{"int/NullInt64", vInt(42), newDest[sql.NullInt64](), nullInt(42, true)},
		{"int/NullString", vInt(42), newDest[sql.NullString](), nullString("42", true)},
		{"int/NullFloat64", vInt(42), newDest[sql.NullFloat64](), nullFloat(42, true)},
		// float slot
		{"float/float64", vFloat(1.5), newDest[float64](), 1.5},
		{"float/int whole", vFloat(3), newDest[int](), 3},
		{"float/int64 whole", vFloat(-1e15), newDest[int64](), int64(-1e15)},
		{"float/int64 min", vFloat(math.MinInt64), newDest[int64](), int64(math.MinInt64)},
		{"float/string", vFloat(1.5), newDest[string](), "1.5"},
		{"float/string big", vFloat(1e21), newDest[string](), "1e+21"},
		{"float/bool", vFloat(0.1), newDest[bool](), true},
		{"float/bool zero", vFloat(0), newDest[bool](), false},
		{"float/json", vFloat(1.5), newDest[json.RawMessage](), raw("1.5")},
		{"float/any", vFloat(1.5), newDest[any](), 1.5},
		{"float/NullFloat64", vFloat(1.5), newDest[sql.NullFloat64](), nullFloat(1.5, true)},
		// text slot
		{"text/int", vText("123"), newDest[int](), 123},
		{"text/int64 spaces", vText(" -7 "), newDest[int64](), int64(-7)},
		{"text/float64", vText("2.5e3"), newDest[float64](), 2500.0},
		{"text/float64 integer", vText("12"), newDest[float64](), 12.0},
		{"text/string", vText("héllo"), newDest[string](), "héllo"},
		{"text/string empty", vText(""), newDest[string](), ""},
		{"text/bytes", vText("abc"), newDest[[]byte](), bytesOf("abc")},
		{"text/bool true", vText("true"), newDest[bool](), true},
		{"text/bool 0", vText("0"), newDest[bool](), false},
		{"text/time layout", vText(tmText), newDest[time.Time](), tm},
		{"text/time sqlite", vText("2024-03-05 06:07:08"), newDest[time.Time](), time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)},
		{"text/time date", vText("2024-03-05"), newDest[time.Time](), time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"text/json", vText(`{"k":[1]}`), newDest[json.RawMessage](), raw(`{"k":[1]}`)},
		{"text/any", vText("abc"), newDest[any](), "abc"},
		{"text/NullString", vText("abc"), newDest[sql.NullString](), nullString("abc", true)},
		{"text/NullInt64", vText("5"), newDest[sql.NullInt64](), nullInt(5, true)},
		// blob slot
		{"blob/bytes", vBlob(1, 2), newDest[[]byte](), []byte{1, 2}},
		{"blob/bytes empty", vBlob(), newDest[[]byte](), []byte{}},
		{"blob/string", vBlob('h', 'i'), newDest[string](), "hi"},
		{"blob/json", vBlob('[', ']'), newDest[json.RawMessage](), raw("[]")},
		{"blob/any", vBlob(1, 2), newDest[any](), []byte{1, 2}},
		{"blob/NullString", vBlob('h', 'i'), newDest[sql.NullString](), nullString("hi", true)},
		// NULL slot
		{"null/any", vNull(), newDest[any](), nil},
		{"null/bytes", vNull(), newDest[[]byte](), []byte(nil)},
		{"null/json", vNull(), newDest[json.RawMessage](), json.RawMessage(nil)},
		{"null/NullString", vNull(), newDest[sql.NullString](), sql.NullString{}},
		{"null/NullInt64", vNull(), newDest[sql.NullInt64](), sql.NullInt64{}},
		{"null/NullFloat64", vNull(), newDest[sql.NullFloat64](), sql.NullFloat64{}},
		{"null/NullBool", vNull(), newDest[sql.NullBool](), sql.NullBool{}},
		{"null/NullTime", vNull(), newDest[sql.NullTime](), sql.NullTime{}},
		// converted (boxed) values: time.Time
		{"time/time", vBoxed(tm), newDest[time.Time](), tm},
		{"time/string", vBoxed(tm.In(time.FixedZone("x", 3600))), newDest[string](), tmText},
		{"time/any", vBoxed(tm), newDest[any](), tm},
		{"time/NullTime", vBoxed(tm), newDest[sql.NullTime](), nullTime(tm, true)},
		{"time/NullString", vBoxed(tm), newDest[sql.NullString](), nullString(tm.Format(time.RFC3339Nano), true)},
		// bool
		{"bool/bool", vBoxed(true), newDest[bool](), true},
		{"bool/int64", vBoxed(true), newDest[int64](), int64(1)},
		{"bool/int", vBoxed(false), newDest[int](), 0},
		{"bool/string", vBoxed(true), newDest[string](), "true"},
		{"bool/any", vBoxed(false), newDest[any](), false},
		{"bool/NullBool", vBoxed(true), newDest[sql.NullBool](), nullBool(true, true)},
		// json.RawMessage
		{"json/json", vBoxed(raw(`{"a":1}`)), newDest[json.RawMessage](), raw(`{"a":1}`)},
		{"json/bytes", vBoxed(raw(`{"a":1}`)), newDest[[]byte](), bytesOf(`{"a":1}`)},
		{"json/string", vBoxed(raw(`{"a":1}`)), newDest[string](), `{"a":1}`},
		{"json/any", vBoxed(raw(`{"a":1}`)), newDest[any](), raw(`{"a":1}`)},
		{"json/NullString", vBoxed(raw(`{"a":1}`)), newDest[sql.NullString](), nullString(`{"a":1}`, true)},
		// other converter results
		{"boxed string/string", vBoxed("s"), newDest[string](), "s"},
		{"boxed string/bytes", vBoxed("s"), newDest[[]byte](), bytesOf("s")},
		{"boxed string/json", vBoxed(`"s"`), newDest[json.RawMessage](), raw(`"s"`)},
		{"boxed bytes/json", vBoxed([]byte("[1]")), newDest[json.RawMessage](), raw("[1]")},
		{"boxed int64/int64", vBoxed(int64(9)), newDest[int64](), int64(9)},
		{"boxed int64/float64", vBoxed(int64(9)), newDest[float64](), 9.0},
		{"boxed float64/float64", vBoxed(2.25), newDest[float64](), 2.25},
		{"boxed struct/any", vBoxed(decimal{125, 2}), newDest[any](), decimal{125, 2}},
		{"boxed struct/string", vBoxed(decimal{125, 2}), newDest[string](), "{125 2}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := one(t, tt.fill)
			dest := tt.dest()
			if err := r.Scan(dest); err != nil {
				t.Fatalf("Scan(%T) = %v", dest, err)
			}
			if got := deref(dest); !equalValue(got, tt.want) {
				t.Errorf("Scan(%T) stored %s, want %s", dest, quote(got), quote(tt.want))
			}
		})
	}
}

func TestRowScanAll(t *testing.T) {
	var (
		id      int64
		price   float64
		name    string
		data    []byte
		note    sql.NullString
		created time.Time
		flag    bool
		doc     json.RawMessage
	)
	if err := fixture(t).Scan(&id, &price, &name, &data, &note, &created, &flag, &doc); err != nil {
		t.Fatal(err)
	}
	if id != 42 || price != 9.5 || name != "Ada" || string(data) != "\xde\xad" || note.Valid ||
		!created.Equal(tm) || !flag || string(doc) != `{"a":1}` {
		t.Errorf("Scan = %v %v %q %x %v %v %v %s", id, price, name, data, note, created, flag, doc)
	}
}

// failingScanner is an sql.Scanner that refuses every value.
type failingScanner struct{}

var errRefused = errors.New("refused")

func (*failingScanner) Scan(any) error { return errRefused }

func TestRowScanErrors(t *testing.T) {
	var ch chan int
	tests := []struct {
		name     string
		fill     fill
		dest     []any
		wantCol  int
		wantDest string
	}{
		{"no destinations", vInt(1), nil, -1, ""},
		{"two destinations", vInt(1), []any{new(int), new(int)}, -1, ""},
		{"NULL into *string", vNull(), []any{new(string)}, 0, "*string"},
		{"NULL into *int", vNull(), []any{new(int)}, 0, "*int"},
		{"NULL into *int64", vNull(), []any{new(int64)}, 0, "*int64"},
		{"NULL into *float64", vNull(), []any{new(float64)}, 0, "*float64"},
		{"NULL into *bool", vNull(), []any{new(bool)}, 0, "*bool"},
		{"NULL into *time.Time", vNull(), []any{new(time.Time)}, 0, "*time.Time"},
		{"text abc into *int64", vText("abc"), []any{new(int64)}, 0, "*int64"},
		{"text abc into *int", vText("abc"), []any{new(int)}, 0, "*int"},
		{"text abc into *float64", vText("abc"), []any{new(float64)}, 0, "*float64"},
		{"text abc into *bool", vText("abc"), []any{new(bool)}, 0, "*bool"},
		{"text abc into *time.Time", vText("abc"), []any{new(time.Time)}, 0, "*time.Time"},
		{"text 1.5 into *int64", vText("1.5"), []any{new(int64)}, 0, "*int64"},
		{"text overflow into *int64", vText("9223372036854775808"), []any{new(int64)}, 0, "*int64"},
		{"float 1.5 into *int", vFloat(1.5), []any{new(int)}, 0, "*int"},
		{"float 1.5 into *int64", vFloat(1.5), []any{new(int64)}, 0, "*int64"},
		{"float 2^63 into *int64", vFloat(math.Exp2(63)), []any{new(int64)}, 0, "*int64"},
		{"float -2^64 into *int64", vFloat(-math.Exp2(64)), []any{new(int64)}, 0, "*int64"},
		{"float +Inf into *int64", vFloat(math.Inf(1)), []any{new(int64)}, 0, "*int64"},
		{"float NaN into *int64", vFloat(math.NaN()), []any{new(int64)}, 0, "*int64"},
		{"float into *time.Time", vFloat(1.5), []any{new(time.Time)}, 0, "*time.Time"},
		{"float into *[]byte", vFloat(1.5), []any{new([]byte)}, 0, "*[]uint8"},
		{"float +Inf into *json.RawMessage", vFloat(math.Inf(1)), []any{new(json.RawMessage)}, 0, "*json.RawMessage"},
		{"int into *[]byte", vInt(1), []any{new([]byte)}, 0, "*[]uint8"},
		{"blob into *int64", vBlob(1), []any{new(int64)}, 0, "*int64"},
		{"blob into *float64", vBlob(1), []any{new(float64)}, 0, "*float64"},
		{"blob into *bool", vBlob(1), []any{new(bool)}, 0, "*bool"},
		{"blob into *time.Time", vBlob(1), []any{new(time.Time)}, 0, "*time.Time"},
		{"time into *int64", vBoxed(tm), []any{new(int64)}, 0, "*int64"},
		{"time into *float64", vBoxed(tm), []any{new(float64)}, 0, "*float64"},
		{"time into *bool", vBoxed(tm), []any{new(bool)}, 0, "*bool"},
		{"time into *[]byte", vBoxed(tm), []any{new([]byte)}, 0, "*[]uint8"},
		{"time into *json.RawMessage", vBoxed(tm), []any{new(json.RawMessage)}, 0, "*json.RawMessage"},
		{"bool into *time.Time", vBoxed(true), []any{new(time.Time)}, 0, "*time.Time"},
		{"bool into *float64", vBoxed(true), []any{new(float64)}, 0, "*float64"},
		{"json into *int64", vBoxed(raw("1")), []any{new(int64)}, 0, "*int64"},
		{"json into *bool", vBoxed(raw("true")), []any{new(bool)}, 0, "*bool"},
		{"unsupported *chan int", vInt(1), []any{&ch}, 0, "*chan int"},
		{"unsupported *int32", vInt(1), []any{new(int32)}, 0, "*int32"},
		{"unsupported non-pointer", vInt(1), []any{int64(0)}, 0, "int64"},
		{"nil destination", vInt(1), []any{nil}, 0, "<nil>"},
		{"nil *int64", vInt(1), []any{(*int64)(nil)}, 0, "*int64"},
		{"nil *string", vText("x"), []any{(*string)(nil)}, 0, "*string"},
		{"nil *any", vText("x"), []any{(*any)(nil)}, 0, "*interface {}"},
		{"nil *[]byte", vText("x"), []any{(*[]byte)(nil)}, 0, "*[]uint8"},
		{"nil *time.Time", vBoxed(tm), []any{(*time.Time)(nil)}, 0, "*time.Time"},
		{"nil *sql.NullString", vText("x"), []any{(*sql.NullString)(nil)}, 0, "*sql.NullString"},
		{"scanner refuses", vInt(1), []any{&failingScanner{}}, 0, "*messages_test.failingScanner"},
		{"NullInt64 from text", vText("abc"), []any{new(sql.NullInt64)}, 0, "*sql.NullInt64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := one(t, tt.fill)
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("Scan panicked: %v", p)
					}
				}()
				err = r.Scan(tt.dest...)
			}()
			if !errors.Is(err, messages.ErrScan) {
				t.Fatalf("Scan = %v, want an error wrapping ErrScan", err)
			}
			var se *messages.ScanError
			if !errors.As(err, &se) {
				t.Fatalf("Scan = %T, want a *messages.ScanError", err)
			}
			if se.Column != tt.wantCol || se.Dest != tt.wantDest || se.Reason == "" {
				t.Errorf("ScanError = %+v, want Column %d, Dest %q and a reason", se, tt.wantCol, tt.wantDest)
			}
			if tt.wantCol >= 0 && se.Name != "c" {
				t.Errorf("ScanError.Name = %q, want c", se.Name)
			}
		})
	}
}

func TestRowScanErrorNamesColumn(t *testing.T) {
	var (
		id   int64
		name int64 // "Ada" is not an integer
	)
	err := fixture(t).Scan(&id, new(float64), &name, new([]byte), new(any), new(time.Time), new(bool), new(json.RawMessage))
	var se *messages.ScanError
	if !errors.As(err, &se) || se.Column != 2 || se.Name != "name" || se.Dest != "*int64" {
		t.Fatalf("Scan = %v, want a ScanError for column 2 (name)", err)
	}
	if id != 42 {
		t.Errorf("column 0 was not scanned before the error: %d", id)
	}
}

// TestRowConcurrent reads one chunk of rows from several goroutines (run with -race).
func TestRowConcurrent(t *testing.T) {
	b := messages.NewRowsBuilder(fixtureCols, 16)
	for range 16 {
		fillFixture(&b)
	}
	rows := b.Rows()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for _, r := range rows {
				_ = r.Values()
				_ = r.Map()
				_ = r.String()
				var data []byte
				var name string
				var a any
				if err := r.Scan(new(int), new(float64), &name, &data, &a, new(time.Time), new(bool), new(json.RawMessage)); err != nil {
					errs <- err
					return
				}
				if name != "Ada" || len(data) != 2 {
					errs <- fmt.Errorf("read %q %x", name, data)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRowTimeSlot checks that a time appended with Time reads, scans and formats exactly as
// the same time appended boxed with Value.
func TestRowTimeSlot(t *testing.T) {
	plus2 := time.Date(2024, 3, 5, 8, 7, 8, 5e8, time.FixedZone("", 2*3600))
	for _, when := range []time.Time{tm, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(-1, 1).UTC(), plus2} {
		typed, boxed := one(t, func(b *messages.RowsBuilder) { b.Time(when) }), one(t, vBoxed(when))
		if got, want := typed.Index(0), boxed.Index(0); got != want {
			t.Errorf("%v: Index = %#v, want %#v", when, got, want)
		}
		if got, want := typed.String(), boxed.String(); got != want {
			t.Errorf("%v: String = %q, want %q", when, got, want)
		}
		dests := []func() any{
			func() any { return new(time.Time) }, func() any { return new(string) }, func() any { return new(any) },
			func() any { return new([]byte) }, func() any { return new(int64) }, func() any { return new(int) },
			func() any { return new(float64) }, func() any { return new(bool) }, func() any { return new(json.RawMessage) },
			func() any { return new(sql.NullTime) }, func() any { return new(sql.NullString) },
		}
		for _, dest := range dests {
			gd, wd := dest(), dest()
			gerr, werr := typed.Scan(gd), boxed.Scan(wd)
			name := fmt.Sprintf("%v into %T", when, gd)
			if fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Errorf("%s: Scan = %v, want %v", name, gerr, werr)
			}
			if !reflect.DeepEqual(gd, wd) {
				t.Errorf("%s: scanned %#v, want %#v", name, reflect.ValueOf(gd).Elem(), reflect.ValueOf(wd).Elem())
			}
		}
	}
}
