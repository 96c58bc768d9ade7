package supervisor_test

import (
	"context"
	"errors"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// boomOn registers boom_on(x), which returns x, or panics when x is key.
func boomOn(t testing.TB, ctx context.Context, create func(context.Context, string, int, func([]any) (any, error), ...actors.FuncOption) error, key int64) {
	t.Helper()
	err := create(ctx, "boom_on", 1, func(args []any) (any, error) {
		if args[0] == key {
			panic("boom_on: crash key")
		}
		return args[0], nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A crash inside a request that opened its own transaction (ExecMany) must not report a
// transaction lost: no caller opened one, and nobody would ever roll it back.
func TestCrashInsideExecManyLeavesNoLostTransaction(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	boomOn(t, ctx, c.CreateFunction, 2)
	_, err := c.ExecMany(ctx, "INSERT INTO t (v) VALUES (boom_on(?))", [][]any{{1}, {2}, {3}})
	if !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("exec many: %v, want ErrCrashed", err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (10)"); err != nil {
		t.Fatalf("exec after a crash inside ExecMany: %v", err)
	}
	if in, err := c.InTransaction(ctx); err != nil || in {
		t.Fatalf("in transaction: %v, %v; want false, nil", in, err)
	}
	if n := count(t, c); n != 1 {
		t.Fatalf("%d rows; want only the one inserted after the crash (ExecMany is all or nothing)", n)
	}

	// The same through a pool's writer, which Pool.Tx could not clear either.
	p, err := s.OpenPool(ctx, c.DSN(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	boomOn(t, ctx, p.CreateFunction, 2)
	if _, err := p.ExecMany(ctx, "INSERT INTO t (v) VALUES (boom_on(?))", [][]any{{1}, {2}}); !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("pool exec many: %v, want ErrCrashed", err)
	}
	if _, err := p.Exec(ctx, "INSERT INTO t (v) VALUES (11)"); err != nil {
		t.Fatalf("pool exec after a crash inside ExecMany: %v", err)
	}
	err = p.Tx(ctx, func(w *actors.Conn) error {
		_, err := w.Exec(ctx, "INSERT INTO t (v) VALUES (12)")
		return err
	})
	if err != nil {
		t.Fatalf("pool tx after a crash inside ExecMany: %v", err)
	}
	if n := count(t, c); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
}

// A statement refused for holding a second statement must change nothing: SQLite applies
// some pragmas while preparing them, so the tail must be checked without preparing it.
func TestRefusedMultipleStatementsChangeNothing(t *testing.T) {
	s := start(t, supervisor.Config{})
	c := open(t, s)
	ctx := deadline(t)
	pragma := func(name string) any {
		t.Helper()
		row, err := c.QueryRow(ctx, "PRAGMA "+name)
		if err != nil {
			t.Fatal(err)
		}
		return row.Index(0)
	}
	for _, tc := range []struct{ tail, pragma string }{
		{"PRAGMA synchronous=OFF", "synchronous"},
		{"PRAGMA foreign_keys=OFF", "foreign_keys"},
		{"PRAGMA query_only=ON", "query_only"},
		{"PRAGMA busy_timeout=1", "busy_timeout"},
		{"/* c */ ; -- c\n PRAGMA cache_size=7", "cache_size"},
	} {
		before := pragma(tc.pragma)
		for _, run := range []func(sql string) error{
			func(sql string) error { _, err := c.Exec(ctx, sql); return err },
			func(sql string) error { _, err := c.Query(ctx, sql); return err },
			func(sql string) error { _, err := c.QueryRow(ctx, sql); return err },
			func(sql string) error { _, err := c.ExecMany(ctx, sql, [][]any{{}}); return err },
		} {
			err := run("INSERT INTO t (v) VALUES (1); " + tc.tail)
			if !errors.Is(err, messages.ErrMultipleStatements) {
				t.Fatalf("%q: %v, want ErrMultipleStatements", tc.tail, err)
			}
			if after := pragma(tc.pragma); after != before {
				t.Fatalf("refused %q changed %s from %v to %v", tc.tail, tc.pragma, before, after)
			}
		}
	}
	if n := count(t, c); n != 0 {
		t.Fatalf("%d rows: a refused statement ran", n)
	}
	// Trailing semicolons, spaces and comments are not a second statement.
	for _, tail := range []string{";", " ;; ", "-- done", "/* done */", "; /* unterminated", "\n\t;\r\n--x\n/**/;"} {
		if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (1)"+tail); err != nil {
			t.Fatalf("tail %q: %v", tail, err)
		}
	}
}
