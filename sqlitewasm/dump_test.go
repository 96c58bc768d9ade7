package sqlitewasm_test

import (
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/sqlitewasm"
)

// dumpKinds holds a value of every kind SQLite stores, with the edges of each kind.
var dumpKinds = []struct {
	name string
	v    any    // bound as is
	typ  string // its typeof() in a column without a declared type
}{
	{"NULL", nil, "null"},
	{"0", int64(0), "integer"},
	{"-1", int64(-1), "integer"},
	{"MinInt64", int64(math.MinInt64), "integer"},
	{"MaxInt64", int64(math.MaxInt64), "integer"},
	{"0.0", 0.0, "real"},
	{"-0.0", math.Copysign(0, -1), "real"},
	{"3.0", 3.0, "real"},
	{"0.1", 0.1, "real"},
	{"-2.25e-10", -2.25e-10, "real"},
	{"1e-310 (subnormal)", 1e-310, "real"},
	{"SmallestNonzeroFloat64", math.SmallestNonzeroFloat64, "real"},
	{"MaxFloat64", math.MaxFloat64, "real"},
	{"-MaxFloat64", -math.MaxFloat64, "real"},
	{"+Inf", math.Inf(1), "real"},
	{"-Inf", math.Inf(-1), "real"},
	{"empty text", "", "text"},
	{"a quote", "'", "text"},
	{"two quotes", "''", "text"},
	{"quoted words", `it's "quoted"; -- not a comment`, "text"},
	{"unicode", "ünï ☃ 🙂 \u200b\ufeff", "text"},
	{"control characters", "line1\nline2\r\n\ttab\x01\x1b[0m\x7f", "text"},
	{"number-like text", "12", "text"},
	{"NUL in the middle", "nul\x00after", "text"},
	{"NUL at the start", "\x00start", "text"},
	{"NUL at the end", "end\x00", "text"},
	{"only a NUL", "\x00", "text"},
	{"only NULs", "\x00\x00\x00", "text"},
	{"NUL and a quote", "a'\x00'b", "text"},
	{"number and a NUL", "12\x00", "text"},
	{"invalid UTF-8", "bad \xff\xfe \xc0' \x80 \xed\xa0\x80 end", "text"},
	{"invalid UTF-8 and a NUL", "\xff\x00\xfe", "text"},
	{"empty blob", []byte{}, "blob"},
	{"blob with NULs", []byte{0, 1, 0, 0xff, 0x27, 0}, "blob"},
	{"text-like blob", []byte("it's"), "blob"},
	{"1 MiB blob", bigBlob(1 << 20), "blob"},
}

