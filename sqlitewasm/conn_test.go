package sqlitewasm_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestCloseIdempotent(t *testing.T) {
	c, err := sqlitewasm.Open(t.Context(), tempDB(t), sqlitewasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := c.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
	}
	var nilConn *sqlitewasm.Conn
	if err := nilConn.Close(); err != nil {
		t.Errorf("nil Conn Close = %v", err)
	}
}

func TestCloseWithOpenRows(t *testing.T) {
	c, err := sqlitewasm.Open(t.Context(), ":memory:", sqlitewasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec("CREATE TABLE t(x)", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecMany("INSERT INTO t VALUES (?)", [][]any{{1}, {2}, {3}}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Query("SELECT x FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := messages.NewRowsBuilder(r.Columns(), 1)
	if done, err := r.Next(&b, 1); done || err != nil {
		t.Fatalf("Next = %v, %v", done, err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close with an open result set = %v", err)
	}
	r.Close() // safe after the connection closed
	if !r.Done() {
		t.Error("Rows not done after Close")
	}
	if done, err := r.Next(&b, 1); !done || err != nil {
		t.Errorf("Next after Close = %v, %v", done, err)
	}
}

// --- binding ---------------------------------------------------------------------------------

type level int
type label string
type flag bool
type ratio float64
type payload []byte
type big uint64

// money is a driver.Valuer with a value receiver.
type money struct{ cents int64 }

func (m money) Value() (driver.Value, error) { return m.cents, nil }

// badValuer fails.
type badValuer struct{}

func (badValuer) Value() (driver.Value, error) { return nil, errors.New("no value") }

// chanValuer returns a value that cannot be bound.
type chanValuer struct{}

func (chanValuer) Value() (driver.Value, error) { return make(chan int), nil }

// ptrValuer is a driver.Valuer with a pointer receiver that accepts a nil receiver.
type ptrValuer struct{ s string }

func (p *ptrValuer) Value() (driver.Value, error) {
	if p == nil {
		return "nil receiver", nil
	}
	return p.s, nil
}

// nestedValuer returns another Valuer.
type nestedValuer struct{}

func (nestedValuer) Value() (driver.Value, error) { return money{1}, nil }

func TestBind(t *testing.T) {
	c := memConn(t)
	n := 42
	pn := &n
	s := "pointed"
	var nilInt *int
	var nilValuer *sql.NullString
	var nilMoney *money
	when := time.Date(2024, 3, 5, 6, 7, 8, 9, time.FixedZone("+02", 2*3600))
	tests := []struct {
		name     string
		arg      any
		wantType string
		want     any
	}{
		{"nil", nil, "null", nil},
		{"int", -5, "integer", int64(-5)},
		{"int8", int8(math.MinInt8), "integer", int64(math.MinInt8)},
		{"int16", int16(math.MaxInt16), "integer", int64(math.MaxInt16)},
		{"int32", int32(math.MinInt32), "integer", int64(math.MinInt32)},
		{"int64", int64(math.MaxInt64), "integer", int64(math.MaxInt64)},
		{"int64 min", int64(math.MinInt64), "integer", int64(math.MinInt64)},
		{"uint", uint(7), "integer", int64(7)},
		{"uint8", uint8(255), "integer", int64(255)},
		{"uint16", uint16(math.MaxUint16), "integer", int64(math.MaxUint16)},
		{"uint32", uint32(math.MaxUint32), "integer", int64(math.MaxUint32)},
		{"uint64", uint64(math.MaxInt64), "integer", int64(math.MaxInt64)},
		{"float32", float32(1.5), "real", 1.5},
		{"float64", 2.25, "real", 2.25},
		{"float64 integral", 3.0, "real", 3.0},
		{"bool true", true, "integer", int64(1)},
		{"bool false", false, "integer", int64(0)},
		{"string", "héllo", "text", "héllo"},
		{"empty string", "", "text", ""},
		{"bytes", []byte{0, 1, 0xff}, "blob", []byte{0, 1, 0xff}},
		{"empty bytes", []byte{}, "blob", []byte{}},
		{"nil bytes", []byte(nil), "null", nil},
		{"time", when, "text", "2024-03-05T04:07:08.000000009Z"},
		{"time UTC", time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), "text", "1999-12-31T23:59:59.000000000Z"},
		{"zero time", time.Time{}, "text", "0001-01-01T00:00:00.000000000Z"},
		{"json", json.RawMessage(`{"a":[1,2]}`), "text", `{"a":[1,2]}`},
		{"nil json", json.RawMessage(nil), "null", nil},
		{"valuer", money{1234}, "integer", int64(1234)},
		{"valuer pointer", &money{5}, "integer", int64(5)},
		{"NullString", sql.NullString{String: "x", Valid: true}, "text", "x"},
		{"NullString null", sql.NullString{}, "null", nil},
		{"NullInt64", sql.NullInt64{Int64: 9, Valid: true}, "integer", int64(9)},
		{"NullTime", sql.NullTime{Time: when, Valid: true}, "text", "2024-03-05T04:07:08.000000009Z"},
		{"named int", level(3), "integer", int64(3)},
		{"named string", label("info"), "text", "info"},
		{"named bool", flag(true), "integer", int64(1)},
		{"named float", ratio(0.5), "real", 0.5},
		{"named bytes", payload("pl"), "blob", []byte("pl")},
		{"named uint", big(8), "integer", int64(8)},
		{"pointer to int", pn, "integer", int64(42)},
		{"pointer to pointer", &pn, "integer", int64(42)},
		{"pointer to string", &s, "text", "pointed"},
		{"pointer to named", new(level), "integer", int64(0)},
		{"pointer to time", &when, "text", "2024-03-05T04:07:08.000000009Z"},
		{"nil pointer", nilInt, "null", nil},
		{"nil pointer to a Valuer", nilValuer, "null", nil},
		{"nil pointer to a value-receiver Valuer", nilMoney, "null", nil},
		{"pointer-receiver Valuer", &ptrValuer{"p"}, "text", "p"},
		{"nil pointer-receiver Valuer", (*ptrValuer)(nil), "text", "nil receiver"},
		{"year 0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "text", "0000-01-01T00:00:00.000000000Z"},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "text", "9999-12-31T23:59:59.999999999Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, err := c.QueryRow("SELECT typeof(?1), ?1", []any{tt.arg})
			if err != nil {
				t.Fatalf("binding %T: %v", tt.arg, err)
			}
			if got := row.Index(0); got != tt.wantType {
				t.Errorf("typeof = %v, want %v", got, tt.wantType)
			}
			if got := row.Index(1); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestBindTimeStorage(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(at DATETIME, raw TEXT)")
	times := []time.Time{
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("-08", -8*3600)), // 08:00 UTC
		time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC),
		time.Date(2023, 12, 31, 23, 0, 0, 500, time.UTC),
		time.Date(2024, 1, 1, 7, 59, 59, 999999999, time.UTC),
	}
	for _, tm := range times {
		exec(t, c, "INSERT INTO t VALUES (?, ?)", tm, tm)
	}
	// Stored as fixed-width UTC text, so text order is time order.
	rows := queryAll(t, c, "SELECT at, raw, typeof(raw) FROM t ORDER BY raw")
	want := []int{2, 1, 3, 0}
	for i, r := range rows {
		tm := times[want[i]]
		at, ok := r.Index(0).(time.Time)
		if !ok || !at.Equal(tm) {
			t.Errorf("row %d: DATETIME column = %#v, want %v", i, r.Index(0), tm)
		}
		if got, wantText := r.Index(1), tm.UTC().Format(messages.TimeLayout); got != wantText || r.Index(2) != "text" {
			t.Errorf("row %d: stored %v (%v), want text %q", i, got, r.Index(2), wantText)
		}
	}
}

func TestBindErrors(t *testing.T) {
	c := memConn(t)
	tests := []struct {
		name    string
		args    []any
		wantPos int
		typ     string
	}{
		{"chan", []any{make(chan int), 1, 2}, 1, "chan int"},
		{"struct", []any{1, struct{ X int }{1}, 2}, 2, "struct { X int }"},
		{"map", []any{1, 2, map[string]int{}}, 3, "map[string]int"},
		{"slice of int", []any{[]int{1}, 1, 2}, 1, "[]int"},
		{"func", []any{1, func() {}, 2}, 2, "func()"},
		{"pointer to chan", []any{1, 2, new(chan int)}, 3, "chan int"},
		{"uint64 overflow", []any{uint64(math.MaxInt64) + 1, 1, 2}, 1, "uint64"},
		{"uint overflow", []any{1, uint(math.MaxUint), 2}, 2, "uint"},
		{"named uint overflow", []any{1, 2, big(math.MaxUint64)}, 3, "sqlitewasm_test.big"},
		{"failing valuer", []any{badValuer{}, 1, 2}, 1, "sqlitewasm_test.badValuer"},
		{"valuer of a chan", []any{1, chanValuer{}, 2}, 2, "chan int"},
		{"nested valuer", []any{1, 2, nestedValuer{}}, 3, "sqlitewasm_test.money"},
		{"year 10000", []any{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 1, 2}, 1, "time.Time"},
		{"negative year", []any{1, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), 2}, 2, "time.Time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.QueryRow("SELECT ?, ?, ?", tt.args)
			wantArgErr(t, err, tt.wantPos, tt.typ)
			_, err = c.Exec("SELECT ?, ?, ?", tt.args)
			wantArgErr(t, err, tt.wantPos, tt.typ)
		})
	}
	// The connection is still usable.
	if got := value(t, c, "SELECT ? + ?", 1, 2); got != int64(3) {
		t.Errorf("after bind errors: %v", got)
	}
}

func TestArgumentCount(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(a, b)")
	tests := []struct {
		name string
		sql  string
		args []any
	}{
		{"too few", "INSERT INTO t VALUES (?, ?)", []any{1}},
		{"too many", "INSERT INTO t VALUES (?, ?)", []any{1, 2, 3}},
		{"none expected", "INSERT INTO t VALUES (1, 2)", []any{1}},
		{"none given", "INSERT INTO t VALUES (?, ?)", nil},
		{"numbered", "INSERT INTO t VALUES (?1, ?1)", []any{1, 2}},
		{"named", "INSERT INTO t VALUES (:a, $b)", []any{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Exec(tt.sql, tt.args)
			wantArgErr(t, err, 0, "")
			_, err = c.Query(tt.sql, tt.args)
			wantArgErr(t, err, 0, "")
		})
	}
	if got := count(t, c, "t"); got != 0 {
		t.Errorf("%d rows inserted by failing statements", got)
	}
	// Named parameters bind by position.
	exec(t, c, "INSERT INTO t VALUES (:a, $b)", "x", "y")
	if got := queryAll(t, c, "SELECT a, b FROM t")[0].Values(); !reflect.DeepEqual(got, []any{"x", "y"}) {
		t.Errorf("named parameters bound %v", got)
	}
}

// --- reading and converters ------------------------------------------------------------------

func TestColumns(t *testing.T) {
	c := memConn(t)
	exec(t, c, `CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, at timestamp with time zone, price DECIMAL(10,2), untyped)`)
	r, err := c.Query("SELECT id, name AS n, at, price, untyped, 1 + 1 AS two FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []messages.Column{
		{Name: "id", DeclType: "INTEGER"},
		{Name: "n", DeclType: "TEXT"},
		{Name: "at", DeclType: "timestamp with time zone"},
		{Name: "price", DeclType: "DECIMAL(10,2)"},
		{Name: "untyped", DeclType: ""},
		{Name: "two", DeclType: ""},
	}
	if got := r.Columns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %v, want %v", got, want)
	}
}

func TestBuiltinConverters(t *testing.T) {
	c := memConn(t)
	exec(t, c, `CREATE TABLE t(v)`)
	when := time.Date(2024, 3, 5, 6, 7, 8, 123456789, time.UTC)
	tests := []struct {
		name   string
		decl   string
		stored any // bound as is
		want   any
	}{
		{"DATETIME text", "DATETIME", when, when},
		{"DATETIME sqlite text", "DATETIME", "2024-03-05 06:07:08", time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)},
		{"DATETIME unix seconds", "DATETIME", int64(1700000000), time.Unix(1700000000, 0).UTC()},
		{"DATETIME julian day", "DATETIME", 2440587.5 + 1709596800.0/86400, time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"DATETIME NULL", "DATETIME", nil, nil},
		{"TIMESTAMP", "TIMESTAMP", when, when},
		{"lower-case datetime", "datetime", when, when},
		{"timestamp with time zone", "timestamp with time zone", "2024-03-05T06:07:08+02:00", time.Date(2024, 3, 5, 4, 7, 8, 0, time.UTC)},
		{"Timestamp(6)", "Timestamp(6)", when, when},
		{"BOOLEAN 1", "BOOLEAN", true, true},
		{"BOOLEAN 0", "BOOLEAN", false, false},
		{"boolean text yes", "boolean", "yes", true},
		{"BOOLEAN text false", "BOOLEAN", "false", false},
		{"BOOLEAN real", "BOOLEAN", 0.0, false},
		{"BOOLEAN NULL", "BOOLEAN", nil, nil},
		{"JSON text", "JSON", json.RawMessage(`{"a":1}`), json.RawMessage(`{"a":1}`)},
		{"json lower", "json", `[1,2]`, json.RawMessage(`[1,2]`)},
		{"JSON integer", "JSON", 5, json.RawMessage(`5`)},
		{"JSON blob", "JSON", []byte(`"b"`), json.RawMessage(`"b"`)},
		{"JSON NULL", "JSON", nil, nil},
		{"TEXT is not converted", "TEXT", "2024-03-05", "2024-03-05"},
		{"DATETIMEX is not DATETIME", "DATETIMEX", "2024-03-05", "2024-03-05"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := fmt.Sprintf("c%d", i)
			exec(t, c, fmt.Sprintf(`CREATE TABLE %s(v %s)`, table, tt.decl))
			exec(t, c, "INSERT INTO "+table+" VALUES (?)", tt.stored)
			got := value(t, c, "SELECT v FROM "+table)
			if wt, ok := tt.want.(time.Time); ok {
				if gt, ok := got.(time.Time); !ok || !gt.Equal(wt) {
					t.Errorf("read %#v, want %v", got, wt)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("read %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestBuiltinConverterErrors(t *testing.T) {
	tests := []struct {
		decl   string
		stored any
	}{
		{"DATETIME", "not a time"},
		{"DATETIME", []byte{1, 2}},
		{"BOOLEAN", "maybe"},
		{"BOOLEAN", []byte{1}},
		{"TIMESTAMP", "2024-02-30"},
	}
	c := memConn(t)
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.decl, tt.stored), func(t *testing.T) {
			table := fmt.Sprintf("e%d", i)
			exec(t, c, fmt.Sprintf("CREATE TABLE %s(v %s)", table, tt.decl))
			exec(t, c, "INSERT INTO "+table+" VALUES (?)", tt.stored)
			_, err := c.QueryRow("SELECT v FROM "+table, nil)
			wantErr(t, err, messages.ErrConvert)
			if _, err := readAll(c, "SELECT v FROM "+table); !errors.Is(err, messages.ErrConvert) {
				t.Errorf("Next = %v, want ErrConvert", err)
			}
		})
	}
}

// TestTimeConverterRejectsNumbersBeyondTime checks that a number naming a time that
// time.Time cannot hold fails the read with ErrConvert, rather than giving the time an
// overflow makes of it (+Inf used to read as year -5005, 1e300 as a Julian day of 0, and the
// largest integer as a time before 1970).
func TestTimeConverterRejectsNumbersBeyondTime(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(v DATETIME BLOB)") // BLOB affinity: a real stays a real
	for _, v := range []any{math.Inf(1), math.Inf(-1), 1e300, -1e300, 1e14, int64(math.MaxInt64), int64(math.MaxInt64 - 62135596800 + 1)} {
		exec(t, c, "DELETE FROM t")
		exec(t, c, "INSERT INTO t VALUES (?)", v)
		row, err := c.QueryRow("SELECT v FROM t", nil)
		if !errors.Is(err, messages.ErrConvert) {
			t.Errorf("%v read as %v, %v; want ErrConvert", v, row, err)
		}
	}
	// The extremes that fit are read as the instants they name.
	for _, tt := range []struct {
		stored any
		unix   int64
	}{
		{int64(math.MaxInt64 - 62135596800), math.MaxInt64 - 62135596800},
		{int64(math.MinInt64), math.MinInt64},
		{9.9e13, int64((9.9e13 - 2440587.5) * 86400)},
		{-9.9e13, int64((-9.9e13 - 2440587.5) * 86400)},
	} {
		exec(t, c, "DELETE FROM t")
		exec(t, c, "INSERT INTO t VALUES (?)", tt.stored)
		got, ok := value(t, c, "SELECT v FROM t").(time.Time)
		if !ok || got.Unix() != tt.unix || got.Before(time.Unix(0, 0)) != (tt.unix < 0) {
			t.Errorf("%v read as %v (Unix %d), want Unix %d", tt.stored, got, got.Unix(), tt.unix)
		}
	}
}

// TestEmptyBlobIsNotNULL checks that a converter, and a user function, get an empty blob as
// an empty, non-nil []byte, as a reader does: nil would read as NULL (the JSON converter made
// an empty blob scan as a nil json.RawMessage, and an identity converter turned it into nil).
func TestEmptyBlobIsNotNULL(t *testing.T) {
	var seen []any
	c := open(t, ":memory:", sqlitewasm.Config{Converters: map[string]sqlitewasm.Converter{
		"SAME": func(v any) (any, error) { seen = append(seen, v); return v, nil },
	}})
	script(t, c, "CREATE TABLE t(s SAME, j JSON); INSERT INTO t VALUES (X'', X'')")
	row, err := c.QueryRow("SELECT s, j FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := row.Index(0).([]byte); !ok || b == nil || len(b) != 0 {
		t.Errorf("identity converter of an empty blob = %#v, want []byte{}", row.Index(0))
	}
	if len(seen) != 1 || seen[0] == nil || seen[0].([]byte) == nil {
		t.Errorf("the converter got %#v, want []byte{}", seen)
	}
	var j json.RawMessage
	if err := row.Scan(new(any), &j); err != nil || j == nil || len(j) != 0 {
		t.Errorf("JSON of an empty blob scans as %#v, %v; want json.RawMessage{}", j, err)
	}
	var arg any = "unset"
	if err := c.CreateFunction("f", 1, func(a []any) (any, error) { arg = a[0]; return nil, nil }); err != nil {
		t.Fatal(err)
	}
	value(t, c, "SELECT f(X'')")
	if b, ok := arg.([]byte); !ok || b == nil || len(b) != 0 {
		t.Errorf("a function got an empty blob as %#v, want []byte{}", arg)
	}
}

var errDecimal = errors.New("bad decimal")

type decimal struct{ units, scale int64 }

// parseDecimal converts a DECIMAL column (NUMERIC affinity: SQLite stores '12.50' as 12.5).
func parseDecimal(v any) (any, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case int64:
		s = fmt.Sprint(v)
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return nil, fmt.Errorf("%w: %T", errDecimal, v)
	}
	whole, frac, _ := strings.Cut(s, ".")
	var d decimal
	if _, err := fmt.Sscan(whole+frac, &d.units); err != nil {
		return nil, fmt.Errorf("%w: %v", errDecimal, err)
	}
	d.scale = int64(len(frac))
	return d, nil
}

func TestUserConverters(t *testing.T) {
	cfg := sqlitewasm.Config{Converters: map[string]sqlitewasm.Converter{
		"decimal":  parseDecimal,                                                // any case
		"DATETIME": nil,                                                         // removes a built-in
		"BOOLEAN":  func(v any) (any, error) { return fmt.Sprint("b", v), nil }, // replaces one
		"BOOM":     func(any) (any, error) { panic("converter bug") },
		"FAILS":    func(any) (any, error) { return nil, errDecimal },
	}}
	c := open(t, ":memory:", cfg)
	script(t, c, `
		CREATE TABLE t(price DECIMAL(10,2), at DATETIME, ok BOOLEAN, stamp TIMESTAMP, boom BOOM, fails FAILS);
		INSERT INTO t VALUES ('12.50', '2024-03-05', 1, '2024-03-05', NULL, NULL);
	`)
	row, err := c.QueryRow("SELECT price, at, ok, stamp, boom, fails FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Index(0); got != (decimal{125, 1}) {
		t.Errorf("DECIMAL = %#v", got)
	}
	if got := row.Index(1); got != "2024-03-05" {
		t.Errorf("DATETIME without its converter = %#v, want the text", got)
	}
	if got := row.Index(2); got != "b1" {
		t.Errorf("replaced BOOLEAN = %#v", got)
	}
	if got, ok := row.Index(3).(time.Time); !ok || !got.Equal(time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("TIMESTAMP (kept) = %#v", row.Index(3))
	}
	if row.Index(4) != nil || row.Index(5) != nil {
		t.Errorf("NULL was converted: %v %v", row.Index(4), row.Index(5))
	}

	tests := []struct {
		name   string
		update string
		target error
	}{
		{"converter error", "UPDATE t SET fails = 'x'", errDecimal},
		{"converter panic", "UPDATE t SET fails = NULL, boom = 'x'", nil},
		{"decimal error", "UPDATE t SET boom = NULL, price = X'00'", errDecimal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec(t, c, tt.update)
			_, err := c.QueryRow("SELECT price, at, ok, stamp, boom, fails FROM t", nil)
			wantErr(t, err, messages.ErrConvert)
			if tt.target != nil {
				wantErr(t, err, tt.target)
			}
			if tt.target == nil && !strings.Contains(err.Error(), "converter bug") {
				t.Errorf("panic error %q lacks the panic value", err)
			}
			// The connection stays usable.
			if got := value(t, c, "SELECT 1"); got != int64(1) {
				t.Errorf("after a converter failure: %v", got)
			}
		})
	}
}

// TestReplacedTimeConverter checks that a user converter for DATETIME replaces the built-in
// one also for the canonical text the built-in one reads without boxing.
func TestReplacedTimeConverter(t *testing.T) {
	c := open(t, ":memory:", sqlitewasm.Config{Converters: map[string]sqlitewasm.Converter{
		"datetime": func(v any) (any, error) { return fmt.Sprint("user:", v), nil },
	}})
	script(t, c, `CREATE TABLE t(a DATETIME, b TIMESTAMP); INSERT INTO t VALUES ('2024-03-05T06:07:08Z', '2024-03-05T06:07:08Z')`)
	row, err := c.QueryRow("SELECT a, b FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Index(0); got != "user:2024-03-05T06:07:08Z" {
		t.Errorf("DATETIME with a user converter = %#v", got)
	}
	if got := row.Index(1); got != time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC) {
		t.Errorf("TIMESTAMP (built-in) = %#v", got)
	}
}

