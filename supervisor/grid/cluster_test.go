//go:build !race

// In-process clusters: several members in one process. gRPC's global logger (set by every
// remote's Start) races under -race as soon as two nodes run in one process, so these tests
// run without -race (.ci/run has a step for them); the multi-process tests (kill_test.go)
// give the grid its race coverage, one node per process.

package grid_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/grid"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
)

func TestCluster(t *testing.T) {
	tc := startCluster(t, 3, time.Minute)
	ctx := t.Context()
	m0, m1, m2 := tc.members[0], tc.members[1], tc.members[2]

	t.Run("Spread", func(t *testing.T) {
		const n = 24
		per := make([]int, 3)
		for i := range n {
			name := fmt.Sprintf("spread-%d", i)
			if err := tc.members[i%3].CreateTenant(ctx, name); err != nil {
				t.Fatal(err)
			}
			per[tc.owner(t, name)]++
		}
		for i, k := range per {
			if k == 0 {
				t.Errorf("member %d owns none of %d tenants: %v", i, n, per)
			}
		}
		before := tc.openConns()
		// Each tenant, called from every member, has one activation: one connection.
		for i := range n {
			name := fmt.Sprintf("spread-%d", i)
			for _, m := range tc.members {
				if _, err := m.Tenant(name).Exec(ctx, "CREATE TABLE IF NOT EXISTS t (v)"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := tc.openConns(); got != before {
			t.Fatalf("%d connections open after calling %d tenants from 3 members, want %d", got, n, before)
		}
		if before < n {
			t.Fatalf("%d connections open for %d activated tenants", before, n)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		if err := m0.CreateTenant(ctx, "rt"); err != nil {
			t.Fatal(err)
		}
		rt := m1.Tenant("rt")
		if err := rt.ExecScript(ctx, `CREATE TABLE v (i INTEGER, r REAL, s TEXT, b BLOB, at DATETIME, ok BOOLEAN, j JSON, n, u TEXT UNIQUE)`); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2025, 3, 4, 5, 6, 7, 890, time.UTC)
		res, err := rt.Exec(ctx, `INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, int64(-1<<62), 2.5, "héllo\x00x", []byte{0, 255}, at, true, json.RawMessage(`{"a":[1]}`), nil, "u1")
		if err != nil || res.RowsAffected != 1 || res.LastInsertID != 1 {
			t.Fatal(res, err)
		}
		row, err := m2.Tenant("rt").QueryRow(ctx, `SELECT * FROM v`)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{int64(-1 << 62), 2.5, "héllo\x00x", []byte{0, 255}, at, true, json.RawMessage(`{"a":[1]}`), nil, "u1"}
		if got := row.Values(); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v\nwant %#v", got, want)
		}
		cur, err := m0.Tenant("rt").Query(ctx, `INSERT INTO v (u) VALUES ('via query')`)
		if err != nil || len(cur.Columns()) != 0 || cur.Result().RowsAffected != 1 || cur.Result().LastInsertID != 2 {
			t.Fatalf("a write through Query: %v %+v", err, cur)
		}
		if row.Columns()[4].DeclType != "DATETIME" {
			t.Fatalf("columns %v", row.Columns())
		}
		_, err = rt.Exec(ctx, `INSERT INTO v (u) VALUES (?)`, "u1")
		if !errors.Is(err, messages.ErrConstraint) {
			t.Fatalf("duplicate: %v, want ErrConstraint", err)
		}
		for _, tt := range []struct {
			err  error
			want error
		}{
			{func() error { _, err := rt.QueryRow(ctx, `SELECT 1 WHERE 0`); return err }(), messages.ErrNoRows},
			{func() error { _, err := rt.Exec(ctx, `SELEC nonsense`); return err }(), messages.ErrSQL},
			{func() error { _, err := rt.Exec(ctx, `SELECT ?`, make(chan int)); return err }(), messages.ErrBadArgument},
			{func() error { _, err := rt.Exec(ctx, `SELECT 1; SELECT 2`); return err }(), messages.ErrMultipleStatements},
			{func() error { _, err := m0.Tenant("nope").Exec(ctx, `SELECT 1`); return err }(), grid.ErrTenantUnavailable},
			{m0.CreateTenant(ctx, "rt"), grid.ErrTenantExists},
			{func() error { _, err := rt.Exec(ctx, `ATTACH ? AS other`, tc.dirs[0]+"/spread-0.db"); return err }(), messages.ErrNotAuthorized},
			{func() error { _, err := rt.Exec(ctx, `BEGIN`); return err }(), messages.ErrBadArgument},
			{rt.ExecScript(ctx, `BEGIN; INSERT INTO v (u) VALUES ('in-tx')`), messages.ErrBadArgument},
			{m0.CreateTenant(ctx, "../etc"), grid.ErrInvalidTenant},
			{func() error { _, err := m0.Tenant("a/b").QueryAll(ctx, `SELECT 1`); return err }(), grid.ErrInvalidTenant},
			{func() error { _, err := m0.Tenant(".hidden").Exec(ctx, `SELECT 1`); return err }(), grid.ErrInvalidTenant},
			{func() error { _, err := m0.Tenant(strings.Repeat("x", 129)).Exec(ctx, `SELECT 1`); return err }(), grid.ErrInvalidTenant},
		} {
			if !errors.Is(tt.err, tt.want) {
				t.Errorf("got %v, want %v", tt.err, tt.want)
			}
		}
		// The scripts above left nothing behind, and no transaction open.
		if row, err := rt.QueryRow(ctx, `SELECT count(*) FROM v WHERE u = 'in-tx'`); err != nil || row.Index(0) != int64(0) {
			t.Fatalf("after a script that left a transaction open: %v %v", row, err)
		}
		if _, err := rt.Batch(ctx, grid.Statement{SQL: `INSERT INTO v (u) VALUES ('batch')`}); err != nil {
			t.Fatal(err)
		}
		if tc.owner(t, "nope") != -1 {
			t.Fatal("a missing tenant was created")
		}
	})

	t.Run("BigResult", func(t *testing.T) {
		if err := m0.CreateTenant(ctx, "big"); err != nil {
			t.Fatal(err)
		}
		big := m1.Tenant("big")
		if err := big.ExecScript(ctx, `CREATE TABLE b (i INTEGER PRIMARY KEY, p BLOB)`); err != nil {
			t.Fatal(err)
		}
		// 13 MiB in 208 rows of 64 KiB, plus one row of 5 MiB (more than gRPC's 4 MiB frame).
		// (Two ExecMany of 6.5 MiB each: a request is at most MaxRequestBytes.)
		for half := range 2 {
			args := make([][]any, 104)
			for i := range args {
				args[i] = []any{half*104 + i, make([]byte, 64<<10)}
			}
			if _, err := big.ExecMany(ctx, `INSERT INTO b VALUES (?, ?)`, args); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := big.ExecMany(ctx, `INSERT INTO b VALUES (?, ?)`, [][]any{{2000, make([]byte, grid.MaxRequestBytes)}}); !errors.Is(err, messages.ErrBadArgument) {
			t.Fatalf("a request over MaxRequestBytes: %v", err)
		}
		if _, err := big.Exec(ctx, `INSERT INTO b VALUES (1000, zeroblob(5 << 20))`); err != nil {
			t.Fatal(err)
		}
		rows, err := m2.Tenant("big").QueryAll(ctx, `SELECT i, p FROM b ORDER BY i`)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for i, r := range rows {
			var p []byte
			var id int
			if err := r.Scan(&id, &p); err != nil {
				t.Fatal(err)
			}
			if (i < 208 && id != i) || (i == 208 && id != 1000) {
				t.Fatalf("row %d is %d", i, id)
			}
			total += len(p)
		}
		if len(rows) != 209 || total != 208*64<<10+5<<20 {
			t.Fatalf("%d rows, %d bytes", len(rows), total)
		}
		// A cursor reads it in chunks.
		cur, err := m2.Tenant("big").Query(ctx, `SELECT i FROM b ORDER BY i`)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for {
			rs, err := cur.FetchMany(ctx, 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) == 0 {
				break
			}
			got += len(rs)
		}
		if got != 209 {
			t.Fatalf("cursor: %d rows", got)
		}
		if err := cur.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		if err := m0.CreateTenant(ctx, "idem"); err != nil {
			t.Fatal(err)
		}
		it := m2.Tenant("idem")
		if err := it.ExecScript(ctx, `CREATE TABLE c (id INTEGER PRIMARY KEY, v)`); err != nil {
			t.Fatal(err)
		}
		kctx := grid.WithIdempotencyKey(ctx, "k1")
		first, err := it.Exec(kctx, `INSERT INTO c (v) VALUES (1)`)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tc.members {
			again, err := m.Tenant("idem").Exec(kctx, `INSERT INTO c (v) VALUES (1)`)
			if err != nil || again != first {
				t.Fatalf("retry: %v %v, want %v", again, err, first)
			}
		}
		res, err := it.Batch(grid.WithIdempotencyKey(ctx, "k2"), grid.Statement{SQL: `INSERT INTO c (v) VALUES (2)`}, grid.Statement{SQL: `INSERT INTO c (v) VALUES (3)`})
		if err != nil || len(res) != 2 {
			t.Fatal(res, err)
		}
		res2, err := it.Batch(grid.WithIdempotencyKey(ctx, "k2"), grid.Statement{SQL: `INSERT INTO c (v) VALUES (2)`}, grid.Statement{SQL: `INSERT INTO c (v) VALUES (3)`})
		if err != nil || !reflect.DeepEqual(res, res2) {
			t.Fatal(res2, err)
		}
		// A failed keyed write records nothing: its retry runs.
		if _, err := it.Exec(grid.WithIdempotencyKey(ctx, "k3"), `INSERT INTO c (id, v) VALUES (1, 0)`); !errors.Is(err, messages.ErrConstraint) {
			t.Fatal(err)
		}
		if _, err := it.Exec(grid.WithIdempotencyKey(ctx, "k3"), `INSERT INTO c (v) VALUES (4)`); err != nil {
			t.Fatal(err)
		}
		// Concurrent retries of one key: one insert.
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := m1.Tenant("idem").Exec(grid.WithIdempotencyKey(ctx, "k4"), `INSERT INTO c (v) VALUES (5)`); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		row, err := it.QueryRow(ctx, `SELECT count(*), sum(v) FROM c`)
		if err != nil {
			t.Fatal(err)
		}
		var n, sum int
		if err := row.Scan(&n, &sum); err != nil || n != 5 || sum != 1+2+3+4+5 {
			t.Fatalf("%d rows, sum %d (%v)", n, sum, err)
		}
	})

	t.Run("BatchAtomic", func(t *testing.T) {
		if err := m1.CreateTenant(ctx, "batch"); err != nil {
			t.Fatal(err)
		}
		bt := m0.Tenant("batch")
		if err := bt.ExecScript(ctx, `CREATE TABLE a (id INTEGER PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		_, err := bt.Batch(ctx, grid.Statement{SQL: `INSERT INTO a VALUES (1)`}, grid.Statement{SQL: `INSERT INTO a VALUES (2)`}, grid.Statement{SQL: `INSERT INTO a VALUES (1)`})
		if !errors.Is(err, messages.ErrConstraint) || !strings.Contains(err.Error(), "statement 2") {
			t.Fatalf("batch: %v", err)
		}
		row, err := bt.QueryRow(ctx, `SELECT count(*) FROM a`)
		if err != nil || row.Index(0) != int64(0) {
			t.Fatalf("after a failed batch: %v %v", row.Values(), err)
		}
		res, err := bt.Batch(ctx, grid.Statement{SQL: `INSERT INTO a VALUES (?)`, Args: []any{7}}, grid.Statement{SQL: `INSERT INTO a VALUES (8)`})
		if err != nil || len(res) != 2 || res[1].LastInsertID != 8 {
			t.Fatal(res, err)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		if err := m2.CreateTenant(ctx, "slow"); err != nil {
			t.Fatal(err)
		}
		st := m0.Tenant("slow")
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := st.QueryAll(dctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c`)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("returned after %v", d)
		}
		// The remote statement was interrupted: the tenant answers at once.
		qctx, cancel2 := context.WithTimeout(ctx, time.Second)
		defer cancel2()
		if _, err := st.QueryRow(qctx, `SELECT 1`); err != nil {
			t.Fatalf("after the deadline: %v", err)
		}
	})

	t.Run("Events", func(t *testing.T) {
		if err := m0.CreateTenant(ctx, "ev"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				evs := []messages.Event{{UserID: fmt.Sprint("u", i), Name: "a", Properties: json.RawMessage(`{"i":1}`)}, {UserID: "u", Name: "b"}}
				if err := tc.members[i%3].Tenant("ev").InsertEvents(ctx, evs...); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		kctx := grid.WithIdempotencyKey(ctx, "ev-1")
		for range 2 {
			if err := m1.Tenant("ev").InsertEvents(kctx, messages.Event{UserID: "k", Name: "once"}); err != nil {
				t.Fatal(err)
			}
		}
		row, err := m1.Tenant("ev").QueryRow(ctx, `SELECT count(*), count(properties), (SELECT count(*) FROM events WHERE name = 'once') FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		if got := row.Values(); !reflect.DeepEqual(got, []any{int64(33), int64(16), int64(1)}) {
			t.Fatalf("events: %v", got)
		}
		err = m1.Tenant("ev").InsertEvents(ctx, messages.Event{UserID: "u", Name: "n"}, messages.Event{Name: "x"})
		if !errors.Is(err, messages.ErrBadEvent) || !strings.Contains(err.Error(), "event 1") {
			t.Fatalf("bad event: %v", err)
		}
		row, err = m1.Tenant("ev").QueryRow(ctx, `SELECT timestamp FROM events LIMIT 1`)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := row.Index(0).(time.Time); !ok {
			t.Fatalf("timestamp %T", row.Index(0))
		}
	})

	t.Run("Cursors", func(t *testing.T) {
		if err := m0.CreateTenant(ctx, "cur"); err != nil {
			t.Fatal(err)
		}
		ct := m1.Tenant("cur")
		if _, err := ct.Exec(ctx, `CREATE TABLE big (b BLOB)`); err != nil {
			t.Fatal(err)
		}
		// A row larger than MaxRowBytes is refused, not sent.
		if _, err := ct.Exec(ctx, `INSERT INTO big VALUES (zeroblob(?))`, grid.MaxRowBytes+1); err != nil {
			t.Fatal(err)
		}
		if _, err := ct.QueryAll(ctx, `SELECT b FROM big`); !errors.Is(err, messages.ErrBadArgument) {
			t.Fatalf("a row over MaxRowBytes: %v", err)
		}
		if row, err := ct.QueryRow(ctx, `SELECT length(b) FROM big`); err != nil || row.Index(0) != int64(grid.MaxRowBytes+1) {
			t.Fatal(row, err)
		}
		// Past MaxCursors open cursors, the least recently used is closed.
		var curs []*grid.Cursor
		for range grid.MaxCursors + 1 {
			c, err := ct.Query(ctx, `SELECT value, zeroblob(500) FROM generate_series(1, 5000)`)
			if err != nil {
				t.Fatal(err)
			}
			curs = append(curs, c)
		}
		if _, err := curs[0].FetchMany(ctx, 1); err != nil {
			t.Fatal(err) // a row buffered with the query's reply
		}
		for {
			rows, err := curs[0].FetchMany(ctx, 5000)
			if errors.Is(err, messages.ErrCursorClosed) {
				break
			}
			if err != nil || len(rows) == 0 {
				t.Fatalf("the evicted cursor: %d rows, %v", len(rows), err)
			}
		}
		n := 0
		for _, err := range curs[1].All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 5000 {
			t.Fatalf("%d rows", n)
		}
		for _, c := range curs {
			if err := c.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(ctx); err != nil {
				t.Fatal("second close:", err)
			}
		}
		if _, err := curs[2].FetchMany(ctx, 1); !errors.Is(err, messages.ErrCursorClosed) {
			t.Fatalf("fetch after close: %v", err)
		}
		c, err := ct.Query(ctx, `SELECT 1`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.FetchMany(ctx, 0); !errors.Is(err, messages.ErrBadArgument) {
			t.Fatalf("FetchMany(0): %v", err)
		}
		// A deadline already passed: nothing runs.
		dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		if _, err := ct.Exec(dctx, `INSERT INTO big VALUES (1)`); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a passed deadline: %v", err)
		}
	})

	t.Run("Leave", func(t *testing.T) {
		// m2 leaves: each of its tenants moves, with its data, to its next owner.
		var mine []string
		for i := range 24 {
			if name := fmt.Sprintf("spread-%d", i); tc.owner(t, name) == 2 {
				mine = append(mine, name)
			}
		}
		for _, name := range mine {
			if _, err := m0.Tenant(name).Exec(ctx, `INSERT INTO t VALUES (?)`, name); err != nil {
				t.Fatal(err)
			}
		}
		if err := m2.Leave(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m2.Tenant("rt").Exec(ctx, "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
			t.Fatalf("a call on a member that left: %v", err)
		}
		for _, name := range mine {
			if o := tc.owner(t, name); o != 0 && o != 1 {
				t.Fatalf("%s is on member %d", name, o)
			}
			var row messages.Row
			eventually(t, 10*time.Second, name+" answers from its new owner", func() bool {
				var err error
				row, err = m0.Tenant(name).QueryRow(ctx, `SELECT v FROM t`)
				return err == nil
			})
			if row.Index(0) != name {
				t.Fatalf("%s: %v", name, row.Values())
			}
		}
	})
}

func TestPassivation(t *testing.T) {
	tc := startCluster(t, 2, 300*time.Millisecond)
	ctx := t.Context()
	if err := tc.members[0].CreateTenant(ctx, "idle"); err != nil {
		t.Fatal(err)
	}
	if err := tc.members[1].Tenant("idle").InsertEvents(ctx, messages.Event{UserID: "u", Name: "n"}); err != nil {
		t.Fatal(err)
	}
	cur, err := tc.members[1].Tenant("idle").Query(ctx, `SELECT value FROM generate_series(1, 100000)`)
	if err != nil {
		t.Fatal(err)
	}
	if tc.openConns() != 1 {
		t.Fatalf("%d connections open", tc.openConns())
	}
	path := filepath.Join(tc.dirs[tc.owner(t, "idle")], "idle.db")
	if n, ok := openFiles(path); ok && n == 0 {
		t.Fatalf("no file of %s open", path)
	}
	// Idle for IdleTimeout: the activation closes its database: its connection and its
	// events writer's.
	eventually(t, 5*time.Second, "the idle tenant's connection closed", func() bool { return tc.openConns() == 0 })
	eventually(t, 5*time.Second, "the idle tenant's files closed", func() bool { n, _ := openFiles(path); return n == 0 })
	if _, err := cur.FetchMany(ctx, 10); err != nil && !errors.Is(err, messages.ErrCursorClosed) {
		t.Fatalf("a cursor of a passivated tenant: %v", err)
	}
	// The next call activates it again.
	row, err := tc.members[1].Tenant("idle").QueryRow(ctx, `SELECT 42`)
	if err != nil || row.Index(0) != int64(42) {
		t.Fatal(row, err)
	}
}

// openFiles counts this process's open file descriptors on path and its -wal and -shm files,
// from /proc/self/fd (ok false where there is none).
func openFiles(path string) (n int, ok bool) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, path) {
			n++
		}
	}
	return n, true
}

// Leave never overwrites a tenant's file at its next owner, and keeps a file it could not
// hand off; the last member keeps its files.
func TestLeaveKeepsWhatItCannotHand(t *testing.T) {
	tc := startCluster(t, 2, time.Minute)
	ctx := t.Context()
	if err := tc.members[0].CreateTenant(ctx, "dup"); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.members[0].Tenant("dup").Exec(ctx, "CREATE TABLE t (v)"); err != nil {
		t.Fatal(err)
	}
	x := tc.owner(t, "dup")
	other := 1 - x
	stale := filepath.Join(tc.dirs[other], "dup.db")
	if err := os.WriteFile(stale, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := tc.members[x].Leave(ctx)
	if !errors.Is(err, grid.ErrTenantExists) {
		t.Fatalf("leave: %v, want ErrTenantExists", err)
	}
	if _, err := os.Stat(filepath.Join(tc.dirs[x], "dup.db")); err != nil {
		t.Fatalf("the file that could not be handed off: %v", err)
	}
	if b, _ := os.ReadFile(stale); string(b) != "stale" {
		t.Fatal("the next owner's file was overwritten")
	}
	if err := os.Remove(stale); err != nil {
		t.Fatal(err)
	}
	if err := tc.members[other].CreateTenant(ctx, "last"); err != nil {
		t.Fatal(err)
	}
	if err := tc.members[other].Leave(ctx); err == nil || !strings.Contains(err.Error(), "no other member") {
		t.Fatalf("the last member's leave: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tc.dirs[other], "last.db")); err != nil {
		t.Fatal(err)
	}
}

func TestJoinErrors(t *testing.T) {
	tc := startCluster(t, 1, time.Minute)
	ctx := t.Context()
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	_, port, _ := strings.Cut(tc.members[0].Address(), ":")
	p, _ := strconv.Atoi(port)
	for _, tt := range []struct {
		cfg  grid.Config
		want string
	}{
		{grid.Config{}, "DataDir is required"},
		{grid.Config{DataDir: t.TempDir()}, "Peers is required"},
		{grid.Config{DataDir: t.TempDir(), Peers: []string{"127.0.0.1:1"}}, "HealthPort is required"},
		{grid.Config{DataDir: t.TempDir(), Port: p, Provider: test.NewTestProvider(tc.agent)}, "listen"},
	} {
		if m, err := grid.Join(ctx, s, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Join(%+v): %v, %v; want an error with %q", tt.cfg, m, err, tt.want)
		}
	}
}

// A member that stops keeps its tenants' files; its tenants answer ErrTenantUnavailable
// (never an empty database elsewhere) until it joins again at the same address.
func TestStopAndReturn(t *testing.T) {
	tc := startCluster(t, 2, time.Minute)
	ctx := t.Context()
	name := ""
	for i := 0; name == ""; i++ {
		n := fmt.Sprintf("ret-%d", i)
		if err := tc.members[0].CreateTenant(ctx, n); err != nil {
			t.Fatal(err)
		}
		if tc.owner(t, n) == 1 {
			name = n
		}
	}
	if _, err := tc.members[0].Tenant(name).Exec(ctx, `CREATE TABLE t (v); INSERT INTO t VALUES (1)`); err == nil {
		t.Fatal("two statements in an Exec")
	}
	if err := tc.members[0].Tenant(name).ExecScript(ctx, `CREATE TABLE t (v); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	addr := tc.members[1].Address()
	if err := tc.members[1].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tc.sups[1].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	tc.members[1] = nil
	for range 3 {
		if _, err := tc.members[0].Tenant(name).QueryRow(ctx, `SELECT v FROM t`); !errors.Is(err, grid.ErrTenantUnavailable) {
			t.Fatalf("while its member is away: %v", err)
		}
	}
	if tc.owner(t, name) != 1 {
		t.Fatal("the tenant's file moved or was created elsewhere")
	}
	_, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := grid.Join(ctx, s, grid.Config{DataDir: tc.dirs[1], Port: p, Provider: test.NewTestProvider(tc.agent)})
	if err != nil {
		t.Fatal(err)
	}
	tc.sups[1], tc.members[1] = s, m
	row, err := tc.members[0].Tenant(name).QueryRow(ctx, `SELECT v FROM t`)
	if err != nil || row.Index(0) != int64(1) {
		t.Fatalf("after its member returned: %v %v", row, err)
	}
}
