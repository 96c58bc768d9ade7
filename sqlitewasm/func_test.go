package sqlitewasm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestCreateFunction(t *testing.T) {
	c := memConn(t)
	when := time.Date(2024, 3, 5, 6, 7, 8, 9, time.FixedZone("+01", 3600))
	tests := []struct {
		name     string
		result   any
		wantType string
		want     any
	}{
		{"nil", nil, "null", nil},
		{"int", 7, "integer", int64(7)},
		{"int32", int32(-7), "integer", int64(-7)},
		{"int64", int64(math.MaxInt64), "integer", int64(math.MaxInt64)},
		{"float64", 2.5, "real", 2.5},
		{"float32", float32(0.25), "real", 0.25},
		{"bool", true, "integer", int64(1)},
		{"string", "s", "text", "s"},
		{"bytes", []byte{9}, "blob", []byte{9}},
		{"json", json.RawMessage(`[1]`), "text", "[1]"},
		{"time", when, "text", "2024-03-05T05:07:08.000000009Z"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("f%d", i)
			if err := c.CreateFunction(name, 0, func([]any) (any, error) { return tt.result, nil }); err != nil {
				t.Fatal(err)
			}
			row, err := c.QueryRow(fmt.Sprintf("SELECT typeof(%[1]s()), %[1]s()", name), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := row.Index(0); got != tt.wantType {
				t.Errorf("typeof = %v, want %v", got, tt.wantType)
			}
			if got := row.Index(1); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %#v, want %#v", got, tt.want)
			}
		})
	}

	t.Run("arguments", func(t *testing.T) {
		var got []any
		err := c.CreateFunction("args", -1, func(args []any) (any, error) {
			got = args
			return len(args), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := value(t, c, "SELECT args(1, 2.5, 'x', x'0102', NULL)"); n != int64(5) {
			t.Errorf("args() = %v", n)
		}
		want := []any{int64(1), 2.5, "x", []byte{1, 2}, nil}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("args = %#v, want %#v", got, want)
		}
		if n := value(t, c, "SELECT args()"); n != int64(0) {
			t.Errorf("args() = %v", n)
		}
	})

	t.Run("fixed arity", func(t *testing.T) {
		if err := c.CreateFunction("plus", 2, func(a []any) (any, error) { return a[0].(int64) + a[1].(int64), nil }); err != nil {
			t.Fatal(err)
		}
		if got := value(t, c, "SELECT plus(?, ?)", 40, 2); got != int64(42) {
			t.Errorf("plus = %v", got)
		}
		_, err := c.Exec("SELECT plus(1)", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("error result", func(t *testing.T) {
		if err := c.CreateFunction("fail", 1, func([]any) (any, error) { return nil, errors.New("custom failure") }); err != nil {
			t.Fatal(err)
		}
		exec(t, c, "CREATE TABLE IF NOT EXISTS ft(x)")
		_, err := c.Exec("INSERT INTO ft VALUES (fail(1))", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
		if !strings.Contains(err.Error(), "custom failure") {
			t.Errorf("error %q lacks the function's message", err)
		}
		if got := count(t, c, "ft"); got != 0 {
			t.Errorf("%d rows inserted", got)
		}
		_, err = c.QueryRow("SELECT fail(1)", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("time out of range", func(t *testing.T) {
		err := c.CreateFunction("far", 0, func([]any) (any, error) { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), nil })
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.QueryRow("SELECT far()", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("unsupported result", func(t *testing.T) {
		if err := c.CreateFunction("bad", 0, func([]any) (any, error) { return struct{}{}, nil }); err != nil {
			t.Fatal(err)
		}
		_, err := c.QueryRow("SELECT bad()", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
		if !strings.Contains(err.Error(), "struct") {
			t.Errorf("error %q does not name the type", err)
		}
	})

	t.Run("remove", func(t *testing.T) {
		if err := c.CreateFunction("gone", 0, func([]any) (any, error) { return 1, nil }); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateFunction("gone", 0, nil); err != nil {
			t.Fatal(err)
		}
		_, err := c.Exec("SELECT gone()", nil)
		wantSQLiteErr(t, err, messages.ErrSQL)
	})

	t.Run("bad name", func(t *testing.T) {
		err := c.CreateFunction(strings.Repeat("f", 300), 0, func([]any) (any, error) { return 1, nil })
		if err == nil {
			t.Error("CreateFunction with a 300-byte name succeeded")
		}
		err = c.CreateFunction("arity", -2, func([]any) (any, error) { return 1, nil })
		if err == nil {
			t.Error("CreateFunction with -2 arguments succeeded")
		}
	})
}

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
