package sqlitewasm

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReleaseClearsBytesOnly checks that giving a statement back clears its bindings when they
// may hold a text or blob (so a large argument does not stay in memory with the cached
// statement), and leaves numbers bound (each use binds every parameter anew anyway).
func TestReleaseClearsBytesOnly(t *testing.T) {
	c, err := Open(context.Background(), ":memory:", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const q = "SELECT ? IS NOT NULL"
	tests := []struct {
		name    string
		arg     any
		cleared bool
	}{
		{"int", 7, false},
		{"int64", int64(1) << 40, false},
		{"float", 2.5, false},
		{"bool", true, false},
		{"nil", nil, false},
		{"text", "some text", true},
		{"blob", []byte("some blob"), true},
		{"json", json.RawMessage(`{"a":1}`), true},
		{"time", time.Unix(0, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := int64(1) // ? IS NOT NULL
			if tt.arg == nil {
				want = 0
			}
			for _, via := range []string{"query", "exec", "exec many"} {
				switch via {
				case "query":
					row, err := c.QueryRow(q, []any{tt.arg})
					if err != nil || row.Index(0) != want {
						t.Fatalf("QueryRow = %v, %v", row, err)
					}
				case "exec":
					if _, err := c.Exec(q, []any{tt.arg}); err != nil {
						t.Fatal(err)
					}
				default:
					if _, err := c.ExecMany(q, [][]any{{1}, {tt.arg}}); err != nil {
						t.Fatal(err)
					}
				}
				e := c.cache.byKey[q]
				if e == nil || e.inUse {
					t.Fatalf("%s: statement not cached idle", via)
				}
				expanded := e.s.ExpandedSQL()
				if cleared := strings.HasSuffix(expanded, "NULL IS NOT NULL"); cleared != tt.cleared && tt.arg != nil {
					t.Errorf("%s: bindings after release %q; want cleared %v", via, expanded, tt.cleared)
				}
			}
		})
	}
}
