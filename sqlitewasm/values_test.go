package sqlitewasm_test

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

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

func TestNamedArguments(t *testing.T) {
	c := memConn(t)
	exec(t, c, "CREATE TABLE t(a, b, c)")
	tests := []struct {
		name string
		sql  string
		args []any
		want []any
	}{
		{"colon", "INSERT INTO t VALUES (:a, :b, :c)", []any{sql.Named("c", 3), sql.Named("a", 1), sql.Named("b", 2)}, []any{int64(1), int64(2), int64(3)}},
		{"at and dollar", "INSERT INTO t VALUES (@a, $b, @a)", []any{sql.Named("b", "y"), sql.Named("a", "x")}, []any{"x", "y", "x"}},
		{"mixed with positions", "INSERT INTO t VALUES (?, :b, ?3)", []any{1, sql.Named("b", 2), 3}, []any{int64(1), int64(2), int64(3)}},
		{"one name, three prefixes", "INSERT INTO t VALUES (:v, @v, $v)", []any{sql.Named("v", 7)}, []any{int64(7), int64(7), int64(7)}},
		{"values as positional", "INSERT INTO t VALUES (:a, :b, :c)", []any{sql.Named("b", 2), sql.Named("c", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), sql.Named("a", []byte("z"))},
			[]any{[]byte("z"), int64(2), "2024-01-02T03:04:05.000000000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec(t, c, "DELETE FROM t")
			exec(t, c, tt.sql, tt.args...)
			if got := queryAll(t, c, "SELECT a, b, c FROM t")[0].Values(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("bound %#v, want %#v", got, tt.want)
			}
		})
	}
	bad := []struct {
		name string
		sql  string
		args []any
		pos  int
		typ  string
	}{
		{"unknown name", "INSERT INTO t VALUES (:a, :b, :c)", []any{sql.Named("a", 1), sql.Named("b", 2), sql.Named("x", 3)}, 3, "sql.NamedArg"},
		{"a parameter left unbound", "INSERT INTO t VALUES (:a, :b, :c)", []any{sql.Named("a", 1), sql.Named("b", 2)}, 0, ""},
		{"positional beyond the parameters", "INSERT INTO t VALUES (:a, :b, 3)", []any{sql.Named("a", 1), sql.Named("b", 2), 3}, 0, ""},
		{"bad value", "INSERT INTO t VALUES (:b, :a, :c)", []any{sql.Named("a", 1), sql.Named("b", make(chan int)), sql.Named("c", 3)}, 2, "chan int"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			exec(t, c, "DELETE FROM t")
			_, err := c.Exec(tt.sql, tt.args)
			wantArgErr(t, err, tt.pos, tt.typ)
			if got := count(t, c, "t"); got != 0 {
				t.Errorf("%d rows inserted by a failing statement", got)
			}
		})
	}
}
