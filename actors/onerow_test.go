package actors_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// Rows read one at a time (QueryRow) are built in reused memory and handed out in replies
// that their handles give back: from many goroutines at once, with rows of every size around
// the bound of a row copied to its own memory and results of no row in between, every row
// and every string scanned from it still reads what it read when it came, after all the rest.
func TestQueryRowsStayTheirOwn(t *testing.T) {
	c := newConn(t)
	ctx := testCtx(t)
	execScript(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)`)
	text := func(id int) string { return strings.Repeat(string(rune('a'+id%26)), id%1100) }
	for id := range 400 {
		exec(t, c, "INSERT INTO t VALUES (?, ?, ?)", id, text(id), []byte(text(id+1)))
	}
	type got struct {
		id   int
		row  messages.Row
		s    string
		b    []byte
		none bool
	}
	const workers, each = 8, 300
	results := make([][]got, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := (w*each + i*7) % 450 // ids from 400 on have no row
				row, err := c.QueryRow(ctx, "SELECT id, s, b FROM t WHERE id = ?", id)
				if errors.Is(err, messages.ErrNoRows) {
					results[w] = append(results[w], got{id: id, none: true})
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				g := got{id: id, row: row}
				var n int64
				if err := row.Scan(&n, &g.s, &g.b); err != nil || n != int64(id) {
					t.Errorf("id %d: Scan = %d, %v", id, n, err)
					return
				}
				results[w] = append(results[w], g)
			}
		})
	}
	wg.Wait()
	checked := 0
	for _, rs := range results {
		for _, g := range rs {
			if g.none != (g.id >= 400) {
				t.Fatalf("id %d: no row: %v", g.id, g.none)
			}
			if g.none {
				continue
			}
			want := fmt.Sprint(g.id, text(g.id), text(g.id+1))
			if s := fmt.Sprint(g.id, g.s, string(g.b)); s != want {
				t.Fatalf("id %d: scanned values changed after later rows were read", g.id)
			}
			if s := fmt.Sprint(g.row.Index(0), g.row.Index(1), string(g.row.Index(2).([]byte))); s != want {
				t.Fatalf("id %d: the row changed after later rows were read", g.id)
			}
			checked++
		}
	}
	if checked < workers*each/2 {
		t.Fatalf("only %d rows checked", checked)
	}
}