// TestQueryInto reuses one Rows for queries that succeed, fail and return nothing, and for a
// result left unread when the connection closes.
func TestQueryInto(t *testing.T) {
	c, err := sqlitewasm.Open(t.Context(), ":memory:", sqlitewasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	script(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)")
	var r sqlitewasm.Rows
	read := func(sql string, args ...any) ([]any, error) {
		if err := c.QueryInto(&r, sql, args); err != nil {
			return nil, err
		}
		b := messages.NewRowsBuilder(r.Columns(), 0)
		done, err := r.Next(&b, 0)
		if !done || !r.Done() {
			t.Errorf("%s: not done after reading everything", sql)
		}
		var vals []any
		for _, row := range b.Rows() {
			vals = append(vals, row.Values()...)
		}
		return vals, err
	}
	for range 3 { // the same statement, from the cache, each time
		if got, err := read("SELECT x FROM t WHERE x >= ? ORDER BY x", 2); err != nil || !reflect.DeepEqual(got, []any{int64(2), int64(3)}) {
			t.Fatalf("read = %v, %v", got, err)
		}
	}
	if _, err := read("SELECT nope FROM t"); !errors.Is(err, messages.ErrSQL) || !r.Done() {
		t.Errorf("bad SQL = %v, done %v", err, r.Done())
	}
	if _, err := read("SELECT x FROM t WHERE x = ?"); err == nil || !r.Done() {
		t.Errorf("missing argument = %v, done %v", err, r.Done())
	}
	if got, err := read("-- nothing"); err != nil || got != nil {
		t.Errorf("empty SQL = %v, %v", got, err)
	}
	if err := c.QueryInto(&r, "SELECT x FROM t", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	b := messages.NewRowsBuilder(r.Columns(), 0)
	if done, err := r.Next(&b, 0); !done || !errors.Is(err, messages.ErrClosed) {
		t.Errorf("Next after the Conn closed = %v, %v; want done, ErrClosed", done, err)
	}
	r.Close()
}

// TestRowsNextReservesBoundedRoom checks that a chunk sized from a first row holding a large
// blob does not reserve room for a thousand such rows, and that its rows read back intact.
func TestRowsNextReservesBoundedRoom(t *testing.T) {
	c := memConn(t)
	script(t, c, "CREATE TABLE t(b BLOB)")
	big := bytes.Repeat([]byte{7}, 2<<20)
	exec(t, c, "INSERT INTO t VALUES (?)", big)
	for i := range 19 {
		exec(t, c, "INSERT INTO t VALUES (?)", []byte{byte(i)})
	}
	r, err := c.Query("SELECT b FROM t ORDER BY rowid", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b := messages.NewRowsBuilder(r.Columns(), 1)
	done, err := r.Next(&b, 1000)
	runtime.ReadMemStats(&after)
	if err != nil || !done {
		t.Fatalf("Next = %v, %v", done, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("reading 2 MiB and 19 bytes allocated %d MiB", got>>20)
	}
	rows := b.Rows()
	if len(rows) != 20 || !bytes.Equal(rows[0].Index(0).([]byte), big) || !bytes.Equal(rows[19].Index(0).([]byte), []byte{18}) {
		t.Fatalf("read %d rows, not the ones written", len(rows))
	}
}

func TestRowsNext(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(n INTEGER, s TEXT)")
	args := make([][]any, 10)
	for i := range args {
		args[i] = []any{i, fmt.Sprint("row", i)}
	}
	if _, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", args); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		n      int
		chunks []int // rows per call to Next
		dones  []bool
	}{
		{"chunks of 3", 3, []int{3, 3, 3, 1}, []bool{false, false, false, true}},
		{"chunks of 5", 5, []int{5, 5, 0}, []bool{false, false, true}},
		{"chunks of 10", 10, []int{10, 0}, []bool{false, true}},
		{"chunks of 11", 11, []int{10}, []bool{true}},
		{"chunks of 1", 1, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, []bool{false, false, false, false, false, false, false, false, false, false, true}},
		{"all (0)", 0, []int{10}, []bool{true}},
		{"all (-1)", -1, []int{10}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Query("SELECT n, s FROM t ORDER BY n", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			next := 0
			for i, want := range tt.chunks {
				b := messages.NewRowsBuilder(r.Columns(), tt.n)
				done, err := r.Next(&b, tt.n)
				if err != nil {
					t.Fatalf("Next #%d = %v", i, err)
				}
				if done != tt.dones[i] || r.Done() != done {
					t.Errorf("Next #%d: done = %v (Done() %v), want %v", i, done, r.Done(), tt.dones[i])
				}
				rows := b.Rows()
				if len(rows) != want {
					t.Fatalf("Next #%d: %d rows, want %d", i, len(rows), want)
				}
				for _, row := range rows {
					var n int
					var s string
					if err := row.Scan(&n, &s); err != nil {
						t.Fatal(err)
					}
					if n != next || s != fmt.Sprint("row", next) {
						t.Errorf("row (%d, %q), want %d", n, s, next)
					}
					next++
				}
			}
			// After the end, Next reads nothing.
			b := messages.NewRowsBuilder(r.Columns(), 1)
			if done, err := r.Next(&b, 1); !done || err != nil || b.Len() != 0 {
				t.Errorf("Next after the end = %v, %v, %d rows", done, err, b.Len())
			}
		})
	}
}

func TestRowsCloseEarly(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(x)")
	exec(t, c, "INSERT INTO t VALUES (1), (2), (3)")
	for range 5 { // the statement goes back to the cache each time
		r, err := c.Query("SELECT x FROM t", nil)
		if err != nil {
			t.Fatal(err)
		}
		b := messages.NewRowsBuilder(r.Columns(), 1)
		if _, err := r.Next(&b, 1); err != nil {
			t.Fatal(err)
		}
		r.Close()
		r.Close()
		if !r.Done() {
			t.Error("not done after Close")
		}
	}
	// Two result sets of the same SQL at once.
	r1, err := c.Query("SELECT x FROM t ORDER BY x", nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Query("SELECT x FROM t ORDER BY x", nil)
	if err != nil {
		t.Fatal(err)
	}
	b1 := messages.NewRowsBuilder(r1.Columns(), 3)
	b2 := messages.NewRowsBuilder(r2.Columns(), 3)
	r1.Next(&b1, 1)
	r2.Next(&b2, 0)
	r1.Next(&b1, 0)
	if b1.Len() != 3 || b2.Len() != 3 {
		t.Errorf("interleaved result sets read %d and %d rows", b1.Len(), b2.Len())
	}
	r1.Close()
	r2.Close()
}

func TestQueryEmpty(t *testing.T) {
	c := memConn(t)
	for _, q := range []string{"", "   ", "-- only a comment", "/* c */", ";"} {
		r, err := c.Query(q, nil)
		if err != nil {
			t.Fatalf("Query(%q) = %v", q, err)
		}
		if !r.Done() || len(r.Columns()) != 0 {
			t.Errorf("Query(%q): Done %v, Columns %v", q, r.Done(), r.Columns())
		}
		b := messages.NewRowsBuilder(nil, 0)
		if done, err := r.Next(&b, 0); !done || err != nil {
			t.Errorf("Query(%q).Next = %v, %v", q, done, err)
		}
		r.Close()
		if res, err := c.Exec(q, nil); err != nil || res != (messages.Result{}) {
			t.Errorf("Exec(%q) = %v, %v", q, res, err)
		}
		if _, err := c.QueryRow(q, nil); !errors.Is(err, messages.ErrNoRows) {
			t.Errorf("QueryRow(%q) = %v, want ErrNoRows", q, err)
		}
	}
}

func TestQueryRow(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)")
	exec(t, c, "INSERT INTO t(name) VALUES ('a'), ('b')")
	row, err := c.QueryRow("SELECT id, name FROM t ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Values(); !reflect.DeepEqual(got, []any{int64(1), "a"}) {
		t.Errorf("first row = %v", got)
	}
	if name, ok := row.Get("NAME"); !ok || name != "a" {
		t.Errorf("Get(NAME) = %v, %v", name, ok)
	}
	_, err = c.QueryRow("SELECT id FROM t WHERE name = ?", []any{"zzz"})
	if !errors.Is(err, messages.ErrNoRows) {
		t.Errorf("QueryRow with no rows = %v, want ErrNoRows", err)
	}
	_, err = c.QueryRow("SELECT nope FROM t", nil)
	wantSQLiteErr(t, err, messages.ErrSQL)
	// A run-time error in the first step.
	_, err = c.QueryRow("SELECT json_extract('not json', '$')", nil)
	wantSQLiteErr(t, err, messages.ErrSQL)
}

// --- statements ------------------------------------------------------------------------------

func TestMultipleStatements(t *testing.T) {
	tests := []struct {
		name  string
		sql   string
		multi bool
	}{
		{"two statements", "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", true},
		{"two statements, no space", "INSERT INTO t VALUES (1);INSERT INTO t VALUES (2);", true},
		{"second after a comment", "INSERT INTO t VALUES (1); -- c\nINSERT INTO t VALUES (2)", true},
		{"second after an empty statement", "INSERT INTO t VALUES (1); ; INSERT INTO t VALUES (2)", true},
		{"second is invalid", "INSERT INTO t VALUES (1); nonsense", true},
		{"trailing semicolon", "INSERT INTO t VALUES (1);", false},
		{"trailing semicolons", "INSERT INTO t VALUES (1);;", false},
		{"trailing line comment", "INSERT INTO t VALUES (1); -- done", false},
		{"trailing block comment", "INSERT INTO t VALUES (1) /* done */", false},
		{"trailing whitespace", "INSERT INTO t VALUES (1);  \n\t", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := memConn(t)
			exec(t, c, "CREATE TABLE t(x)")
			_, err := c.Exec(tt.sql, nil)
			if tt.multi {
				wantErr(t, err, messages.ErrMultipleStatements)
				if n := count(t, c, "t"); n != 0 {
					t.Errorf("%d rows inserted", n)
				}
				_, err = c.Query(tt.sql, nil)
				wantErr(t, err, messages.ErrMultipleStatements)
				_, err = c.ExecMany(tt.sql, [][]any{nil})
				wantErr(t, err, messages.ErrMultipleStatements)
				// ExecScript runs scripts.
				if err := c.ExecScript(strings.ReplaceAll(tt.sql, "nonsense", "")); err != nil {
					t.Errorf("ExecScript = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exec = %v", err)
			}
			if n := count(t, c, "t"); n != 1 {
				t.Errorf("%d rows inserted, want 1", n)
			}
		})
	}
}

func TestExecResult(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
	res := exec(t, c, "INSERT INTO t(x) VALUES (?), (?), (?)", "a", "b", "c")
	if res != (messages.Result{LastInsertID: 3, RowsAffected: 3}) {
		t.Errorf("insert Result = %+v", res)
	}
	if c.LastInsertID() != 3 || c.Changes() != 3 {
		t.Errorf("LastInsertID %d, Changes %d", c.LastInsertID(), c.Changes())
	}
	res = exec(t, c, "UPDATE t SET x = ? WHERE id >= ?", "z", 2)
	if res.RowsAffected != 2 {
		t.Errorf("update Result = %+v", res)
	}
	res = exec(t, c, "DELETE FROM t")
	if res.RowsAffected != 3 {
		t.Errorf("delete Result = %+v", res)
	}
	if got := c.TotalChanges(); got != 8 {
		t.Errorf("TotalChanges = %d, want 8", got)
	}
	// Exec discards rows.
	if _, err := c.Exec("SELECT * FROM t", nil); err != nil {
		t.Errorf("Exec of a query = %v", err)
	}
}

func TestExecErrors(t *testing.T) {
	c := memConn(t)
	script(t, c, `
		CREATE TABLE p(id INTEGER PRIMARY KEY);
		CREATE TABLE t(id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL DEFAULT 'x', ck INTEGER CHECK (ck > 0), p INTEGER REFERENCES p(id));
		INSERT INTO p VALUES (1);
		INSERT INTO t(id, u) VALUES (1, 'taken');
	`)
	tests := []struct {
		name     string
		sql      string
		args     []any
		class    error
		wantCode int
		wantExt  int
	}{
		{"syntax", "SELEC 1", nil, messages.ErrSQL, 1, 1},
		{"missing table", "SELECT * FROM missing", nil, messages.ErrSQL, 1, 1},
		{"missing column", "SELECT nope FROM t", nil, messages.ErrSQL, 1, 1},
		{"primary key", "INSERT INTO t(id) VALUES (?)", []any{1}, messages.ErrConstraint, 19, 1555},
		{"unique", "INSERT INTO t(u) VALUES (?)", []any{"taken"}, messages.ErrConstraint, 19, 2067},
		{"not null", "INSERT INTO t(nn) VALUES (?)", []any{nil}, messages.ErrConstraint, 19, 1299},
		{"check", "INSERT INTO t(ck) VALUES (?)", []any{0}, messages.ErrConstraint, 19, 275},
		{"foreign key", "INSERT INTO t(p) VALUES (?)", []any{2}, messages.ErrConstraint, 19, 787},
		{"raise abort", "SELECT RAISE(ABORT, 'custom')", nil, messages.ErrSQL, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Exec(tt.sql, tt.args)
			me := wantSQLiteErr(t, err, tt.class)
			if me.Code != tt.wantCode || me.ExtendedCode != tt.wantExt {
				t.Errorf("codes = %d/%d, want %d/%d", me.Code, me.ExtendedCode, tt.wantCode, tt.wantExt)
			}
			if !strings.HasPrefix(err.Error(), "actorlite: ") || strings.Contains(err.Error(), "sqlite3: ") {
				t.Errorf("message %q", err)
			}
			if me.SQL != tt.sql {
				t.Errorf("SQL = %q, want %q", me.SQL, tt.sql)
			}
		})
	}
	if got := count(t, c, "t"); got != 1 {
		t.Errorf("%d rows after failing inserts, want 1", got)
	}
	if err := c.ExecScript("CREATE TABLE x(a); SELEC"); !errors.Is(err, messages.ErrSQL) {
		t.Errorf("ExecScript syntax error = %v", err)
	}
}

func TestExecMany(t *testing.T) {
	newConn := func(t *testing.T) *sqlitewasm.Conn {
		c := memConn(t)
		exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT NOT NULL)")
		return c
	}
	t.Run("commits all", func(t *testing.T) {
		c := newConn(t)
		res, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", [][]any{{1, "a"}, {2, "b"}, {7, "c"}})
		if err != nil {
			t.Fatal(err)
		}
		if res != (messages.Result{LastInsertID: 7, RowsAffected: 3}) {
			t.Errorf("Result = %+v", res)
		}
		if c.InTransaction() {
			t.Error("transaction left open")
		}
		if got := count(t, c, "t"); got != 3 {
			t.Errorf("%d rows", got)
		}
		res, err = c.ExecMany("UPDATE t SET s = ? WHERE id <= ?", [][]any{{"x", 1}, {"y", 7}})
		if err != nil || res.RowsAffected != 4 {
			t.Errorf("update = %+v, %v; want 4 rows affected in all", res, err)
		}
	})
	t.Run("no argument lists", func(t *testing.T) {
		c := newConn(t)
		if _, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", nil); err != nil {
			t.Fatal(err)
		}
		if c.InTransaction() {
			t.Error("transaction left open")
		}
	})
	failures := []struct {
		name    string
		args    [][]any
		failing int
		targets []error
	}{
		{"constraint", [][]any{{1, "a"}, {2, "b"}, {1, "dup"}, {3, "c"}}, 2, []error{messages.ErrConstraint}},
		{"not null", [][]any{{1, "a"}, {2, nil}}, 1, []error{messages.ErrConstraint}},
		{"bad argument", [][]any{{1, "a"}, {2, make(chan int)}}, 1, []error{messages.ErrBadArgument}},
		{"argument count", [][]any{{1, "a"}, {2}}, 1, []error{messages.ErrBadArgument}},
	}
	for _, tt := range failures {
		t.Run(tt.name+" keeps none", func(t *testing.T) {
			c := newConn(t)
			_, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", tt.args)
			wantErr(t, err, tt.targets...)
			if want := fmt.Sprintf("args[%d]", tt.failing); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			if c.InTransaction() {
				t.Error("transaction left open")
			}
			if got := count(t, c, "t"); got != 0 {
				t.Errorf("%d rows kept, want none", got)
			}
		})
		t.Run(tt.name+" in a transaction", func(t *testing.T) {
			c := newConn(t)
			if err := c.Begin(""); err != nil {
				t.Fatal(err)
			}
			exec(t, c, "INSERT INTO t VALUES (100, 'before')")
			_, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", tt.args)
			wantErr(t, err, tt.targets...)
			if !c.InTransaction() {
				t.Fatal("the caller's transaction was ended")
			}
			// The caller decides: the rows before the failing one are there until rollback.
			if got := count(t, c, "t"); got != int64(1+tt.failing) {
				t.Errorf("%d rows in the transaction, want %d", got, 1+tt.failing)
			}
			if err := c.Rollback(); err != nil {
				t.Fatal(err)
			}
			if got := count(t, c, "t"); got != 0 {
				t.Errorf("%d rows after rollback", got)
			}
		})
	}
	t.Run("interrupted keeps none", func(t *testing.T) {
		c := newConn(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		old := c.SetInterrupt(ctx)
		_, err := c.ExecMany("INSERT INTO t VALUES (?, ?)", [][]any{{1, "a"}})
		c.SetInterrupt(old)
		wantErr(t, err, messages.ErrInterrupted)
		if c.InTransaction() {
			t.Error("transaction left open")
		}
		if got := count(t, c, "t"); got != 0 {
			t.Errorf("%d rows kept", got)
		}
	})
}

func TestTransactions(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(x)")
	if c.InTransaction() {
		t.Fatal("in a transaction after open")
	}
	wantErr(t, c.Commit(), messages.ErrNoTransaction)
	wantErr(t, c.Rollback(), messages.ErrNoTransaction)

	if err := c.Begin(""); err != nil {
		t.Fatal(err)
	}
	if !c.InTransaction() {
		t.Fatal("not in a transaction after Begin")
	}
	for _, mode := range []string{"", messages.Deferred, messages.Immediate, "exclusive"} {
		wantErr(t, c.Begin(mode), messages.ErrInTransaction)
	}
	exec(t, c, "INSERT INTO t VALUES (1)")
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.Commit(), messages.ErrNoTransaction)

	if err := c.Begin(messages.Immediate); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t VALUES (2)")
	if err := c.Rollback(); err != nil {
		t.Fatal(err)
	}
	if c.InTransaction() {
		t.Error("in a transaction after Rollback")
	}
	if got := count(t, c, "t"); got != 1 {
		t.Errorf("%d rows, want the committed one", got)
	}

	// Rollback runs even when the interrupt context is done.
	if err := c.Begin(""); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t VALUES (3)")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	old := c.SetInterrupt(ctx)
	err := c.Rollback()
	c.SetInterrupt(old)
	if err != nil {
		t.Fatalf("Rollback under a done ctx = %v", err)
	}
	if c.InTransaction() || count(t, c, "t") != 1 {
		t.Error("Rollback under a done ctx did not roll back")
	}
}

