package sqlitewasm_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// Fuzz targets of package sqlitewasm. Their seeds are the f.Add calls below and the files
// under testdata/fuzz/<FuzzName>/. Run one with
//
//	go test -run='^$' -fuzz='^FuzzBindRoundTrip$' -fuzztime=20s ./sqlitewasm/

// --- values ----------------------------------------------------------------------------------

// The years [messages.TimeLayout] writes in four digits, in Unix seconds.
var (
	minTimeSec = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxTimeSec = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// foldSec maps any int64 onto the Unix seconds of the storable years and a day either side
// of them, so that every input tests a time near or in range; unfoldSec is its inverse.
func foldSec(in int64) int64 {
	span := uint64(maxTimeSec - minTimeSec + 1 + 2*86400)
	return minTimeSec - 86400 + int64(uint64(in)%span)
}

func unfoldSec(sec int64) int64 { return sec - (minTimeSec - 86400) }

// FuzzBindRoundTrip binds values of every kind DESIGN §2 lists as arguments, stores them in
// columns of the matching declared type, reads them back (Conn.QueryRow, Row.Index and
// Row.Scan into the matching Go type) and checks that each comes back as it went in:
//
//   - string: the same bytes, NUL and invalid UTF-8 included, from a TEXT column and from
//     "SELECT ?".
//   - []byte: the same bytes from a BLOB column; an empty non-nil slice comes back empty and
//     non-nil, a nil slice as NULL (nil).
//   - int64: the same integer.
//   - float64: from a REAL column, == the value bound (-0 may come back as 0: SQLite stores an
//     integral real of a REAL column as an integer); from a column with no declared type, the
//     same bits. NaN, which SQLite does not store, binds as NULL: Index gives nil and Scan into
//     *float64 fails with a *messages.ScanError. ±Inf come back as ±Inf.
//   - bool: from a BOOLEAN column (the built-in converter), the same bool; bound as the
//     integer 1 or 0, which "SELECT ?" gives back.
//   - time.Time: a time whose UTC year is 0000-9999 is stored as TimeLayout text in UTC; from
//     a DATETIME column (the built-in converter) it comes back as a time.Time in UTC equal to
//     it as an instant (Equal), and Scan into *string gives that text. A time outside those
//     years is an *messages.ArgError at its position, and nothing is written.
//   - json.RawMessage: the same bytes (any bytes: they are stored as text, not checked) from a
//     column declared "JSON TEXT" (the JSON converter, TEXT affinity); nil binds NULL. A
//     column declared plain "JSON" has NUMERIC affinity in SQLite, so a number written as text
//     there is stored as a number and comes back re-rendered (1.0 as 1): not checked here.
func FuzzBindRoundTrip(f *testing.F) {
	f.Add("hello", []byte("blob"), int64(42), 1.5, true, unfoldSec(1709596800), uint32(123456789), int16(0), []byte(`{"a":1}`), false)
	f.Add("a\x00b", []byte{}, int64(math.MinInt64), math.NaN(), false, unfoldSec(minTimeSec), uint32(0), int16(-720), []byte{}, false)
	f.Add("\xff\xfe", []byte(nil), int64(math.MaxInt64), math.Copysign(0, -1), true, unfoldSec(maxTimeSec), uint32(999999999), int16(840), []byte(nil), true)
	f.Add("", []byte{0}, int64(-1), math.Inf(1), false, unfoldSec(maxTimeSec+1), uint32(0), int16(0), []byte("not json"), false)
	f.Add("'; DROP TABLE t; --", []byte("\x00\x00"), int64(0), math.Inf(-1), true, unfoldSec(minTimeSec-1), uint32(1), int16(-1), []byte(`"\u0000"`), false)
	f.Add("2024-03-05T06:07:08Z", []byte("x"), int64(1), math.SmallestNonzeroFloat64, false, unfoldSec(0), uint32(5e8), int16(60), []byte(`1.0`), false)
	f.Add("12", []byte("12"), int64(12), math.MaxFloat64, true, unfoldSec(-1), uint32(4e9), int16(30000), []byte(`null`), false)
	f.Add("x", []byte("x"), int64(0), 0.0, false, unfoldSec(maxTimeSec+1), uint32(0), int16(-60), []byte(nil), true) // local 9999, UTC 10000

	c, err := sqlitewasm.Open(f.Context(), ":memory:", sqlitewasm.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	if err := c.ExecScript(`CREATE TABLE t(s TEXT, b BLOB, i INTEGER, f REAL, fb, flag BOOLEAN, ts DATETIME, j JSON TEXT)`); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, s string, b []byte, i int64, fl float64, flag bool, sec int64, nsec uint32, offMin int16, j []byte, nilJSON bool) {
		if _, err := c.Exec("DELETE FROM t", nil); err != nil {
			t.Fatal(err)
		}
		raw := json.RawMessage(j)
		if nilJSON {
			raw = nil
		}
		_, err := c.Exec("INSERT INTO t(s, b, i, f, fb, flag, j) VALUES (?, ?, ?, ?, ?, ?, ?)", []any{s, b, i, fl, fl, flag, raw})
		if err != nil {
			t.Fatalf("INSERT: %v", err)
		}
		row := func(col string) messages.Row {
			t.Helper()
			r, err := c.QueryRow("SELECT "+col+" FROM t", nil)
			if err != nil {
				t.Fatalf("SELECT %s: %v", col, err)
			}
			return r
		}
		selectArg := func(arg any) any {
			t.Helper()
			r, err := c.QueryRow("SELECT ?", []any{arg})
			if err != nil {
				t.Fatalf("SELECT ? with %#v: %v", arg, err)
			}
			return r.Index(0)
		}

		// string
		if got := row("s").Index(0); got != s {
			t.Errorf("text: Index = %q, want %q", got, s)
		}
		var gs string
		if err := row("s").Scan(&gs); err != nil || gs != s {
			t.Errorf("text: Scan = %q, %v; want %q", gs, err, s)
		}
		if got := selectArg(s); got != s {
			t.Errorf("SELECT ?: %q, want %q", got, s)
		}

		// []byte
		checkBytes := func(what string, got []byte) {
			t.Helper()
			if !bytes.Equal(got, b) || (got == nil) != (b == nil) {
				t.Errorf("%s: %#v, want %#v", what, got, b)
			}
		}
		if got := row("b").Index(0); got == nil {
			checkBytes("blob: Index", nil)
		} else if gb, ok := got.([]byte); !ok {
			t.Errorf("blob: Index = %#v, want []byte", got)
		} else {
			checkBytes("blob: Index", gb)
		}
		var gb []byte
		if err := row("b").Scan(&gb); err != nil {
			t.Errorf("blob: Scan: %v", err)
		}
		checkBytes("blob: Scan", gb)

		// int64
		if got := row("i").Index(0); got != i {
			t.Errorf("integer: Index = %#v, want %d", got, i)
		}
		var gi int64
		if err := row("i").Scan(&gi); err != nil || gi != i {
			t.Errorf("integer: Scan = %d, %v; want %d", gi, err, i)
		}

		// float64
		var gf float64
		if math.IsNaN(fl) {
			for _, col := range []string{"f", "fb"} {
				if got := row(col).Index(0); got != nil {
					t.Errorf("NaN in %s: Index = %#v, want nil (NULL)", col, got)
				}
				if err := row(col).Scan(&gf); !errors.Is(err, messages.ErrScan) {
					t.Errorf("NaN in %s: Scan into *float64 = %v, want a ScanError", col, err)
				}
			}
			if got := selectArg(fl); got != nil {
				t.Errorf("SELECT ? with NaN = %#v, want nil", got)
			}
		} else {
			if got, ok := row("f").Index(0).(float64); !ok || got != fl {
				t.Errorf("real: Index = %#v, want %v", row("f").Index(0), fl)
			}
			if err := row("f").Scan(&gf); err != nil || gf != fl {
				t.Errorf("real: Scan = %v, %v; want %v", gf, err, fl)
			}
			if got, ok := row("fb").Index(0).(float64); !ok || math.Float64bits(got) != math.Float64bits(fl) {
				t.Errorf("real in an untyped column: Index = %#v, want the bits of %v", row("fb").Index(0), fl)
			}
			if got, ok := selectArg(fl).(float64); !ok || math.Float64bits(got) != math.Float64bits(fl) {
				t.Errorf("SELECT ? = %#v, want the bits of %v", selectArg(fl), fl)
			}
		}

		// bool
		if got := row("flag").Index(0); got != flag {
			t.Errorf("BOOLEAN: Index = %#v, want %v", got, flag)
		}
		var gbool bool
		if err := row("flag").Scan(&gbool); err != nil || gbool != flag {
			t.Errorf("BOOLEAN: Scan = %v, %v; want %v", gbool, err, flag)
		}
		var want01 int64
		if flag {
			want01 = 1
		}
		if got := selectArg(flag); got != want01 {
			t.Errorf("SELECT ? with %v = %#v, want %d", flag, got, want01)
		}

		// json.RawMessage
		if got := row("j").Index(0); raw == nil {
			if got != nil {
				t.Errorf("nil JSON: Index = %#v, want nil", got)
			}
		} else if gj, ok := got.(json.RawMessage); !ok || !bytes.Equal(gj, raw) {
			t.Errorf("JSON: Index = %#v, want json.RawMessage(%q)", got, raw)
		}
		var gj json.RawMessage
		if err := row("j").Scan(&gj); err != nil || !bytes.Equal(gj, raw) || (gj == nil) != (raw == nil) {
			t.Errorf("JSON: Scan = %q, %v; want %q", gj, err, raw)
		}

		// time.Time
		sec = foldSec(sec)
		zone := time.FixedZone("", int(offMin%(24*60))*60)
		when := time.Unix(sec, int64(nsec%1e9)).In(zone)
		_, err = c.Exec("UPDATE t SET ts = ?", []any{when})
		if y := when.UTC().Year(); y < 0 || y > 9999 {
			var ae *messages.ArgError
			if !errors.As(err, &ae) || ae.Pos != 1 {
				t.Fatalf("UPDATE with %v (UTC year %d) = %v, want an ArgError at 1", when, y, err)
			}
			if got := row("ts").Index(0); got != nil {
				t.Errorf("the rejected time was written: %#v", got)
			}
			return
		}
		if err != nil {
			t.Fatalf("UPDATE with %v: %v", when, err)
		}
		got, ok := row("ts").Index(0).(time.Time)
		if !ok || !got.Equal(when) || got.Location() != time.UTC {
			t.Errorf("DATETIME: Index = %#v, want %v in UTC", row("ts").Index(0), when)
		}
		var gt time.Time
		if err := row("ts").Scan(&gt); err != nil || !gt.Equal(when) {
			t.Errorf("DATETIME: Scan = %v, %v; want %v", gt, err, when)
		}
		text := when.UTC().Format(messages.TimeLayout)
		if err := row("ts").Scan(&gs); err != nil || gs != text {
			t.Errorf("DATETIME: Scan into *string = %q, %v; want %q", gs, err, text)
		}
		if got := selectArg(when); got != text {
			t.Errorf("SELECT ? with %v = %#v, want %q", when, got, text)
		}
	})
}

