package grid

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/messages/wire"
)

func TestOpensTx(t *testing.T) {
	exec := func(sql string) *wire.Request {
		return &wire.Request{Op: &wire.Request_Exec{Exec: &wire.Statement{Sql: []byte(sql)}}}
	}
	for sql, want := range map[string]bool{
		"BEGIN":                                true,
		"begin immediate":                      true,
		"  BeGiN;":                             true,
		"savepoint a":                          true,
		"SELECT 1":                             false,
		"INSERT INTO t VALUES ('begi')":        false,
		"CREATE TRIGGER x BEGIN SELECT 1; END": true, // checked for nothing: harmless
		"":                                     false,
	} {
		if got := opensTx(exec(sql)); got != want {
			t.Errorf("opensTx(%q) = %v", sql, got)
		}
	}
	if opensTx(&wire.Request{Op: &wire.Request_Fetch{Fetch: &wire.Fetch{}}}) {
		t.Error("a fetch")
	}
	script := &wire.Request{Op: &wire.Request_ExecScript{ExecScript: []byte("x; Begin; y")}}
	if !opensTx(script) {
		t.Error("a script")
	}
}

func TestCheckNoTxControl(t *testing.T) {
	for sql, refused := range map[string]bool{
		"COMMIT": true, "commit transaction": true, " /* x */ END": true, "-- c\nBegin immediate": true,
		"ROLLBACK": true, "rollback transaction": true, "ROLLBACK TO s": false, "rollback transaction to savepoint s": false,
		"\tEND;": true, "SAVEPOINT s": false, "RELEASE s": false, "INSERT INTO t VALUES ('COMMIT')": false,
		"SELECT 1": false, "": false, "/* unterminated": false, "-- only a comment": false, "ENDX": false,
		"EXPLAIN COMMIT": false, "COMMIT--": true,
	} {
		err := checkNoTxControl([]byte(sql))
		if (err != nil) != refused || (err != nil && !errors.Is(err, messages.ErrBadArgument)) {
			t.Errorf("%q: %v, refused want %v", sql, err, refused)
		}
	}
}

// A call whose ctx has no deadline sends one (noDeadlineWait away): without it, a statement
// that never ends, whose caller gave up, would hold its tenant for good.
func TestSetDeadline(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	req := &wire.Request{}
	if wait := setDeadline(context.Background(), req, now); wait != noDeadlineWait+time.Second {
		t.Errorf("no deadline: wait %v", wait)
	}
	if dl, err := wire.DecodeTime(req.GetDeadline()); err != nil || !dl.Equal(now.Add(noDeadlineWait)) {
		t.Errorf("no deadline: sent %v %v, want %v", dl, err, now.Add(noDeadlineWait))
	}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(3*time.Second))
	defer cancel()
	if wait := setDeadline(ctx, req, now); wait != 4*time.Second {
		t.Errorf("a deadline 3 s away: wait %v", wait)
	}
	if dl, _ := wire.DecodeTime(req.GetDeadline()); !dl.Equal(now.Add(3 * time.Second)) {
		t.Errorf("a deadline 3 s away: sent %v", dl)
	}
}
