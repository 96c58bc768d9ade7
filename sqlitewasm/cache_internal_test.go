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

// TestCacheLastEntry checks the cache's memory of the statement it handed out last: found
// again without a lookup, never handed out while in use, and forgotten when that statement
// is evicted or dropped (a closed statement must never come back).
func TestCacheLastEntry(t *testing.T) {
	c, err := Open(context.Background(), ":memory:", Config{StmtCache: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const a, b = "SELECT 1", "SELECT 2"
	for i := range 3 {
		row, err := c.QueryRow(a, nil)
		if err != nil || row.Index(0) != int64(1) {
			t.Fatalf("run %d: %v, %v", i, row, err)
		}
		if c.cache.last == nil || c.cache.last.sql != a {
			t.Fatalf("run %d: last entry %+v, want %q", i, c.cache.last, a)
		}
	}
	// In use (an open cursor): a second user gets a statement of its own.
	open, err := c.Query(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := c.cache.take(a); e != nil {
		t.Fatal("an entry in use was handed out again")
	}
	if row, err := c.QueryRow(a, nil); err != nil || row.Index(0) != int64(1) {
		t.Fatalf("while in use: %v, %v", row, err)
	}
	open.Close()
	// b evicts a (the cache holds one): a must not be found through last.
	if _, err := c.QueryRow(b, nil); err != nil {
		t.Fatal(err)
	}
	if c.cache.byKey[a] != nil || (c.cache.last != nil && c.cache.last.sql == a) {
		t.Fatal("the evicted statement is still reachable")
	}
	if row, err := c.QueryRow(a, nil); err != nil || row.Index(0) != int64(1) {
		t.Fatalf("after eviction: %v, %v", row, err)
	}
	// Dropped after an error: forgotten too.
	e := c.cache.byKey[a]
	if e == nil {
		t.Fatal("not cached")
	}
	c.cache.take(a)
	c.cache.drop(e.s)
	if c.cache.last == e {
		t.Fatal("a dropped entry is still the last one")
	}
	if row, err := c.QueryRow(a, nil); err != nil || row.Index(0) != int64(1) {
		t.Fatalf("after drop: %v, %v", row, err)
	}
}
