//go:build !race

// Hostile tests: the package's promises, tried from outside in their corners, on one
// in-process cluster (two members) reused by every subtest. Like cluster_test.go, these run
// without -race (two nodes in one process: gRPC's global logger races).

package grid_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor/grid"
)

// dirFiles returns every file name under the cluster's DataDirs, sorted.
func (tc *testCluster) dirFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range tc.dirs {
		err := filepath.WalkDir(d, func(p string, _ os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// quick fails the test if f takes longer than d: a hostile call must not hang.
func quick(t *testing.T, d time.Duration, what string, f func() error) error {
	t.Helper()
	start := time.Now()
	err := f()
	if el := time.Since(start); el > d {
		t.Errorf("%s took %v (more than %v): %v", what, el, d, err)
	}
	return err
}

func TestHostile(t *testing.T) {
	tc := startCluster(t, 2, time.Minute)
	ctx := t.Context()
	m0, m1 := tc.members[0], tc.members[1]

	t.Run("InvalidNames", func(t *testing.T) {
		before := tc.dirFiles(t)
		for _, name := range []string{
			"", ".", "..", "../x", "a/b", `a\b`, "a\x00b", "\x00", strings.Repeat("n", 129),
			"ténant", "名前", ".hidden", "a b", "a\n", "\na", "a:b", "a*", "x?", "%2e%2e",
			"/etc/passwd", "a/../b",
		} {
			if err := m0.CreateTenant(ctx, name); !errors.Is(err, grid.ErrInvalidTenant) {
				t.Errorf("CreateTenant(%q): %v, want ErrInvalidTenant", name, err)
			}
			tn := m1.Tenant(name)
			if tn.Name() != name {
				t.Errorf("Name() = %q, want %q", tn.Name(), name)
			}
			for op, err := range map[string]error{
				"Exec":       func() error { _, err := tn.Exec(ctx, `SELECT 1`); return err }(),
				"QueryRow":   func() error { _, err := tn.QueryRow(ctx, `SELECT 1`); return err }(),
				"QueryAll":   func() error { _, err := tn.QueryAll(ctx, `SELECT 1`); return err }(),
				"Query":      func() error { _, err := tn.Query(ctx, `SELECT 1`); return err }(),
				"ExecMany":   func() error { _, err := tn.ExecMany(ctx, `SELECT ?`, [][]any{{1}}); return err }(),
				"ExecScript": tn.ExecScript(ctx, `CREATE TABLE t (v)`),
				"Batch":      func() error { _, err := tn.Batch(ctx, grid.Statement{SQL: `SELECT 1`}); return err }(),
				"Events":     tn.InsertEvents(ctx, messages.Event{UserID: "u", Name: "n"}),
			} {
				if !errors.Is(err, grid.ErrInvalidTenant) {
					t.Errorf("%s on %q: %v, want ErrInvalidTenant", op, name, err)
				}
			}
		}
		if after := tc.dirFiles(t); !slices.Equal(before, after) {
			t.Fatalf("invalid names changed the DataDirs:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("OddValidNames", func(t *testing.T) {
		for _, name := range []string{strings.Repeat("n", 128), "-dash", "_", "con", "a.b", "x.db", "x.db-wal", "A"} {
			if err := m0.CreateTenant(ctx, name); err != nil {
				t.Errorf("CreateTenant(%q): %v", name, err)
				continue
			}
			if err := m1.CreateTenant(ctx, name); !errors.Is(err, grid.ErrTenantExists) {
				t.Errorf("second CreateTenant(%q): %v, want ErrTenantExists", name, err)
			}
			if tc.owner(t, name) < 0 {
				t.Errorf("%q: no file %s.db in any DataDir", name, name)
			}
			if _, err := m1.Tenant(name).Exec(ctx, `CREATE TABLE t (v)`); err != nil {
				t.Errorf("%q: %v", name, err)
			}
		}
		// "A" and "a" are two tenants (on a case-sensitive file system).
		if _, err := m0.Tenant("a").Exec(ctx, `SELECT 1`); !errors.Is(err, grid.ErrTenantUnavailable) {
			t.Errorf(`"a" after creating "A": %v, want ErrTenantUnavailable`, err)
		}
	})

	t.Run("NeverCreated", func(t *testing.T) {
		before := tc.dirFiles(t)
		tn := m0.Tenant("never-created")
		for op, err := range map[string]error{
			"Exec":       func() error { _, err := tn.Exec(ctx, `CREATE TABLE t (v)`); return err }(),
			"QueryRow":   func() error { _, err := tn.QueryRow(ctx, `SELECT 1`); return err }(),
			"QueryAll":   func() error { _, err := tn.QueryAll(ctx, `SELECT 1`); return err }(),
			"Query":      func() error { _, err := tn.Query(ctx, `SELECT 1`); return err }(),
			"ExecMany":   func() error { _, err := tn.ExecMany(ctx, `SELECT ?`, [][]any{{1}}); return err }(),
			"ExecScript": tn.ExecScript(ctx, `CREATE TABLE t (v)`),
			"Batch":      func() error { _, err := tn.Batch(ctx, grid.Statement{SQL: `CREATE TABLE t (v)`}); return err }(),
			"Events":     tn.InsertEvents(ctx, messages.Event{UserID: "u", Name: "n"}),
			"KeyedExec": func() error {
				_, err := tn.Exec(grid.WithIdempotencyKey(ctx, "k"), `CREATE TABLE t (v)`)
				return err
			}(),
			"KeyedEvents": tn.InsertEvents(grid.WithIdempotencyKey(ctx, "k"), messages.Event{UserID: "u", Name: "n"}),
		} {
			if !errors.Is(err, grid.ErrTenantUnavailable) {
				t.Errorf("%s: %v, want ErrTenantUnavailable", op, err)
			}
		}
		if after := tc.dirFiles(t); !slices.Equal(before, after) {
			t.Fatalf("a tenant never created changed the DataDirs:\nbefore %v\nafter  %v", before, after)
		}
	})

	if err := m0.CreateTenant(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	// Every call on h crosses the wire: it is called from the member that does not own it.
	h := tc.members[1-tc.owner(t, "h")].Tenant("h")
	if err := h.ExecScript(ctx, `CREATE TABLE v (x); CREATE TABLE k (id INTEGER PRIMARY KEY, u TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}

	t.Run("Values", func(t *testing.T) {
		// Every value compared with what a local connection returns for it.
		local, err := tc.sups[0].Open(ctx, "file:"+filepath.Join(t.TempDir(), "local.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer local.Close(context.Background())
		zone := time.FixedZone("X", -(3*3600 + 30*60))
		for _, v := range []any{
			int64(math.MinInt64), int64(math.MaxInt64), int64(0), uint64(math.MaxInt64), int8(-8), uint8(255),
			math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64, float32(1.5),
			[]byte{}, []byte(nil), []byte{0, 0xff}, "", "a\x00b", "\xff\xfe invalid", "ünï",
			time.Date(2025, 1, 2, 3, 4, 5, 6, zone), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			json.RawMessage(`{"a":[1,null]}`), json.RawMessage(nil), json.RawMessage(``), true, false, nil,
		} {
			want, lerr := local.QueryRow(ctx, `SELECT ?`, v)
			got, gerr := h.QueryRow(ctx, `SELECT ?`, v)
			if (lerr == nil) != (gerr == nil) {
				t.Errorf("%#v: local error %v, grid error %v", v, lerr, gerr)
				continue
			}
			if lerr == nil && !sameValues(want.Values(), got.Values()) {
				t.Errorf("%T %#v: grid %#v, local %#v", v, v, got.Values(), want.Values())
			}
		}
		// Stored and read back through a declared column, as a table returns it.
		for _, decl := range []string{"BLOB", "DATETIME", "BOOLEAN", "JSON", "TEXT", "REAL", "INTEGER"} {
			tbl := "d_" + strings.ToLower(decl)
			ddl := `CREATE TABLE ` + tbl + ` (c ` + decl + `)`
			if _, err := local.Exec(ctx, ddl); err != nil {
				t.Fatal(err)
			}
			if _, err := h.Exec(ctx, ddl); err != nil {
				t.Fatal(err)
			}
			for _, v := range []any{int64(1), 2.5, "2025-01-02T03:04:05Z", "text", []byte{}, []byte{1}, true, time.Date(2025, 1, 2, 3, 4, 5, 6, zone), json.RawMessage(`[1]`), nil} {
				_, lerr := local.Exec(ctx, `INSERT INTO `+tbl+` VALUES (?)`, v)
				_, gerr := h.Exec(ctx, `INSERT INTO `+tbl+` VALUES (?)`, v)
				if (lerr == nil) != (gerr == nil) {
					t.Errorf("%s %#v: local error %v, grid error %v", decl, v, lerr, gerr)
				}
			}
			want, lerr := local.QueryAll(ctx, `SELECT c FROM `+tbl+` ORDER BY rowid`)
			got, gerr := h.QueryAll(ctx, `SELECT c FROM `+tbl+` ORDER BY rowid`)
			if lerr != nil && errors.Is(lerr, messages.ErrConvert) && errors.Is(gerr, messages.ErrConvert) {
				continue // a value its column's converter refuses: refused both ways
			}
			if lerr != nil || gerr != nil {
				t.Fatalf("%s: local %v, grid %v", decl, lerr, gerr)
			}
			if len(want) != len(got) {
				t.Fatalf("%s: %d rows local, %d grid", decl, len(want), len(got))
			}
			for i := range want {
				if !sameValues(want[i].Values(), got[i].Values()) {
					t.Errorf("%s row %d: grid %#v, local %#v", decl, i, got[i].Values(), want[i].Values())
				}
			}
		}
	})

	t.Run("BadArguments", func(t *testing.T) {
		var nilTime *time.Time
		for _, v := range []any{make(chan int), struct{}{}, map[string]int{}, func() {}, new(int), uint64(math.MaxUint64),
			[]int{1}, complex(1, 2), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), nilTime, errors.New("x")} {
			err := quick(t, time.Second, "a bad argument", func() error { _, err := h.Exec(ctx, `SELECT ?`, v); return err })
			var ae *messages.ArgError
			if !errors.Is(err, messages.ErrBadArgument) || !errors.As(err, &ae) {
				t.Errorf("%T: %v, want an *ArgError wrapping ErrBadArgument", v, err)
			}
			_, err = h.Batch(ctx, grid.Statement{SQL: `SELECT 1`}, grid.Statement{SQL: `SELECT ?`, Args: []any{v}})
			if !errors.Is(err, messages.ErrBadArgument) {
				t.Errorf("Batch with a %T: %v, want ErrBadArgument", v, err)
			}
			_, err = h.ExecMany(ctx, `SELECT ?`, [][]any{{1}, {v}})
			if !errors.Is(err, messages.ErrBadArgument) {
				t.Errorf("ExecMany with a %T: %v, want ErrBadArgument", v, err)
			}
		}
		if _, err := h.Exec(ctx, `SELECT ?, ?`, 1); err == nil {
			t.Error("too few arguments: no error")
		}
		if _, err := h.Exec(ctx, `SELECT ?`, 1, 2); err == nil {
			t.Error("too many arguments: no error")
		}
	})

	t.Run("DoneCtx", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		before := tc.dirFiles(t)
		if err := m0.CreateTenant(cctx, "done-ctx"); !errors.Is(err, context.Canceled) {
			t.Errorf("CreateTenant: %v, want Canceled", err)
		}
		if _, err := h.Exec(cctx, `INSERT INTO v VALUES ('done')`); !errors.Is(err, context.Canceled) {
			t.Errorf("Exec: %v, want Canceled", err)
		}
		dctx, dcancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer dcancel()
		if _, err := h.Exec(dctx, `INSERT INTO v VALUES ('done')`); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Exec past its deadline: %v, want DeadlineExceeded", err)
		}
		if row, err := h.QueryRow(ctx, `SELECT count(*) FROM v WHERE x = 'done'`); err != nil || row.Index(0) != int64(0) {
			t.Errorf("a done ctx wrote: %v %v", row, err)
		}
		if after := tc.dirFiles(t); !slices.Equal(before, after) {
			t.Errorf("a done ctx changed the DataDirs:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		local, err := tc.sups[0].Open(ctx, "file:"+filepath.Join(t.TempDir(), "local.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer local.Close(context.Background())
		if _, err := local.Exec(ctx, `CREATE TABLE e (x)`); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Exec(ctx, `CREATE TABLE e (x)`); err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]func(exec func(string, [][]any) (messages.Result, error), script func(string) error) error{
			"ExecMany nil": func(e func(string, [][]any) (messages.Result, error), _ func(string) error) error {
				_, err := e(`INSERT INTO e VALUES (?)`, nil)
				return err
			},
			"ExecMany empty": func(e func(string, [][]any) (messages.Result, error), _ func(string) error) error {
				_, err := e(`INSERT INTO e VALUES (?)`, [][]any{})
				return err
			},
			"ExecMany nil row": func(e func(string, [][]any) (messages.Result, error), _ func(string) error) error {
				_, err := e(`INSERT INTO e VALUES (1)`, [][]any{nil, {}})
				return err
			},
			"empty SQL": func(e func(string, [][]any) (messages.Result, error), _ func(string) error) error {
				_, err := e(``, [][]any{{}})
				return err
			},
			"empty script": func(_ func(string, [][]any) (messages.Result, error), s func(string) error) error { return s(``) },
			"comment only": func(_ func(string, [][]any) (messages.Result, error), s func(string) error) error {
				return s(`-- nothing`)
			},
		} {
			lerr := f(func(q string, a [][]any) (messages.Result, error) { return local.ExecMany(ctx, q, a) }, func(q string) error { return local.ExecScript(ctx, q) })
			gerr := quick(t, 5*time.Second, name, func() error {
				return f(func(q string, a [][]any) (messages.Result, error) { return h.ExecMany(ctx, q, a) }, func(q string) error { return h.ExecScript(ctx, q) })
			})
			if (lerr == nil) != (gerr == nil) {
				t.Errorf("%s: local %v, grid %v", name, lerr, gerr)
			}
		}
		for name, f := range map[string]func() error{
			"Exec empty SQL": func() error { _, err := h.Exec(ctx, ``); return err },
			"Query empty SQL": func() error {
				cur, err := h.Query(ctx, ``)
				if err == nil {
					err = cur.Close(ctx)
				}
				return err
			},
			"QueryAll empty SQL": func() error { _, err := h.QueryAll(ctx, ` `); return err },
			"QueryRow empty SQL": func() error { _, err := h.QueryRow(ctx, ``); return err },
			"no events":          func() error { return h.InsertEvents(ctx) },
			"no events, keyed":   func() error { return h.InsertEvents(grid.WithIdempotencyKey(ctx, "no-events")) },
			"no statements, keyed": func() error {
				_, err := h.Batch(grid.WithIdempotencyKey(ctx, "no-stmts"))
				return err
			},
		} {
			// As a local connection answers them: nothing to do, done; no row for QueryRow.
			err := quick(t, 5*time.Second, name, f)
			if want := strings.HasPrefix(name, "QueryRow"); want != errors.Is(err, messages.ErrNoRows) || (!want && err != nil) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := h.QueryRow(ctx, `SELECT 1`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("FarDeadline", func(t *testing.T) {
		// A deadline centuries away (past time.Duration's 292 years, and past year 9999).
		for _, dl := range []time.Time{time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)} {
			fctx, cancel := context.WithDeadline(ctx, dl)
			err := quick(t, 5*time.Second, "a call with a far deadline", func() error { _, err := h.QueryRow(fctx, `SELECT 1`); return err })
			cancel()
			if err != nil {
				t.Errorf("deadline %v: %v", dl, err)
			}
		}
	})

	t.Run("DeadlineMidStatement", func(t *testing.T) {
		const forever = `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r`
		for name, f := range map[string]func(context.Context) error{
			"QueryRow": func(c context.Context) error { _, err := h.QueryRow(c, forever); return err },
			"Exec": func(c context.Context) error {
				_, err := h.Exec(c, `INSERT INTO v `+strings.Replace(forever, "count(*)", "i", 1))
				return err
			},
			"Batch": func(c context.Context) error {
				_, err := h.Batch(c, grid.Statement{SQL: `INSERT INTO v VALUES ('batch-dl')`}, grid.Statement{SQL: `INSERT INTO v ` + strings.Replace(forever, "count(*)", "i", 1)})
				return err
			},
		} {
			dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			err := quick(t, 2*time.Second, name+" past its deadline", func() error { return f(dctx) })
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, messages.ErrInterrupted) {
				t.Errorf("%s: %v, want DeadlineExceeded or ErrInterrupted", name, err)
			}
			// The remote statement stopped: the tenant answers at once.
			err = quick(t, time.Second, "the next call", func() error { _, err := h.QueryRow(ctx, `SELECT 1`); return err })
			if err != nil {
				t.Fatal(err)
			}
		}
		if row, err := h.QueryRow(ctx, `SELECT count(*) FROM v WHERE x = 'batch-dl' OR typeof(x) = 'integer'`); err != nil || row.Index(0) != int64(0) {
			t.Errorf("statements ended by their deadline left rows: %v %v", row, err)
		}
	})

	t.Run("Cursors", func(t *testing.T) {
		if _, err := h.ExecMany(ctx, `INSERT INTO k (u) VALUES (?)`, [][]any{{"c1"}, {"c2"}, {"c3"}, {"c4"}}); err != nil {
			t.Fatal(err)
		}
		// Never closed: many of them, past MaxCursors.
		for range grid.MaxCursors + 8 {
			cur, err := h.Query(ctx, `SELECT id FROM k`)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cur.FetchMany(ctx, 1); err != nil {
				t.Fatal(err)
			}
		}
		cur, err := h.Query(ctx, `SELECT id FROM k ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cur.FetchMany(ctx, 0); !errors.Is(err, messages.ErrBadArgument) {
			t.Errorf("FetchMany(0): %v", err)
		}
		if _, err := cur.FetchMany(ctx, -1); !errors.Is(err, messages.ErrBadArgument) {
			t.Errorf("FetchMany(-1): %v", err)
		}
		rows, err := cur.FetchMany(ctx, 2)
		if err != nil || len(rows) != 2 {
			t.Fatalf("FetchMany(2): %v %v", rows, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := cur.Close(cctx); err != nil {
			t.Errorf("Close with a done ctx: %v", err)
		}
		if err := cur.Close(ctx); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := cur.FetchMany(ctx, 1); !errors.Is(err, messages.ErrCursorClosed) {
			t.Errorf("FetchMany after Close: %v, want ErrCursorClosed", err)
		}
		for _, err := range cur.All(ctx) {
			if !errors.Is(err, messages.ErrCursorClosed) {
				t.Errorf("All after Close: %v, want ErrCursorClosed", err)
			}
		}
		// All with break closes the cursor; a second All and FetchMany say so.
		cur, err = h.Query(ctx, `SELECT id FROM k ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range cur.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
		if _, err := cur.FetchMany(ctx, 1); !errors.Is(err, messages.ErrCursorClosed) || n != 1 {
			t.Errorf("FetchMany after All's break: %v (%d rows), want ErrCursorClosed", err, n)
		}
		// Read to its end: FetchMany returns empty, not an error, again and again.
		cur, err = h.Query(ctx, `SELECT id FROM k`)
		if err != nil {
			t.Fatal(err)
		}
		all, err := cur.FetchMany(ctx, 1000)
		if err != nil || len(all) != 4 {
			t.Fatalf("%v %v", all, err)
		}
		for range 2 {
			if rows, err := cur.FetchMany(ctx, 1); err != nil || rows == nil || len(rows) != 0 {
				t.Errorf("FetchMany at the end: %#v %v, want an empty slice", rows, err)
			}
		}
		if err := cur.Close(ctx); err != nil {
			t.Error(err)
		}
		// The tenant is still fine, and writes go through (no read snapshot left holding).
		if _, err := h.Exec(ctx, `INSERT INTO k (u) VALUES ('after-cursors')`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("CursorEviction", func(t *testing.T) {
		// Cursors that stay open (more than one reply of rows each) past MaxCursors: the
		// least recently used is closed, and says so; the others read on.
		const q = `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 40) SELECT i, zeroblob(40000) FROM r`
		curs := make([]*grid.Cursor, grid.MaxCursors+1)
		for i := range curs {
			var err error
			if curs[i], err = h.Query(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		drain := func(c *grid.Cursor) (int, error) {
			n := 0
			for {
				rows, err := c.FetchMany(ctx, 1000)
				if err != nil || len(rows) == 0 {
					return n, err
				}
				n += len(rows)
			}
		}
		if _, err := drain(curs[0]); !errors.Is(err, messages.ErrCursorClosed) {
			t.Errorf("the evicted cursor: %v, want ErrCursorClosed", err)
		}
		if err := curs[0].Close(ctx); err != nil {
			t.Errorf("Close of an evicted cursor: %v", err)
		}
		for i, c := range curs[1:] {
			if n, err := drain(c); err != nil || n != 40 {
				t.Fatalf("cursor %d: %d rows, %v", i+1, n, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		for g := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
					var err error
					switch (g + i) % 5 {
					case 0:
						_, err = h.Exec(dctx, `INSERT INTO v VALUES (?)`, g*1000+i)
					case 1:
						_, err = h.QueryAll(dctx, `SELECT id FROM k`)
					case 2:
						var cur *grid.Cursor
						if cur, err = h.Query(dctx, `SELECT id FROM k`); err == nil {
							for _, err2 := range cur.All(dctx) {
								err = err2
								break
							}
							if cerr := cur.Close(dctx); err == nil {
								err = cerr
							}
						}
					case 3:
						_, err = h.Batch(dctx, grid.Statement{SQL: `INSERT INTO v VALUES (?)`, Args: []any{-i}}, grid.Statement{SQL: `DELETE FROM v WHERE x = ?`, Args: []any{-i}})
					case 4:
						err = h.InsertEvents(dctx, messages.Event{UserID: "u", Name: "concurrent"})
					}
					cancel()
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		row, err := h.QueryRow(ctx, `SELECT count(*) FROM events WHERE name = 'concurrent'`)
		if err != nil || row.Index(0) != int64(48) {
			t.Errorf("events: %v %v, want 48", row, err)
		}
	})

	t.Run("WriteCursor", func(t *testing.T) {
		// A write that returns rows, read in part, while other requests come: none of them
		// may hang or fail (SQLite runs the write whole on its first step).
		if err := h.ExecScript(ctx, `CREATE TABLE w (i INTEGER PRIMARY KEY, p BLOB)`); err != nil {
			t.Fatal(err)
		}
		cur, err := h.Query(ctx, `INSERT INTO w (p) SELECT zeroblob(100000) FROM (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 40) SELECT i FROM r) RETURNING i, p`)
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]func(context.Context) error{
			"Exec": func(c context.Context) error { _, err := h.Exec(c, `INSERT INTO w (p) VALUES (1)`); return err },
			"Batch": func(c context.Context) error {
				_, err := h.Batch(c, grid.Statement{SQL: `INSERT INTO w (p) VALUES (2)`})
				return err
			},
			"Keyed": func(c context.Context) error {
				_, err := h.Exec(grid.WithIdempotencyKey(c, "write-cursor"), `INSERT INTO w (p) VALUES (3)`)
				return err
			},
			"Read": func(c context.Context) error { _, err := h.QueryRow(c, `SELECT count(*) FROM w`); return err },
		} {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := quick(t, 6*time.Second, name+" beside an open write cursor", func() error { return f(dctx) })
			cancel()
			if err != nil {
				t.Errorf("%s beside an open write cursor: %v", name, err)
			}
		}
		n := 0
		for _, err := range cur.All(ctx) {
			if err != nil {
				t.Fatalf("reading the write cursor on: %v", err)
			}
			n++
		}
		if err := cur.Close(ctx); err != nil || n != 40 {
			t.Errorf("write cursor: %d rows read, want 40; Close: %v", n, err)
		}
		if row, err := h.QueryRow(ctx, `SELECT count(*) FROM w`); err != nil || row.Index(0) != int64(43) {
			t.Errorf("after the write cursor: %v rows, %v; want 43", row, err)
		}
		if _, err := h.Exec(ctx, `INSERT INTO w (p) VALUES (4)`); err != nil {
			t.Errorf("the tenant after a write cursor: %v", err)
		}
	})

	t.Run("BadEvents", func(t *testing.T) {
		if err := h.InsertEvents(ctx, messages.Event{UserID: "u", Name: "setup"}); err != nil {
			t.Fatal(err) // the events table exists
		}
		for _, ev := range []messages.Event{{Name: "n"}, {UserID: "u"}, {UserID: "u", Name: "n", Properties: json.RawMessage(`{bad`)}} {
			err := h.InsertEvents(ctx, messages.Event{UserID: "u", Name: "good"}, ev)
			if !errors.Is(err, messages.ErrBadEvent) {
				t.Errorf("%+v: %v, want ErrBadEvent", ev, err)
			}
		}
		if row, err := h.QueryRow(ctx, `SELECT count(*) FROM events WHERE name = 'good'`); err != nil || row.Index(0) != int64(0) {
			t.Errorf("a rejected call stored events: %v %v", row, err)
		}
	})

	t.Run("BatchAtomic", func(t *testing.T) {
		count := func() int64 {
			row, err := h.QueryRow(ctx, `SELECT count(*) FROM k`)
			if err != nil {
				t.Fatal(err)
			}
			return row.Index(0).(int64)
		}
		if _, err := h.Exec(ctx, `INSERT OR IGNORE INTO k (u) VALUES ('c1')`); err != nil {
			t.Fatal(err)
		}
		n := count()
		for name, stmts := range map[string][]grid.Statement{
			"constraint": {{SQL: `INSERT INTO k (u) VALUES ('b1')`}, {SQL: `INSERT INTO k (u) VALUES ('c1')`}, {SQL: `INSERT INTO k (u) VALUES ('b3')`}},
			"syntax":     {{SQL: `INSERT INTO k (u) VALUES ('b1')`}, {SQL: `INSERT INTO nowhere VALUES (1)`}},
			"multiple":   {{SQL: `INSERT INTO k (u) VALUES ('b1')`}, {SQL: `SELECT 1; SELECT 2`}},
			"commit":     {{SQL: `INSERT INTO k (u) VALUES ('b1')`}, {SQL: `COMMIT`}, {SQL: `INSERT INTO k (u) VALUES ('c1')`}},
			"end":        {{SQL: `INSERT INTO k (u) VALUES ('b1')`}, {SQL: ` /* c */ END`}},
			"rollback":   {{SQL: `INSERT INTO k (u) VALUES ('b0')`}, {SQL: `ROLLBACK`}, {SQL: `INSERT INTO k (u) VALUES ('b1')`}},
			"begin":      {{SQL: `INSERT INTO k (u) VALUES ('b1')`}, {SQL: `BEGIN`}},
			"release":    {{SQL: `SAVEPOINT s`}, {SQL: `INSERT INTO k (u) VALUES ('b1')`}, {SQL: `RELEASE s`}, {SQL: `INSERT INTO k (u) VALUES ('c1')`}},
		} {
			_, err := h.Batch(ctx, stmts...)
			if err == nil {
				t.Errorf("%s: no error", name)
			}
			if got := count(); got != n {
				t.Errorf("%s: %d rows after a failed batch, want %d: %v", name, got, n, err)
				if _, err := h.Exec(ctx, `DELETE FROM k WHERE u LIKE 'b%'`); err != nil {
					t.Fatal(err)
				}
			}
			if in, err := h.QueryRow(ctx, `SELECT 1`); err != nil {
				t.Fatalf("%s: the tenant after: %v %v", name, in, err)
			}
		}
		// Empty batch.
		if res, err := h.Batch(ctx); err != nil || len(res) != 0 {
			t.Errorf("empty batch: %v %v", res, err)
		}
	})

	t.Run("Idempotency", func(t *testing.T) {
		kctx := grid.WithIdempotencyKey(ctx, "key-1")
		r1, err := h.Exec(kctx, `INSERT INTO k (u) VALUES ('idem-1')`)
		if err != nil {
			t.Fatal(err)
		}
		// The same key with other SQL: the first result, nothing run.
		r2, err := h.Exec(kctx, `INSERT INTO k (u) VALUES ('idem-2')`)
		if err != nil || r2 != r1 {
			t.Errorf("same key, other SQL: %v %v, want %v", r2, err, r1)
		}
		if row, err := h.QueryRow(ctx, `SELECT count(*) FROM k WHERE u = 'idem-2'`); err != nil || row.Index(0) != int64(0) {
			t.Errorf("a reused key ran its second SQL: %v %v", row, err)
		}
		// A failed keyed write records nothing: its retry runs.
		fctx := grid.WithIdempotencyKey(ctx, "key-fail")
		if _, err := h.Exec(fctx, `INSERT INTO k (u) VALUES ('idem-1')`); !errors.Is(err, messages.ErrConstraint) {
			t.Errorf("keyed duplicate: %v, want ErrConstraint", err)
		}
		if _, err := h.Exec(fctx, `INSERT INTO k (u) VALUES ('idem-3')`); err != nil {
			t.Errorf("retry of a failed key: %v", err)
		}
		// A keyed write that ends the key's transaction is refused, and leaves nothing.
		cctx := grid.WithIdempotencyKey(ctx, "key-commit")
		if _, err := h.Exec(cctx, `COMMIT`); err == nil {
			t.Error("keyed COMMIT: no error")
		}
		if _, err := h.Batch(cctx, grid.Statement{SQL: `INSERT INTO k (u) VALUES ('idem-c')`}, grid.Statement{SQL: `COMMIT`}, grid.Statement{SQL: `INSERT INTO k (u) VALUES ('idem-1')`}); err == nil {
			t.Error("keyed batch with COMMIT: no error")
		}
		if row, err := h.QueryRow(ctx, `SELECT count(*) FROM k WHERE u = 'idem-c'`); err != nil || row.Index(0) != int64(0) {
			t.Errorf("a keyed batch that failed left rows: %v %v", row, err)
		}
		// A keyed script that ends the key's transaction fails, and its key is not recorded
		// (its statements before the COMMIT are kept: a script is not checked beforehand).
		sctx := grid.WithIdempotencyKey(ctx, "key-script")
		if err := h.ExecScript(sctx, `INSERT INTO k (u) VALUES ('idem-s1'); COMMIT; INSERT INTO k (u) VALUES ('idem-s0')`); !errors.Is(err, messages.ErrBadArgument) {
			t.Errorf("keyed script with COMMIT: %v, want ErrBadArgument", err)
		}
		if err := h.ExecScript(sctx, `INSERT INTO k (u) VALUES ('idem-s2')`); err != nil {
			t.Errorf("retry of the key of a script that failed: %v", err)
		}
		if row, err := h.QueryRow(ctx, `SELECT count(*) FROM k WHERE u = 'idem-s2'`); err != nil || row.Index(0) != int64(1) {
			t.Errorf("the key of a failed script was recorded: %v %v", row, err)
		}
		// Keys: empty means none; too long is refused.
		if _, err := h.Exec(grid.WithIdempotencyKey(ctx, strings.Repeat("k", 257)), `INSERT INTO k (u) VALUES ('long')`); !errors.Is(err, messages.ErrBadArgument) {
			t.Errorf("a key of 257 bytes: %v, want ErrBadArgument", err)
		}
		if _, err := h.Exec(grid.WithIdempotencyKey(ctx, "\x00\xff"), `INSERT INTO k (u) VALUES ('odd-key')`); err != nil {
			t.Errorf("a key of odd bytes: %v", err)
		}
	})

	t.Run("Huge", func(t *testing.T) {
		huge := `SELECT '` + strings.Repeat("x", grid.MaxRequestBytes) + `'`
		big := make([]byte, grid.MaxRequestBytes+1)
		for name, f := range map[string]func() error{
			"SQL":    func() error { _, err := h.Exec(ctx, huge); return err },
			"Query":  func() error { _, err := h.Query(ctx, huge); return err },
			"Script": func() error { return h.ExecScript(ctx, huge) },
			"Arg":    func() error { _, err := h.Exec(ctx, `INSERT INTO v VALUES (?)`, big); return err },
			"ManyArgs": func() error {
				_, err := h.ExecMany(ctx, `INSERT INTO v VALUES (?)`, [][]any{{big[:5<<20]}, {big[:5<<20]}})
				return err
			},
			"BatchArgs": func() error {
				_, err := h.Batch(ctx, grid.Statement{SQL: `INSERT INTO v VALUES (?)`, Args: []any{big[:5<<20]}}, grid.Statement{SQL: `INSERT INTO v VALUES (?)`, Args: []any{big[:5<<20]}})
				return err
			},
			"Events":     func() error { return h.InsertEvents(ctx, messages.Event{UserID: "u", Name: string(big)}) },
			"RowTooBig":  func() error { _, err := h.QueryRow(ctx, `SELECT zeroblob(?)`, grid.MaxRowBytes+1); return err },
			"RowsTooBig": func() error { _, err := h.QueryAll(ctx, `SELECT zeroblob(?)`, grid.MaxRowBytes+1); return err },
		} {
			err := quick(t, 10*time.Second, name, f)
			if !errors.Is(err, messages.ErrBadArgument) {
				t.Errorf("%s: %v, want ErrBadArgument", name, err)
			}
		}
		// Just under the bounds: it goes through, and the connection lives.
		under := make([]byte, grid.MaxRequestBytes-1024)
		under[0], under[len(under)-1] = 1, 2
		if _, err := h.Exec(ctx, `INSERT INTO v VALUES (?)`, under); err != nil {
			t.Fatal(err)
		}
		row, err := h.QueryRow(ctx, `SELECT x FROM v WHERE length(x) = ?`, len(under))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := row.Index(0).([]byte); !reflect.DeepEqual(b, under) {
			t.Fatalf("a blob of %d bytes came back as %d bytes", len(under), len(b))
		}
		if _, err := h.Exec(ctx, `DELETE FROM v WHERE length(x) = ?`, len(under)); err != nil {
			t.Fatal(err)
		}
		// Requests near the bound, concurrently, from one member to another: protoactor packs
		// several in one gRPC frame, which must not kill the connection.
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = h.Exec(ctx, `SELECT length(?)`, under)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("CreateRace", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = tc.members[i%2].CreateTenant(ctx, "create-race")
			}()
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, grid.ErrTenantExists):
				t.Error(err)
			}
		}
		if created != 1 || tc.owner(t, "create-race") < 0 {
			t.Errorf("8 concurrent CreateTenant: %d succeeded: %v", created, errs)
		}
	})

	t.Run("StopDoneCtx", func(t *testing.T) {
		// Stop with a done ctx still closes the member's tenants: release never depends on
		// the ctx being alive.
		dir := t.TempDir()
		s, m, err := tc.join(ctx, dir, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background())
		eventually(t, 10*time.Second, "the new member sees 3 members", func() bool { return len(m.Members()) == 3 })
		var mine []string
		for i := 0; len(mine) < 4; i++ {
			name := "stop-done-" + strconv.Itoa(i)
			if err := m.CreateTenant(ctx, name); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, name+".db")); err == nil {
				mine = append(mine, name)
			}
		}
		for _, name := range mine {
			if _, err := m.Tenant(name).Exec(ctx, `CREATE TABLE t (v)`); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.Stats().OpenConns; n < 4 {
			t.Fatalf("%d connections open for 4 tenants of the member", n)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_ = quick(t, 5*time.Second, "Stop with a done ctx", func() error { return m.Stop(cctx) })
		eventually(t, 5*time.Second, "the member's tenants closed after Stop with a done ctx", func() bool { return s.Stats().OpenConns == 0 })
	})

	t.Run("AfterStop", func(t *testing.T) {
		s, m, err := tc.join(ctx, t.TempDir(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background())
		eventually(t, 10*time.Second, "the new member sees 3 members", func() bool { return len(m.Members()) == 3 })
		if err := m.CreateTenant(ctx, "after-join"); err != nil {
			t.Fatal(err)
		}
		// More than one reply of rows: the cursor stays open on the tenant's owner.
		cur, err := m.Tenant("after-join").Query(ctx, `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 40) SELECT zeroblob(100000) FROM r`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cur.FetchMany(ctx, 1); err != nil {
			t.Fatal(err)
		}
		// Calls racing Stop, to a tenant of another member, end, each within a few seconds,
		// whatever their outcome.
		remote := ""
		for i := 0; remote == ""; i++ {
			name := "racing-" + strconv.Itoa(i)
			if err := m.CreateTenant(ctx, name); err != nil {
				t.Fatal(err)
			}
			if tc.owner(t, name) >= 0 {
				remote = name
			}
		}
		racing, running := make(chan struct{}), make(chan struct{})
		var slowest time.Duration
		var lastErr error
		ok := 0
		go func() {
			defer close(racing)
			for {
				start := time.Now()
				_, err := m.Tenant(remote).Exec(ctx, `SELECT 1`)
				slowest, lastErr = max(slowest, time.Since(start)), err
				if err == nil {
					if ok++; ok == 10 {
						close(running)
					}
				}
				if errors.Is(err, messages.ErrClosed) {
					return
				}
			}
		}()
		<-running
		if err := m.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		<-racing
		if slowest > 6*time.Second {
			t.Errorf("a call racing Stop took %v (last error %v)", slowest, lastErr)
		}
		if ok == 0 {
			t.Errorf("no call racing Stop succeeded: %v", lastErr)
		}
		t.Logf("%d calls racing Stop succeeded, the slowest took %v", ok, slowest)
		// The rows the cursor holds already are read; the next reply is not.
		err = quick(t, 2*time.Second, "FetchMany after Stop", func() error {
			for {
				if _, err := cur.FetchMany(ctx, 1000); err != nil {
					return err
				}
			}
		})
		if !errors.Is(err, messages.ErrClosed) {
			t.Errorf("FetchMany after Stop: %v, want ErrClosed", err)
		}
		for op, f := range map[string]func() error{
			"Exec":         func() error { _, err := m.Tenant("after-join").Exec(ctx, `SELECT 1`); return err },
			"CreateTenant": func() error { return m.CreateTenant(ctx, "after-stop") },
			"Query":        func() error { _, err := m.Tenant("h").Query(ctx, `SELECT 1`); return err },
		} {
			err := quick(t, 2*time.Second, op+" after Stop", f)
			if !errors.Is(err, messages.ErrClosed) {
				t.Errorf("%s after Stop: %v, want ErrClosed", op, err)
			}
		}
		if err := quick(t, 2*time.Second, "Leave after Stop", func() error { return m.Leave(ctx) }); err != nil {
			t.Errorf("Leave after Stop: %v", err)
		}
	})
}

// sameValues reports whether a and b hold the same values, NaN equal to NaN and -0 distinct
// from 0.
func sameValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		fa, oka := a[i].(float64)
		fb, okb := b[i].(float64)
		if oka && okb {
			if math.Float64bits(fa) != math.Float64bits(fb) && !(math.IsNaN(fa) && math.IsNaN(fb)) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}
