package actors_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

func TestBackup(t *testing.T) {
	ctx := t.Context()
	s, c := newConnSup(t)
	seed(t, c, 500)
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := c.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "DELETE FROM t") // the backup is a copy, not a view
	b, err := s.Open(ctx, dest, actors.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	row, err := b.QueryRow(ctx, "SELECT count(*), sum(x) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Values(); !reflect.DeepEqual(got, []any{int64(500), int64(500 * 501 / 2)}) {
		t.Errorf("backup holds %v", got)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// A destination that cannot be written is an error, and the connection goes on.
	err = c.Backup(ctx, filepath.Join(t.TempDir(), "missing", "backup.db"))
	if !errors.Is(err, messages.ErrCantOpen) {
		t.Errorf("backup to a missing directory: err = %v, want ErrCantOpen", err)
	}
	if n := count(t, c, "t"); n != 0 {
		t.Errorf("count = %d, want 0", n)
	}
}

// dumpSetup is a database that exercises Dump: awkward values and names, an index, a trigger,
// a view, AUTOINCREMENT, a generated column and a WITHOUT ROWID table.
const dumpSetup = `
CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, price REAL, data BLOB, note TEXT);
INSERT INTO items (name, price, data, note) VALUES
	('plain', 1.5, x'00ff10', NULL),
	('it''s "quoted"', 0.1, NULL, 'line1
line2'),
	('unicode ☃', -2.25e-10, x'', ''),
	('big', 1e300, zeroblob(3), 'x'),
	('third', 0.30000000000000004, NULL, NULL);
DELETE FROM items WHERE name = 'big';
CREATE TABLE "odd ""name""" ("a b" INTEGER, "c""d" TEXT, total INTEGER GENERATED ALWAYS AS ("a b" * 2) VIRTUAL);
INSERT INTO "odd ""name""" VALUES (1, 'one'), (NULL, NULL), (9223372036854775807, 'max');
CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID;
INSERT INTO kv VALUES ('a', 1), ('b', 2.5), ('c', 'text'), ('d', x'01'), ('e', NULL), ('f', 'nul' || char(0) || 'after');
CREATE TABLE log (item_id INTEGER, what TEXT);
CREATE INDEX items_name ON items (name);
CREATE UNIQUE INDEX items_price ON items (price) WHERE price IS NOT NULL;
CREATE TRIGGER items_log AFTER INSERT ON items BEGIN INSERT INTO log VALUES (new.id, 'insert ' || new.name); END;
CREATE VIEW cheap AS SELECT name FROM items WHERE price < 1;
INSERT INTO items (name, price) VALUES ('after trigger', 7);
`

// schemaOf returns sqlite_schema, ordered.
func schemaOf(t testing.TB, c *actors.Conn) [][]any {
	return queryValues(t, c, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
}

func tableRowsOf(t testing.TB, c *actors.Conn) map[string][][]any {
	out := make(map[string][][]any)
	for _, q := range []string{
		`SELECT * FROM items ORDER BY id`,
		`SELECT *, total FROM "odd ""name""" ORDER BY rowid`,
		`SELECT k, v, typeof(v) FROM kv ORDER BY k`,
		`SELECT * FROM log ORDER BY rowid`,
		`SELECT * FROM cheap ORDER BY name`,
		`SELECT name, seq FROM sqlite_sequence`,
		`SELECT typeof(price), typeof(data), typeof(note) FROM items ORDER BY id`,
	} {
		out[q] = queryValues(t, c, q)
	}
	return out
}

func TestDumpRoundTrip(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	execScript(t, c, dumpSetup)
	var dump strings.Builder
	if err := c.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	t.Logf("dump:\n%s", dump.String())

	fresh, err := s.Open(ctx, filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.ExecScript(ctx, dump.String()); err != nil {
		t.Fatalf("loading the dump: %v", err)
	}
	if got, want := schemaOf(t, fresh), schemaOf(t, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("schema differs:\n got %v\nwant %v", got, want)
	}
	if got, want := tableRowsOf(t, fresh), tableRowsOf(t, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows differ:\n got %v\nwant %v", got, want)
	}
	// The trigger and the index work in the copy.
	exec(t, fresh, "INSERT INTO items (name, price) VALUES ('new', 3)")
	if v := queryValue(t, fresh, "SELECT what FROM log ORDER BY rowid DESC LIMIT 1"); v != "insert new" {
		t.Fatalf("trigger in the copy: %v", v)
	}
	if _, err := fresh.Exec(ctx, "INSERT INTO items (name, price) VALUES ('dup', 3)"); !errors.Is(err, messages.ErrConstraint) {
		t.Fatalf("unique index in the copy: %v", err)
	}
	if v := queryValue(t, fresh, "PRAGMA integrity_check"); v != "ok" {
		t.Fatalf("integrity: %v", v)
	}
	// A dump of the copy is the same text.
	var again strings.Builder
	exec(t, fresh, "DELETE FROM items WHERE name = 'new'")
	exec(t, fresh, "DELETE FROM log WHERE what = 'insert new'")
	exec(t, fresh, "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence) - 1")
	if err := fresh.Dump(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != dump.String() {
		t.Fatalf("the copy dumps differently:\n%s", again.String())
	}
}

func TestDumpEmptyAndInTransaction(t *testing.T) {
	_, c := newBoomConn(t)
	ctx := testCtx(t)
	var empty strings.Builder
	if err := c.Dump(ctx, &empty); err != nil {
		t.Fatal(err)
	}
	if want := "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCOMMIT;\n"; empty.String() != want {
		t.Fatalf("empty dump %q, want %q", empty.String(), want)
	}
	// Inside a transaction, the dump sees its changes and leaves it open.
	exec(t, c, "CREATE TABLE t (x)")
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "INSERT INTO t VALUES (42)")
	var in strings.Builder
	if err := c.Dump(ctx, &in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(in.String(), `INSERT INTO "t"("x") VALUES(42);`) {
		t.Fatalf("dump in a transaction misses its row:\n%s", in.String())
	}
	if in, err := c.InTransaction(ctx); !in || err != nil {
		t.Fatalf("after dump: in transaction %v, %v", in, err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, "SELECT count(*) FROM t"); v != int64(0) {
		t.Fatal(v)
	}
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

var errWriterFull = errors.New("writer full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errWriterFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestDumpErrors(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	// Enough rows for several chunks.
	execScript(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT);
		WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20000)
		INSERT INTO t (s) SELECT printf('row %08d padding padding padding', i) FROM r`)
	for range 20 {
		err := c.Dump(ctx, &failingWriter{n: 100 << 10})
		if !errors.Is(err, errWriterFull) {
			t.Fatalf("dump to a failing writer: %v", err)
		}
	}
	// The connection is fine, and not left in a transaction.
	if in, err := c.InTransaction(ctx); in || err != nil {
		t.Fatalf("in transaction %v, %v", in, err)
	}
	if v := queryValue(t, c, "SELECT count(*) FROM t"); v != int64(20000) {
		t.Fatal(v)
	}
	// A cancelled dump returns the ctx error.
	cctx, cancel := context.WithCancel(ctx)
	w := writerFunc(func(p []byte) (int, error) { cancel(); return len(p), nil })
	if err := c.Dump(cctx, w); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dump: %v", err)
	}
	if in, err := c.InTransaction(ctx); in || err != nil {
		t.Fatalf("after a cancelled dump: in transaction %v, %v", in, err)
	}
	// The caller gives up while the actor is blocked handing it a chunk: the actor must not
	// crash (a send on the chunks channel closed under it would panic).
	for range 10 {
		cctx, cancel := context.WithCancel(ctx)
		w := writerFunc(func(p []byte) (int, error) {
			for range 2000 { // let the actor fill the chunk buffer and block
				runtime.Gosched()
			}
			cancel()
			for range 2000 {
				runtime.Gosched()
			}
			return len(p), nil
		})
		if err := c.Dump(cctx, w); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled dump: %v", err)
		}
	}
	if err := c.Dump(ctx, nil); err == nil {
		t.Fatal("dump to a nil writer succeeded")
	}
	if v := queryValue(t, c, "SELECT count(*) FROM t"); v != int64(20000) {
		t.Fatal(v)
	}
	noCrash(t, s)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestSerializeDeserialize(t *testing.T) {
	s, c := newBoomConn(t)
	ctx := testCtx(t)
	execScript(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT);
		INSERT INTO t (s) VALUES ('a'), ('b')`)
	data, err := c.Serialize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
		t.Fatalf("serialized %d bytes, not a database file", len(data))
	}
	other, err := s.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Deserialize(ctx, data); err != nil {
		t.Fatal(err)
	}
	if got := queryValues(t, other, "SELECT s FROM t ORDER BY id"); !reflect.DeepEqual(got, [][]any{{"a"}, {"b"}}) {
		t.Fatalf("deserialized rows: %v", got)
	}
	// The deserialized database is writable.
	exec(t, other, "INSERT INTO t (s) VALUES ('c')")
	if v := queryValue(t, other, "SELECT count(*) FROM t"); v != int64(3) {
		t.Fatal(v)
	}
	if err := other.Deserialize(ctx, nil); err == nil {
		t.Fatal("deserializing nothing succeeded")
	}
	if err := other.Deserialize(ctx, []byte("not a database, not at all, no")); err == nil {
		if _, err := other.QueryAll(ctx, "SELECT * FROM sqlite_schema"); err == nil {
			t.Fatal("garbage deserialized into a readable database")
		}
	}
	noCrash(t, s)
}