func TestBeginModes(t *testing.T) {
	tests := []struct {
		mode     string
		locks    bool // a second writer cannot begin an immediate transaction
		badInput bool
	}{
		{"", false, false},
		{messages.Deferred, false, false},
		{"deferred", false, false},
		{messages.Immediate, true, false},
		{"Immediate", true, false},
		{messages.Exclusive, true, false},
		{"NOW", false, true},
		{"IMMEDIATE; DROP TABLE t", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			path := tempDB(t)
			c := open(t, path, sqlitewasm.Config{})
			exec(t, c, "CREATE TABLE t(x)")
			other := open(t, path, sqlitewasm.Config{BusyTimeout: -1})
			err := c.Begin(tt.mode)
			if tt.badInput {
				wantErr(t, err, messages.ErrBadArgument)
				if c.InTransaction() {
					t.Error("a bad mode opened a transaction")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = other.Begin(messages.Immediate)
			if tt.locks {
				wantSQLiteErr(t, err, messages.ErrBusy)
			} else if err != nil {
				t.Errorf("second writer blocked by a %q transaction: %v", tt.mode, err)
			} else if err := other.Rollback(); err != nil {
				t.Fatal(err)
			}
			if err := c.Commit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBusy(t *testing.T) {
	path := tempDB(t)
	a := open(t, path, sqlitewasm.Config{})
	b := open(t, path, sqlitewasm.Config{BusyTimeout: -1})
	exec(t, a, "CREATE TABLE t(x)")
	if err := a.Begin(messages.Immediate); err != nil {
		t.Fatal(err)
	}
	exec(t, a, "INSERT INTO t VALUES (1)")
	_, err := b.Exec("INSERT INTO t VALUES (2)", nil)
	wantSQLiteErr(t, err, messages.ErrBusy)
	// WAL: the reader is not blocked, and sees the last commit.
	if got := count(t, b, "t"); got != 0 {
		t.Errorf("reader sees %d uncommitted rows", got)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	exec(t, b, "INSERT INTO t VALUES (2)")
}

// --- functions, backup, interrupt, cache -----------------------------------------------------

func TestCreateFunction(t *testing.T) {
	c := memConn(t)
	when := time.Date(2024, 3, 5, 6, 7, 8, 9, time.FixedZone("+01", 3600))
	tests := []struct {
		name     string
		result   any
		wantType string
		want     any
	}{
		{"nil", nil, "null", nil},
		{"int", 7, "integer", int64(7)},
		{"int32", int32(-7), "integer", int64(-7)},
		{"int64", int64(math.MaxInt64), "integer", int64(math.MaxInt64)},
		{"float64", 2.5, "real", 2.5},
		{"float32", float32(0.25), "real", 0.25},
		{"bool", true, "integer", int64(1)},
		{"string", "s", "text", "s"},
		{"bytes", []byte{9}, "blob", []byte{9}},
		{"json", json.RawMessage(`[1]`), "text", "[1]"},
		{"time", when, "text", "2024-03-05T05:07:08.000000009Z"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("f%d", i)
			if err := c.CreateFunction(name, 0, func([]any) (any, error) { return tt.result, nil }); err != nil {
				t.Fatal(err)
			}
			row, err := c.QueryRow(fmt.Sprintf("SELECT typeof(%[1]s()), %[1]s()", name), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := row.Index(0); got != tt.wantType {
				t.Errorf("typeof = %v, want %v", got, tt.wantType)
			}
			if got := row.Index(1); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %#v, want %#v", got, tt.want)
			}
		})
	}

	t.Run("arguments", func(t *testing.T) {
		var got []any
		err := c.CreateFunction("args", -1, func(args []any) (any, error) {
			got = args
			return len(args), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := value(t, c, "SELECT args(1, 2.5, 'x', x'0102', NULL)"); n != int64(5) {
			t.Errorf("args() = %v", n)
		}
		want := []any{int64(1), 2.5, "x", []byte{1, 2}, nil}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("args = %#v, want %#v", got, want)
		}
		if n := value(t, c, "SELECT args()"); n != int64(0) {
			t.Errorf("args() = %v", n)
		}
	})

	t.Run("fixed arity", func(t *testing.T) {
		if err := c.CreateFunction("plus", 2, func(a []any) (any, error) { return a[0].(int64) + a[1].(int64), nil }); err != nil {
			t.Fatal(err)
		}
		if got := value(t, c, "SELECT plus(?, ?)", 40, 2); got != int64(42) {
			t.Errorf("plus = %v", got)
		}
		_, err := c.Exec("SELECT plus(1)", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("error result", func(t *testing.T) {
		if err := c.CreateFunction("fail", 1, func([]any) (any, error) { return nil, errors.New("custom failure") }); err != nil {
			t.Fatal(err)
		}
		exec(t, c, "CREATE TABLE IF NOT EXISTS ft(x)")
		_, err := c.Exec("INSERT INTO ft VALUES (fail(1))", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
		if !strings.Contains(err.Error(), "custom failure") {
			t.Errorf("error %q lacks the function's message", err)
		}
		if got := count(t, c, "ft"); got != 0 {
			t.Errorf("%d rows inserted", got)
		}
		_, err = c.QueryRow("SELECT fail(1)", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("time out of range", func(t *testing.T) {
		err := c.CreateFunction("far", 0, func([]any) (any, error) { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), nil })
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.QueryRow("SELECT far()", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("unsupported result", func(t *testing.T) {
		if err := c.CreateFunction("bad", 0, func([]any) (any, error) { return struct{}{}, nil }); err != nil {
			t.Fatal(err)
		}
		_, err := c.QueryRow("SELECT bad()", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
		if !strings.Contains(err.Error(), "struct") {
			t.Errorf("error %q does not name the type", err)
		}
	})

	t.Run("remove", func(t *testing.T) {
		if err := c.CreateFunction("gone", 0, func([]any) (any, error) { return 1, nil }); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateFunction("gone", 0, nil); err != nil {
			t.Fatal(err)
		}
		_, err := c.Exec("SELECT gone()", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("bad name", func(t *testing.T) {
		err := c.CreateFunction(strings.Repeat("f", 300), 0, func([]any) (any, error) { return 1, nil })
		if err == nil {
			t.Error("CreateFunction with a 300-byte name succeeded")
		}
		err = c.CreateFunction("arity", -2, func([]any) (any, error) { return 1, nil })
		if err == nil {
			t.Error("CreateFunction with -2 arguments succeeded")
		}
	})
}

func TestBackup(t *testing.T) {
	// overwrite: an older database is at the destination. (SQLite cannot back up into a WAL
	// database of another page size: memdb databases have 8 KiB pages, files 4 KiB.)
	sources := []struct {
		name      string
		dsn       func(t *testing.T) string
		overwrite bool
	}{
		{"file", tempDB, true},
		{"memory", func(*testing.T) string { return ":memory:" }, true},
		{"memdb", memDSN, false},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			c := open(t, src.dsn(t), sqlitewasm.Config{})
			exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)")
			if _, err := c.ExecMany("INSERT INTO t(s) VALUES (?)", [][]any{{"a"}, {"b"}, {"c"}}); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "backup.db")
			if src.overwrite {
				old := open(t, dest, sqlitewasm.Config{})
				exec(t, old, "CREATE TABLE old(x)")
				if err := old.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Backup(dest); err != nil {
				t.Fatalf("Backup = %v", err)
			}
			b := open(t, dest, sqlitewasm.Config{})
			rows := queryAll(t, b, "SELECT s FROM t ORDER BY id")
			var got []string
			for _, r := range rows {
				got = append(got, r.Index(0).(string))
			}
			if strings.Join(got, ",") != "a,b,c" {
				t.Errorf("backup holds %v", got)
			}
			if ok := value(t, b, "PRAGMA integrity_check"); ok != "ok" {
				t.Errorf("integrity_check = %v", ok)
			}
			if _, err := b.Exec("SELECT * FROM old", nil); !errors.Is(err, messages.ErrSQL) {
				t.Errorf("the old database survived the backup: %v", err)
			}
		})
	}
	c := memConn(t)
	// A destination that is not a database is not overwritten.
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	wantSQLiteErr(t, c.Backup(garbage), messages.ErrCorrupt)
	wantErr(t, c.Backup(""), messages.ErrBadArgument)
	wantSQLiteErr(t, c.Backup(filepath.Join(t.TempDir(), "no", "dir.db")), messages.ErrCantOpen)
	wantSQLiteErr(t, c.Backup(t.TempDir()), messages.ErrCantOpen)
}

func TestSetInterrupt(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(x)")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	old := c.SetInterrupt(ctx)
	if old == nil || old.Err() != nil {
		t.Fatalf("initial interrupt context = %v", old)
	}
	_, err := c.QueryRow("SELECT 1", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	_, err = c.Exec("INSERT INTO t VALUES (1)", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	_, err = c.Query("SELECT x FROM t", nil)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if got := c.SetInterrupt(old); got != ctx {
		t.Errorf("SetInterrupt returned %v, want the cancelled ctx", got)
	}
	if got := count(t, c, "t"); got != 0 {
		t.Errorf("%d rows inserted while interrupted", got)
	}
	// nil means Background.
	var none context.Context
	c.SetInterrupt(none)
	if got := value(t, c, "SELECT 2"); got != int64(2) {
		t.Errorf("after SetInterrupt(nil): %v", got)
	}
}

func TestInterruptRunningQuery(t *testing.T) {
	c := memConn(t)
	const countTo = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)
		SELECT count(*) FROM c`
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	old := c.SetInterrupt(ctx)
	start := time.Now()
	_, err := c.QueryRow(countTo, nil)
	elapsed := time.Since(start)
	c.SetInterrupt(old)
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if elapsed > 10*time.Second {
		t.Errorf("interrupt took %v", elapsed)
	}
	// Also while stepping a result set that was opened before the deadline.
	ctx2, cancel2 := context.WithCancel(t.Context())
	old = c.SetInterrupt(ctx2)
	r, err := c.Query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := messages.NewRowsBuilder(r.Columns(), 10)
	if done, err := r.Next(&b, 10); done || err != nil {
		t.Fatalf("Next = %v, %v", done, err)
	}
	cancel2()
	b = messages.NewRowsBuilder(r.Columns(), 10)
	done, err := r.Next(&b, 10)
	c.SetInterrupt(old)
	if !done || !r.Done() {
		t.Error("an interrupted result set is not closed")
	}
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	// The connection works again once the context is restored.
	if got := value(t, c, "SELECT 3"); got != int64(3) {
		t.Errorf("after the interrupt: %v", got)
	}
}

func TestStatementCache(t *testing.T) {
	sizes := []struct {
		name string
		size int
	}{
		{"default", 0},
		{"one", 1},
		{"none", -1},
	}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			c, err := sqlitewasm.Open(t.Context(), ":memory:", sqlitewasm.Config{StmtCache: sz.size})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)", nil); err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				if _, err := c.Exec("INSERT INTO t(s) VALUES (?)", []any{fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
				// Alternate with other statements, to evict from a small cache.
				if _, err := c.QueryRow("SELECT s FROM t WHERE id = ?", []any{i + 1}); err != nil {
					t.Fatal(err)
				}
				if i%10 == 0 {
					if _, err := c.Exec("SELECT count(*) FROM t", nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			// A statement that failed goes back clean.
			for range 3 {
				if _, err := c.Exec("INSERT INTO t(id, s) VALUES (?, ?)", []any{1, "dup"}); !errors.Is(err, messages.ErrConstraint) {
					t.Fatalf("duplicate insert = %v", err)
				}
			}
			// Bindings do not leak from one use to the next.
			for i := range 3 {
				row, err := c.QueryRow("SELECT s FROM t WHERE id = ?", []any{i + 1})
				if err != nil {
					t.Fatal(err)
				}
				if got := row.Index(0); got != fmt.Sprint(i) {
					t.Errorf("row %d = %v", i+1, got)
				}
			}
			row, err := c.QueryRow("SELECT count(*) FROM t", nil)
			if err != nil || row.Index(0) != int64(200) {
				t.Fatalf("count = %v, %v", row, err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
		})
	}
}