// --- converters ------------------------------------------------------------------------------

// FuzzConverters stores an arbitrary value of each storage class (text, integer, real, blob)
// in columns declared DATETIME, TIMESTAMP, BOOLEAN and JSON (NUMERIC affinity, as SQLite
// gives those names: a number written as text may be stored as a number), in columns with the
// same converters and BLOB affinity ("DATETIME BLOB": the value is stored as bound), and in a
// column whose user converter panics or fails on some values. It checks that reading each
// never panics and gives either the documented type (time.Time, bool, json.RawMessage; NULL
// stays nil) or an error wrapping [messages.ErrConvert]; that a time read from a number is
// the instant that number names (Unix seconds for an integer, a Julian day for a real), not
// one an overflow made up; that each value scans into every destination Row.Scan takes
// without a panic; and that after a converter's failure the connection (and the statement it
// failed in) still works.
func FuzzConverters(f *testing.F) {
	f.Add("2024-03-05T06:07:08Z", int64(1700000000), 2460374.5, []byte("2024-03-05"), uint8(0))
	f.Add("true", int64(0), 0.0, []byte("1"), uint8(1))
	f.Add(" Yes ", int64(-1), math.Inf(1), []byte{}, uint8(2))
	f.Add(`{"a":[1,2]}`, int64(math.MaxInt64), math.Inf(-1), []byte(`[1]`), uint8(3))
	f.Add("12", int64(math.MinInt64), 1e300, []byte{0xff}, uint8(4))
	f.Add("2451545.0", int64(253402300799), -1e300, []byte("2024-03-05 06:07:08.123"), uint8(5))
	f.Add("2024-02-30", int64(-62167219200), 5373484.5, []byte("\x00"), uint8(6))
	f.Add("", int64(9223372036854775807-62135596800), 1721059.5, []byte(nil), uint8(7))
	f.Add("1e400", int64(1), math.NaN(), []byte("2024-03-05T06:07:08+25:00"), uint8(8))

	// The user converter for declared type FAILS: mode (set per input) says how it fails.
	var mode atomic.Int32
	userConv := func(v any) (any, error) {
		switch mode.Load() % 8 {
		case 1:
			panic("boom")
		case 2:
			panic(fmt.Errorf("an error value: %v", v))
		case 3:
			panic(nil)
		case 4:
			_ = []int{}[len(fmt.Sprint(v))] // a runtime error: index out of range
		case 5:
			return nil, errors.New("refused")
		case 6:
			return make(chan int), nil // any type is a converter's right
		}
		return v, nil
	}
	c, err := sqlitewasm.Open(f.Context(), ":memory:", sqlitewasm.Config{
		Converters: map[string]sqlitewasm.Converter{"FAILS": userConv},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	cols := []string{"d", "ts", "b", "j", "db", "tsb", "bb", "jb", "u"}
	if err := c.ExecScript(`CREATE TABLE t(d DATETIME, ts TIMESTAMP, b BOOLEAN, j JSON,
		db DATETIME BLOB, tsb TIMESTAMP BLOB, bb BOOLEAN BLOB, jb JSON BLOB, u FAILS)`); err != nil {
		f.Fatal(err)
	}
	insert := "INSERT INTO t VALUES (" + strings.Repeat("?, ", len(cols)-1) + "?)"

	f.Fuzz(func(t *testing.T, s string, i int64, fl float64, b []byte, m uint8) {
		mode.Store(0)
		if _, err := c.Exec("DELETE FROM t", nil); err != nil {
			t.Fatal(err)
		}
		for _, v := range []any{s, i, fl, b} {
			args := make([]any, len(cols))
			for k := range args {
				args[k] = v
			}
			if _, err := c.Exec(insert, args); err != nil {
				t.Fatalf("INSERT %#v: %v", v, err)
			}
		}
		for _, col := range cols {
			for rowid := int64(1); rowid <= 4; rowid++ {
				if col == "u" {
					mode.Store(int32(m) + int32(rowid))
				}
				checkConverted(t, c, col, rowid, int(mode.Load()%8))
			}
			mode.Store(0)
		}
		// The connection works after whatever failed, and so does a statement that failed.
		if r, err := c.QueryRow("SELECT u FROM t WHERE rowid = 1", nil); err != nil || r.Len() != 1 {
			t.Fatalf("after the converters ran: %v, %v", r, err)
		}
		if c.InTransaction() {
			t.Fatal("a converter's failure left a transaction open")
		}
	})
}

// checkConverted reads column col of row rowid through its converter and checks it against
// the stored value, read without a converter ("+col" has no declared type).
func checkConverted(t *testing.T, c *sqlitewasm.Conn, col string, rowid int64, userMode int) {
	t.Helper()
	rawRow, err := c.QueryRow("SELECT +"+col+" FROM t WHERE rowid = ?", []any{rowid})
	if err != nil {
		t.Fatalf("SELECT +%s: %v", col, err)
	}
	raw := rawRow.Index(0)
	row, err := c.QueryRow("SELECT "+col+" FROM t WHERE rowid = ?", []any{rowid})
	what := fmt.Sprintf("%s holding %T %#v", col, raw, raw)
	if err != nil {
		var me *messages.Error
		if !errors.Is(err, messages.ErrConvert) || errors.As(err, &me) {
			t.Fatalf("%s: %v (%T), want an error wrapping ErrConvert", what, err, err)
		}
		if raw == nil {
			t.Errorf("%s: NULL failed conversion: %v", what, err)
		}
		if col == "u" && userMode != 1 && userMode != 2 && userMode != 3 && userMode != 4 && userMode != 5 {
			t.Errorf("%s: the user converter did not fail (mode %d), yet: %v", what, userMode, err)
		}
		return
	}
	if col == "u" && raw != nil && userMode >= 1 && userMode <= 5 {
		t.Errorf("%s: the user converter failed (mode %d), yet the query did not", what, userMode)
	}
	got := row.Index(0)
	scanEvery(t, row, what)
	if raw == nil {
		if got != nil {
			t.Errorf("%s: NULL converted to %#v", what, got)
		}
		return
	}
	switch col {
	case "d", "ts", "db", "tsb":
		tm, ok := got.(time.Time)
		if !ok {
			t.Fatalf("%s: %#v, want a time.Time", what, got)
		}
		checkTime(t, what, raw, tm)
	case "b", "bb":
		v, ok := got.(bool)
		if !ok {
			t.Fatalf("%s: %#v, want a bool", what, got)
		}
		switch r := raw.(type) {
		case int64:
			if v != (r != 0) {
				t.Errorf("%s: %v", what, v)
			}
		case float64:
			if v != (r != 0) {
				t.Errorf("%s: %v", what, v)
			}
		case []byte:
			t.Errorf("%s: a blob read as %v", what, v)
		}
	case "j", "jb":
		v, ok := got.(json.RawMessage)
		if !ok {
			t.Fatalf("%s: %#v, want a json.RawMessage", what, got)
		}
		switch r := raw.(type) {
		case string:
			if string(v) != r {
				t.Errorf("%s: %q", what, v)
			}
		case []byte:
			if !bytes.Equal(v, r) {
				t.Errorf("%s: %q", what, v)
			}
		case int64:
			if string(v) != strconv.FormatInt(r, 10) {
				t.Errorf("%s: %q", what, v)
			}
		case float64:
			var back float64
			if err := json.Unmarshal(v, &back); err != nil || back != r {
				t.Errorf("%s: %q (%v), not the number", what, v, err)
			}
		}
	case "u":
		if userMode == 6 {
			if _, ok := got.(chan int); !ok {
				t.Errorf("%s: %#v, want the converter's chan int", what, got)
			}
		} else if !reflect.DeepEqual(got, raw) {
			t.Errorf("%s: %#v, want it unchanged", what, got)
		}
	}
}

// checkTime checks a time the DATETIME converter read from raw.
func checkTime(t *testing.T, what string, raw any, tm time.Time) {
	t.Helper()
	switch r := raw.(type) {
	case string:
		want, err := messages.ParseTime(r)
		if err != nil || !tm.Equal(want) {
			t.Errorf("%s: %v; ParseTime gives %v, %v", what, tm, want, err)
		}
	case []byte:
		want, err := messages.ParseTime(string(r))
		if err != nil || !tm.Equal(want) {
			t.Errorf("%s: %v; ParseTime gives %v, %v", what, tm, want, err)
		}
	case int64: // Unix seconds; Unix() undoes an overflow, so the sign is checked too
		if tm.Unix() != r || tm.Nanosecond() != 0 || tm.Before(time.Unix(0, 0)) != (r < 0) {
			t.Errorf("%s: %v (Unix %d), not that instant", what, tm, tm.Unix())
		}
	case float64: // a Julian day
		jd := float64(tm.Unix())/86400 + 2440587.5 + float64(tm.Nanosecond())/86400e9
		if math.IsNaN(r) || math.IsInf(r, 0) || math.Abs(jd-r) > 1e-6+1e-12*math.Abs(r) {
			t.Errorf("%s: %v (Julian day %v), not that instant", what, tm, jd)
		}
	}
}

// scanEvery scans the row's one value into every kind of destination Row.Scan takes: each
// either works or fails with a *messages.ScanError, never a panic.
func scanEvery(t *testing.T, row messages.Row, what string) {
	t.Helper()
	dests := []any{
		new(any), new(string), new([]byte), new(json.RawMessage), new(int64), new(int),
		new(float64), new(bool), new(time.Time), new(sql.NullString), new(sql.NullInt64),
		new(sql.NullFloat64), new(sql.NullBool), new(sql.NullTime), new(sql.RawBytes),
	}
	for _, d := range dests {
		if err := row.Scan(d); err != nil {
			var se *messages.ScanError
			if !errors.As(err, &se) || !errors.Is(err, messages.ErrScan) {
				t.Errorf("%s: Scan into %T = %v (%T), want nil or a *messages.ScanError", what, d, err, err)
			}
		}
	}
	_ = row.String()
	_ = row.Map()
}

// --- opening ---------------------------------------------------------------------------------

// FuzzOpenOptions opens databases with arbitrary DSNs (kept in the test's temporary directory
// or in memory), pragmas, synchronous modes, extension names, busy timeouts and read-only
// flags, and checks that Open either succeeds or returns a typed error (a *messages.Error, a
// *messages.ArgError, or one of the messages sentinels) with a nil Conn, and never half
// applies a configuration:
//
//   - The fuzzed pragma sits between two marker pragmas that the database file keeps
//     (application_id before it, user_version after it), with markers new on every input.
//     When Open succeeds, both markers took effect, and synchronous is what was asked.
//   - When Open rejects an option (an ArgError), nothing ran: the file holds no marker.
//   - A configuration Open accepts always parses: no error is an SQL syntax error.
//
// DSN forms, by kind: a plain path in the temporary directory; a "file:" URI of such a path
// with a fuzzed query; ":memory:"; a "file:" URI with a fuzzed query ending in mode=memory;
// a shared memdb database (file:/name?vfs=memdb, a few fixed names, which live as long as
// the process); a private memdb database. The fuzzed query has '%', '#' and NUL made
// harmless, and any "vfs" renamed, so that it cannot name another file or VFS.
func FuzzOpenOptions(f *testing.F) {
	f.Add(uint8(0), "test.db", "", "cache_size", "-1000", "", "", int16(0), false)
	f.Add(uint8(1), "a.db", "cache=shared&psow=1", "main.journal_mode", "'delete'", "full", "", int16(100), false)
	f.Add(uint8(2), "", "", "cache_size", "100 --", "", "", int16(0), false)
	f.Add(uint8(3), "m", "x=1", "query_only", "ON", "OFF --", "", int16(-1), false)
	f.Add(uint8(4), "shared", "", "foreign_keys", "OFF", "EXTRA", "rtree", int16(0), false)
	f.Add(uint8(5), "private", "", "select", "NULL", "3", "nosuch", int16(0), false)
	f.Add(uint8(1), "ro.db", "mode=ro", "user_version", "'7'", "", "", int16(0), true)
	f.Add(uint8(0), "..", "", "application_id", "0x7fffffff", "NORMAL /*", "FTS5", int16(0), false)
	f.Add(uint8(1), "q.db", "immutable=1&nolock=1", "locking_mode", "EXCLUSIVE", "", "", int16(0), false)
	f.Add(uint8(3), "m2", "mode=rwc&vfs=memdb", "journal_mode", "'wal''", "1", "", int16(0), false)
	f.Add(uint8(0), "x.db", "", "cache_size", "+5", "", "", int16(0), false)

	var seq atomic.Int32
	f.Fuzz(func(t *testing.T, kind uint8, name, query, pName, pValue, sync, ext string, busyMS int16, readOnly bool) {
		dir := t.TempDir()
		name = safeName(name)
		query = safeQuery(query)
		var dsn, file string
		switch kind % 6 {
		case 0:
			file = filepath.Join(dir, name)
			dsn = file
		case 1:
			file = filepath.Join(dir, name)
			dsn = "file:" + file + "?" + query
		case 2:
			dsn = ":memory:"
		case 3:
			dsn = "file:" + filepath.Join(dir, "m") + "?" + query + "&mode=memory"
		case 4:
			dsn = fmt.Sprintf("file:/fuzz-open-%d?vfs=memdb&%s", len(name)%3, query)
		case 5:
			dsn = "file:fuzz-open-" + name + "?vfs=memdb&" + query
		}
		n := seq.Add(1)
		appID, userVersion := 1_000_000+n, 2_000_000+n
		cfg := sqlitewasm.Config{
			ReadOnly:    readOnly,
			BusyTimeout: time.Duration(busyMS) * time.Millisecond,
			Synchronous: sync,
			Pragmas: [][2]string{
				{"application_id", strconv.Itoa(int(appID))},
				{pName, pValue},
				{"user_version", strconv.Itoa(int(userVersion))},
			},
		}
		if ext != "" {
			cfg.Extensions = []string{ext}
		}
		c, err := sqlitewasm.Open(t.Context(), dsn, cfg)
		if err != nil {
			if c != nil {
				t.Errorf("Open(%q) returned a Conn with its error %v", dsn, err)
			}
			checkOpenErr(t, dsn, cfg, err)
			var ae *messages.ArgError
			if errors.As(err, &ae) && file != "" {
				if _, serr := os.Stat(file); serr == nil {
					r, rerr := sqlitewasm.Open(t.Context(), file, sqlitewasm.Config{ReadOnly: true})
					if rerr == nil {
						if row, qerr := r.QueryRow("PRAGMA application_id", nil); qerr == nil && row.Index(0) == int64(appID) {
							t.Errorf("Open(%q) rejected %v, yet the pragma before the rejected one was applied", dsn, cfg)
						}
						r.Close()
					}
				}
			}
			return
		}
		defer c.Close()
		last := strings.ToLower(pName[strings.LastIndexByte(pName, '.')+1:])
		read := func(pragma string) any {
			t.Helper()
			row, err := c.QueryRow("PRAGMA "+pragma, nil)
			if err != nil {
				t.Fatalf("Open(%q) with %v succeeded, then PRAGMA %s = %v", dsn, cfg, pragma, err)
			}
			return row.Index(0)
		}
		if got := read("user_version"); got != int64(userVersion) {
			t.Errorf("Open(%q) with %v succeeded, but user_version (set last) = %v, want %d", dsn, cfg, got, userVersion)
		}
		if last != "application_id" {
			if got := read("application_id"); got != int64(appID) {
				t.Errorf("Open(%q) with %v succeeded, but application_id (set first) = %v, want %d", dsn, cfg, got, appID)
			}
		}
		if last != "synchronous" {
			want := map[string]int64{"": 1, "OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3, "0": 0, "1": 1, "2": 2, "3": 3}
			if w, ok := want[strings.ToUpper(strings.Trim(sync, " \t\n\f\r"))]; !ok {
				t.Errorf("Open accepted synchronous mode %q", sync)
			} else if got := read("synchronous"); got != w {
				t.Errorf("Open(%q) with %v: synchronous = %v, want %d", dsn, cfg, got, w)
			}
		}
	})
}

// checkOpenErr checks that an error of Open is typed, and that a configuration Open accepted
// did not fail to parse.
func checkOpenErr(t *testing.T, dsn string, cfg sqlitewasm.Config, err error) {
	t.Helper()
	var me *messages.Error
	var ae *messages.ArgError
	switch {
	case errors.As(err, &ae):
		return
	case errors.As(err, &me):
		if strings.Contains(me.Message, "syntax error") || strings.Contains(me.Message, "unrecognized token") {
			t.Errorf("Open(%q) with %v: an accepted configuration did not parse: %v", dsn, cfg, err)
		}
		return
	}
	for _, sentinel := range []error{messages.ErrBadArgument, messages.ErrCantOpen, messages.ErrBusy,
		messages.ErrReadOnly, messages.ErrCorrupt, messages.ErrInterrupted, messages.ErrSQL, messages.ErrClosed} {
		if errors.Is(err, sentinel) {
			return
		}
	}
	t.Errorf("Open(%q) with %v: untyped error %v (%T)", dsn, cfg, err, err)
}

var unsafeNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// safeName makes s a file name for a database in the test's directory: no separator, no
// character a URI gives a meaning to, not "." or "..", at most 64 bytes.
func safeName(s string) string {
	s = unsafeNameChars.ReplaceAllString(s, "_")
	if len(s) > 64 {
		s = s[:64]
	}
	if strings.Trim(s, ".") == "" {
		s = "db" + s
	}
	return s
}

var vfsParam = regexp.MustCompile(`(?i)vfs`)

// safeQuery makes s a URI query that cannot move the database out of the test's directory
// or memory: no escapes (which could spell vfs), no fragment, no NUL, no vfs parameter.
func safeQuery(s string) string {
	s = strings.NewReplacer("%", "_", "#", "_", "\x00", "_").Replace(s)
	return vfsParam.ReplaceAllString(s, "xfs")
}
