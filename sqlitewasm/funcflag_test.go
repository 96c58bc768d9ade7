package sqlitewasm_test

import (
	"testing"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// TestFuncFlagsAreSQLites checks that the protocol's function flags, which messages writes
// as numbers (it imports only the standard library), are the values of FuncFlag, which takes
// them from go-sqlite3's constants: package actors converts one to the other as they are.
func TestFuncFlagsAreSQLites(t *testing.T) {
	for _, tt := range []struct {
		name string
		msg  messages.FuncFlags
		wasm sqlitewasm.FuncFlag
	}{
		{"Deterministic", messages.FuncDeterministic, sqlitewasm.Deterministic},
		{"DirectOnly", messages.FuncDirectOnly, sqlitewasm.DirectOnly},
		{"Innocuous", messages.FuncInnocuous, sqlitewasm.Innocuous},
	} {
		if sqlitewasm.FuncFlag(tt.msg) != tt.wasm {
			t.Errorf("messages.Func%s = %#x, sqlitewasm.%s = %#x", tt.name, uint32(tt.msg), tt.name, uint32(tt.wasm))
		}
	}
}
