package sqlitewasm_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestStatementCache(t *testing.T) {
	sizes := []struct {
		name string
		size int
	}{
		{"default", 0},
		{"one", 1},
		{"none", -1},
	}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			c, err := sqlitewasm.Open(t.Context(), ":memory:", sqlitewasm.Config{StmtCache: sz.size})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)", nil); err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				if _, err := c.Exec("INSERT INTO t(s) VALUES (?)", []any{fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
				// Alternate with other statements, to evict from a small cache.
				if _, err := c.QueryRow("SELECT s FROM t WHERE id = ?", []any{i + 1}); err != nil {
					t.Fatal(err)
				}
				if i%10 == 0 {
					if _, err := c.Exec("SELECT count(*) FROM t", nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			// A statement that failed goes back clean.
			for range 3 {
				if _, err := c.Exec("INSERT INTO t(id, s) VALUES (?, ?)", []any{1, "dup"}); !errors.Is(err, messages.ErrConstraint) {
					t.Fatalf("duplicate insert = %v", err)
				}
			}
			// Bindings do not leak from one use to the next.
			for i := range 3 {
				row, err := c.QueryRow("SELECT s FROM t WHERE id = ?", []any{i + 1})
				if err != nil {
					t.Fatal(err)
				}
				if got := row.Index(0); got != fmt.Sprint(i) {
					t.Errorf("row %d = %v", i+1, got)
				}
			}
			row, err := c.QueryRow("SELECT count(*) FROM t", nil)
			if err != nil || row.Index(0) != int64(200) {
				t.Fatalf("count = %v, %v", row, err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
		})
	}
}
