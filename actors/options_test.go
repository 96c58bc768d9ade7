package actors_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

func TestWithConverter(t *testing.T) {
	ctx := t.Context()
	type cents int64
	c := newConn(t,
		actors.WithConverter("money", func(v any) (any, error) {
			switch v := v.(type) {
			case int64:
				return cents(v), nil
			case float64:
				return cents(v*100 + 0.5), nil
			}
			return nil, fmt.Errorf("not money: %v", v)
		}),
		actors.WithConverter("BOOLEAN", nil), // remove a built-in converter
	)
	exec(t, c, "CREATE TABLE p (price MONEY(10,2), ok BOOLEAN)")
	exec(t, c, "INSERT INTO p VALUES (1.25, 1), (NULL, 0)")
	cur, err := c.Query(ctx, "SELECT price, ok FROM p ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := cur.FetchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0].Values(), []any{cents(125), int64(1)}; !reflect.DeepEqual(got, want) {
		t.Errorf("row 0 = %#v, want %#v", got, want)
	}
	if got, want := rows[1].Values(), []any{nil, int64(0)}; !reflect.DeepEqual(got, want) {
		t.Errorf("row 1 = %#v, want %#v (NULL is never converted)", got, want)
	}

	// A converter's error fails the query with ErrConvert; the connection goes on.
	exec(t, c, "INSERT INTO p VALUES ('lots', 1)")
	if _, err := c.QueryRow(ctx, "SELECT price FROM p WHERE price = 'lots'"); !errors.Is(err, messages.ErrConvert) {
		t.Errorf("failing converter: err = %v, want ErrConvert", err)
	}
	if n := count(t, c, "p"); n != 3 {
		t.Errorf("count = %d", n)
	}
}

func TestExtensions(t *testing.T) {
	dir := t.TempDir()
	s := newSupervisor(t, supervisor.Config{})
	ctx := testCtx(t)
	plain, err := s.Open(ctx, filepath.Join(dir, "plain.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Exec(ctx, "CREATE VIRTUAL TABLE f USING fts5(x)"); err == nil || !strings.Contains(err.Error(), "no such module") {
		t.Fatalf("fts5 without WithFTS5: %v", err)
	}
	if _, err := plain.Exec(ctx, "CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)"); err == nil || !strings.Contains(err.Error(), "no such module") {
		t.Fatalf("rtree without WithRTree: %v", err)
	}
	// Math and JSON functions are built in.
	if v := queryValue(t, plain, "SELECT sqrt(16) + pow(2, 3) + floor(log10(1000)) + json_extract('{\"a\": 1}', '$.a')"); v != float64(16) {
		t.Fatalf("math: %v", v)
	}

	c, err := s.Open(ctx, filepath.Join(dir, "ext.db"), actors.WithFTS5(), actors.WithRTree())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom!") }); err != nil {
		t.Fatal(err)
	}
	execScript(t, c, `CREATE VIRTUAL TABLE docs USING fts5(title, body);
		INSERT INTO docs VALUES ('Go', 'actors and channels'), ('SQLite', 'a small fast database engine');
		CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1, y0, y1);
		INSERT INTO boxes VALUES (1, 0, 10, 0, 10), (2, 20, 30, 20, 30)`)
	if v := queryValue(t, c, "SELECT title FROM docs WHERE docs MATCH 'database'"); v != "SQLite" {
		t.Fatalf("fts5: %v", v)
	}
	if v := queryValue(t, c, "SELECT id FROM boxes WHERE x0 <= 25 AND x1 >= 25 AND y0 <= 25 AND y1 >= 25"); v != int64(2) {
		t.Fatalf("rtree: %v", v)
	}
	// The extensions are loaded again after a restart.
	crashAndRestart(t, s, c)
	if v := queryValue(t, c, "SELECT title FROM docs WHERE docs MATCH 'actors'"); v != "Go" {
		t.Fatalf("fts5 after restart: %v", v)
	}
	if v := queryValue(t, c, "SELECT count(*) FROM boxes WHERE x1 >= 5"); v != int64(2) {
		t.Fatalf("rtree after restart: %v", v)
	}
	// A dump of virtual tables loads into a fresh database with the extensions.
	var dump strings.Builder
	if err := c.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.Open(ctx, filepath.Join(dir, "fresh.db"), actors.WithFTS5(), actors.WithRTree())
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.ExecScript(ctx, dump.String()); err != nil {
		t.Fatalf("loading a dump with virtual tables: %v\n%s", err, dump.String())
	}
	if v := queryValue(t, fresh, "SELECT title FROM docs WHERE docs MATCH 'engine'"); v != "SQLite" {
		t.Fatalf("fts5 in the copy: %v", v)
	}
	if v := queryValue(t, fresh, "SELECT id FROM boxes WHERE x0 <= 5 AND x1 >= 5"); v != int64(1) {
		t.Fatalf("rtree in the copy: %v", v)
	}
}
