package grid

import (
	"errors"
	"testing"

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