func bigBlob(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// dumpSchema has every kind of table Dump writes rows of: typed and untyped columns, names
// with quotes and spaces, a WITHOUT ROWID table and an AUTOINCREMENT one.
const dumpSchema = `
CREATE TABLE "kinds of ""value""" (id INTEGER PRIMARY KEY, "the name" TEXT,
	"no type", i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC);
CREATE TABLE "without rowid" ("the name" TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE counter (id INTEGER PRIMARY KEY AUTOINCREMENT, v);
`

// TestDumpRoundTripsEveryValue loads a dump into a fresh database and checks that every value
// comes back with the same type and the same bytes (for reals, the same bits).
func TestDumpRoundTripsEveryValue(t *testing.T) {
	src := memConn(t)
	script(t, src, dumpSchema)
	for _, k := range dumpKinds {
		exec(t, src, `INSERT INTO "kinds of ""value"""("the name", "no type", i, r, t, b, n)
			VALUES (?1, ?2, ?2, ?2, ?2, ?2, ?2)`, k.name, k.v)
		if k.v != nil {
			exec(t, src, `INSERT INTO "without rowid" VALUES (?, ?)`, k.name, k.v)
		}
		exec(t, src, `INSERT INTO counter(v) VALUES (?)`, k.v)
	}
	exec(t, src, `DELETE FROM counter WHERE id = (SELECT max(id) FROM counter)`) // seq > max(id)

	// The source holds what was bound, so that the comparison below compares the edges.
	for _, k := range dumpKinds {
		row := queryAll(t, src, `SELECT typeof("no type"), "no type" FROM "kinds of ""value""" WHERE "the name" = ?`, k.name)[0]
		if got, want := exactValue(row.Index(0).(string), row.Index(1)), exactValue(k.typ, k.v); got != want {
			t.Errorf("%s: the source holds %s, want %s", k.name, got, want)
		}
	}

	var dump strings.Builder
	if err := src.Dump(&dump); err != nil {
		t.Fatal(err)
	}
	text := dump.String()
	if strings.Contains(text, "\x00") {
		t.Error("the dump holds a NUL byte")
	}
	// Ordinary values look as they do in sqlite3's .dump; those it loses, as Dump's doc says.
	for _, want := range []string{
		`INSERT INTO "kinds of ""value"""("id","the name","no type","i","r","t","b","n") VALUES(1,'NULL',NULL,NULL,NULL,NULL,NULL,NULL);`,
		`,'it''s "quoted"; -- not a comment',`, `,-9223372036854775808,`, `,0.1,`, `,9.0e+999,`,
		`,X'000100FF2700',`, `,X'',`, `,'',`,
		`,CAST(X'6E756C006166746572' AS TEXT),`, `,CAST(X'00' AS TEXT),`, `'-0.0',-0.0,`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the dump lacks %s", want)
		}
	}

	fresh := memConn(t)
	if err := fresh.ExecScript(text); err != nil {
		t.Fatalf("loading the dump: %v", err)
	}
	want, got := dumpedValues(t, src), dumpedValues(t, fresh)
	for table, rows := range want {
		if len(got[table]) != len(rows) {
			t.Errorf("%s: %d rows, want %d", table, len(got[table]), len(rows))
			continue
		}
		for i := range rows {
			if got[table][i] != rows[i] {
				t.Errorf("%s row %d:\n got %s\nwant %s", table, i, got[table][i], rows[i])
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("tables %d, want %d", len(got), len(want))
	}
	if v := value(t, fresh, "PRAGMA integrity_check"); v != "ok" {
		t.Errorf("integrity_check = %v", v)
	}
	// A dump of the copy is the same text.
	var again strings.Builder
	if err := fresh.Dump(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != text {
		t.Error("the copy dumps differently")
	}
	// AUTOINCREMENT goes on from the same number.
	for _, c := range []*sqlitewasm.Conn{src, fresh} {
		if id := exec(t, c, `INSERT INTO counter(v) VALUES (1)`).LastInsertID; id != int64(len(dumpKinds)+1) {
			t.Errorf("next AUTOINCREMENT id %d, want %d", id, len(dumpKinds)+1)
		}
	}
}

// dumpedValues reads every row of every table (sqlite_sequence too), each value as its
// typeof() and its exact bytes.
func dumpedValues(t *testing.T, c *sqlitewasm.Conn) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	for _, tr := range queryAll(t, c, `SELECT name FROM sqlite_schema WHERE type = 'table'`) {
		table := tr.Index(0).(string)
		var cols []string
		for _, cr := range queryAll(t, c, `SELECT name FROM pragma_table_info(?)`, table) {
			n := `"` + strings.ReplaceAll(cr.Index(0).(string), `"`, `""`) + `"`
			cols = append(cols, "typeof("+n+"), "+n)
		}
		for _, row := range queryAll(t, c, fmt.Sprintf(`SELECT %s FROM "%s"`,
			strings.Join(cols, ", "), strings.ReplaceAll(table, `"`, `""`))) {
			var vals []string
			for i := 0; i < row.Len(); i += 2 {
				vals = append(vals, exactValue(row.Index(i).(string), row.Index(i+1)))
			}
			out[table] = append(out[table], strings.Join(vals, ", "))
		}
	}
	return out
}

// exactValue renders a value with its SQLite type, so that two renderings are equal only if
// the values are: reals by their bits, text and blobs byte for byte (a large blob by its hash).
func exactValue(typ string, v any) string {
	switch v := v.(type) {
	case float64:
		return fmt.Sprintf("%s %#016x (%g)", typ, math.Float64bits(v), v)
	case string:
		return fmt.Sprintf("%s %q", typ, v)
	case []byte:
		if len(v) > 64 {
			return fmt.Sprintf("%s %d bytes, sha256 %x", typ, len(v), sha256.Sum256(v))
		}
		return fmt.Sprintf("%s x'%x'", typ, v)
	default:
		return fmt.Sprintf("%s %#v", typ, v)
	}
}
