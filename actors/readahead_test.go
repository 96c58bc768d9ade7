package actors_test

// Hostile tests for the cursor's read-ahead: once a fill had to fetch, a Cursor posts the next
// Fetch ahead, with a ctx of its own (see Cursor.sendAhead). They use public names only; the
// fault hook tells the fetches sent ahead from the callers' own: every call here passes a ctx
// carrying callerKey, and a fetch sent ahead carries the cursor's ctx, which does not.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// fetchesAhead is how many fetches a cursor read past its first chunk keeps in flight (the
// Cursor doc's "two").
const fetchesAhead = 2

type callerKey struct{}

// callerCtx is a test's ctx for its own calls (bounded: a hang fails the test), marked so that
// the fault hook tells their fetches from those a cursor sends ahead.
func callerCtx(t testing.TB) context.Context {
	return context.WithValue(testCtx(t), callerKey{}, true)
}

// isAhead reports whether req is a fetch a cursor sent ahead (not a caller's).
func isAhead(req messages.Request) bool {
	f, ok := req.(*messages.Fetch)
	return ok && f.Ctx != nil && f.Ctx.Value(callerKey{}) == nil
}

// gateSQL is a statement the hook of aheadHook holds until its gate opens.
const gateSQL = "SELECT 'gate'"

// aheadHook is a fault hook that counts the fetches served (those sent ahead apart), and can
// hold a fetch sent ahead, or a gateSQL Exec, on the connection's goroutine.
type aheadHook struct {
	fetches atomic.Int64 // every Fetch that reached the hook
	aheads  atomic.Int64 // those sent ahead
	// onAhead, when set, runs for each fetch sent ahead before it is served.
	onAhead atomic.Pointer[func(*messages.Fetch)]
	// onCaller, when set, runs for each fetch of a caller before it is served.
	onCaller atomic.Pointer[func(*messages.Fetch)]
	gate     atomic.Pointer[chan struct{}] // a gateSQL Exec waits until it is closed
	gated    chan struct{}                 // gets a value when a gateSQL Exec waits
}

func newAheadHook() *aheadHook { return &aheadHook{gated: make(chan struct{}, 16)} }

func (h *aheadHook) option() actors.Option {
	return actors.WithFaultHook(func(req messages.Request) {
		if m, ok := req.(*messages.Exec); ok && m.SQL == gateSQL {
			if g := h.gate.Load(); g != nil {
				h.gated <- struct{}{}
				<-*g
			}
			return
		}
		f, ok := req.(*messages.Fetch)
		if !ok {
			return
		}
		h.fetches.Add(1)
		if isAhead(f) {
			h.aheads.Add(1)
			if fn := h.onAhead.Load(); fn != nil {
				(*fn)(f)
			}
		} else if fn := h.onCaller.Load(); fn != nil {
			(*fn)(f)
		}
	})
}

func (h *aheadHook) setOnAhead(fn func(*messages.Fetch))  { h.onAhead.Store(&fn) }
func (h *aheadHook) setOnCaller(fn func(*messages.Fetch)) { h.onCaller.Store(&fn) }

// closeGate makes a new gate for gateSQL Execs and returns the func that opens it.
func (h *aheadHook) closeGate() (open func()) {
	g := make(chan struct{})
	h.gate.Store(&g)
	var once sync.Once
	return func() { once.Do(func() { close(g) }) }
}

// gateBehindCaller closes a new gate and, while the caller's first fetch is served, has an
// actor post a gateSQL Exec to c: the fetches sent ahead then queue behind the gate. It returns
// the func that opens the gate.
func (h *aheadHook) gateBehindCaller(s *supervisor.Supervisor, c *actors.Conn) (open func()) {
	open = h.closeGate()
	var once sync.Once
	h.setOnCaller(func(*messages.Fetch) {
		once.Do(func() { s.System().Root.Send(c.PID(), &messages.Exec{SQL: gateSQL}) })
	})
	return open
}

// holdAhead makes every fetch sent ahead wait, on the connection's goroutine, until its ctx
// (the cursor's) ends or release is closed: a fetch that is slow to serve. entered gets a
// value as each one starts waiting; cancelled one as each one sees its ctx end.
func (h *aheadHook) holdAhead(t testing.TB) (entered, cancelled chan struct{}, release func()) {
	entered, cancelled = make(chan struct{}, 16), make(chan struct{}, 16)
	rel := make(chan struct{})
	bound := testCtx(t)
	h.setOnAhead(func(f *messages.Fetch) {
		entered <- struct{}{}
		select {
		case <-f.Ctx.Done():
			cancelled <- struct{}{}
		case <-rel:
		case <-bound.Done():
		}
	})
	var once sync.Once
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(release)
	return entered, cancelled, release
}

// wait waits for a value on ch, failing the test if none comes within its bound.
func wait(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-testCtx(t).Done():
		t.Fatalf("%s: never happened", what)
	}
}

// readPastFirstChunk reads rows 1..6 from cur (fetch size 4): 4 from the query's reply, then
// a fetch, after which the cursor sends the next one ahead (if a MaxPending slot is free).
func readPastFirstChunk(t testing.TB, cur *actors.Cursor) {
	t.Helper()
	rows, err := cur.FetchMany(callerCtx(t), 6) // 4 from the query's reply, 4 fetched, then ahead
	if err != nil {
		t.Fatal(err)
	}
	if g := ints(t, rows); !reflect.DeepEqual(g, seq(1, 6)) {
		t.Fatalf("FetchMany(6) = %v", g)
	}
}

// syncConn makes a round trip on c: whatever was posted to it before is served.
func syncConn(t testing.TB, c *actors.Conn) {
	t.Helper()
	if _, err := c.QueryRow(callerCtx(t), "SELECT 1"); err != nil {
		t.Fatalf("round trip: %v", err)
	}
}

// readRest reads every remaining row with FetchMany and checks they are from..to.
func readRest(t testing.TB, cur *actors.Cursor, from, to int64) {
	t.Helper()
	var got []messages.Row
	for {
		rows, err := cur.FetchMany(callerCtx(t), 5)
		if err != nil {
			t.Fatalf("after %d rows: %v", len(got), err)
		}
		if len(rows) == 0 {
			break
		}
		got = append(got, rows...)
	}
	if g := ints(t, got); !reflect.DeepEqual(g, seq(from, to)) {
		t.Fatalf("rows = %v, want %d..%d", g, from, to)
	}
}

// reader reads a cursor to its end in some way.
type reader func(ctx context.Context, cur *actors.Cursor) ([]messages.Row, error)

func readOne(ctx context.Context, cur *actors.Cursor) ([]messages.Row, error) {
	var got []messages.Row
	for {
		row, err := cur.FetchOne(ctx)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, row)
	}
}

// readMany reads with FetchMany(n), n cycling through ns.
func readMany(ns ...int) reader {
	return func(ctx context.Context, cur *actors.Cursor) ([]messages.Row, error) {
		var got []messages.Row
		for i := 0; ; i++ {
			rows, err := cur.FetchMany(ctx, ns[i%len(ns)])
			if err != nil {
				return got, err
			}
			if len(rows) == 0 {
				return got, nil
			}
			got = append(got, rows...)
		}
	}
}

func readAll(ctx context.Context, cur *actors.Cursor) ([]messages.Row, error) {
	return cur.FetchAll(ctx)
}

func readIter(ctx context.Context, cur *actors.Cursor) ([]messages.Row, error) {
	var got []messages.Row
	for row, err := range cur.All(ctx) {
		if err != nil {
			return got, err
		}
		got = append(got, row)
	}
	return got, nil
}

// readMixed mixes every way of reading, then finishes with last.
func readMixed(fs int, last reader) reader {
	return func(ctx context.Context, cur *actors.Cursor) ([]messages.Row, error) {
		var got []messages.Row
		for i := range 24 {
			var rows []messages.Row
			var err error
			if i%3 == 0 {
				var row messages.Row
				if row, err = cur.FetchOne(ctx); err == io.EOF {
					return got, nil
				}
				rows = []messages.Row{row}
			} else {
				rows, err = cur.FetchMany(ctx, []int{fs + 1, 1, fs - 1, 3 * fs, fs, 0, 2}[i%7])
			}
			if err != nil {
				return got, err
			}
			got = append(got, rows...)
		}
		rest, err := last(ctx, cur)
		return append(got, rest...), err
	}
}

// TestReadAheadRowsInOrder: every mix of FetchOne, FetchMany(n) (n varying, below 1 too),
// FetchAll and All gets the rows in order, none lost or repeated, on results of every size
// around the fetch size, and on rows whose chunks end by bytes (sqlitewasm.ChunkBytes, 4 MiB)
// rather than by count.
func TestReadAheadRowsInOrder(t *testing.T) {
	const fs = 8
	h := newAheadHook()
	c := newConn(t, actors.WithFetchSize(fs), h.option())
	seed(t, c, 10000)
	// 1 MiB blobs: a chunk of fs rows ends after 4 of them.
	const blobs = 13
	execScript(t, c, `CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB);
		WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < `+strconv.Itoa(blobs)+`)
		INSERT INTO b (id, v) SELECT i, CAST(printf('%d:', i) AS BLOB) || zeroblob(1048576) FROM s`)

	readers := map[string]reader{
		"FetchOne":              readOne,
		"FetchMany":             readMany(1, fs-1, fs, fs+1, 3, 2*fs+5, 0, -1, 1000),
		"FetchMany(fs)":         readMany(fs),
		"FetchMany(1)":          readMany(1),
		"FetchAll":              readAll,
		"All":                   readIter,
		"mixed, then FetchAll":  readMixed(fs, readAll),
		"mixed, then All":       readMixed(fs, readIter),
		"mixed, then FetchOne":  readMixed(fs, readOne),
		"mixed, then FetchMany": readMixed(fs, readMany(fs+3, 1)),
	}
	type result struct {
		name string
		sql  string
		n    int64
	}
	var results []result
	for _, n := range []int64{0, 1, fs - 1, fs, fs + 1, 10000} {
		results = append(results, result{fmt.Sprintf("%d rows", n), fmt.Sprintf("SELECT x FROM t WHERE x <= %d ORDER BY x", n), n})
	}
	results = append(results, result{fmt.Sprintf("%d rows of 1 MiB", blobs), "SELECT id, v FROM b ORDER BY id", blobs})
	// The large results (slow under -race) with the readers that differ most.
	heavy := map[string]bool{"FetchOne": true, "FetchMany": true, "All": true, "mixed, then FetchAll": true}
	for _, res := range results {
		for name, read := range readers {
			if res.n >= blobs && !heavy[name] {
				continue
			}
			t.Run(res.name+"/"+name, func(t *testing.T) {
				ctx := callerCtx(t)
				fetches := h.fetches.Load()
				cur, err := c.Query(ctx, res.sql)
				if err != nil {
					t.Fatal(err)
				}
				defer cur.Close(ctx)
				got, err := read(ctx, cur)
				if err != nil {
					t.Fatalf("after %d rows: %v", len(got), err)
				}
				if g := ints(t, got); !slices.Equal(g, seq(1, res.n)) {
					t.Fatalf("rows = %v (%d), want 1..%d", short(g), len(g), res.n)
				}
				for _, r := range got {
					if v, ok := r.Index(1).([]byte); ok && (len(v) < 1<<20 || !bytes.HasPrefix(v, fmt.Appendf(nil, "%d:", r.Index(0)))) {
						t.Fatalf("row %v: blob of %d bytes, prefix %q", r.Index(0), len(v), v[:min(len(v), 8)])
					}
				}
				if row, err := cur.FetchOne(ctx); err != io.EOF {
					t.Errorf("FetchOne at the end = %v, %v; want io.EOF", row, err)
				}
				if rows, err := cur.FetchMany(ctx, 3); err != nil || len(rows) != 0 {
					t.Errorf("FetchMany at the end = %d rows, %v", len(rows), err)
				}
				if err := cur.Close(ctx); err != nil {
					t.Errorf("Close: %v", err)
				}
				syncConn(t, c) // a fetch still ahead is served: counted below
				// Chunks of blobs end by bytes: 4 rows each, so a row at a time takes more
				// fetches than fs rows at a time would.
				if name == "FetchOne" && res.n == blobs {
					if n := h.fetches.Load() - fetches; n < (blobs-4)/4 {
						t.Errorf("%d fetches for %d rows of 1 MiB: chunks did not end by bytes", n, blobs)
					}
				}
			})
		}
	}
	if h.aheads.Load() == 0 {
		t.Error("no fetch was sent ahead: the test tested nothing")
	}
	exec(t, c, "DROP TABLE t") // no cursor left a statement open
	exec(t, c, "DROP TABLE b")
}

// short abbreviates a long list of ids for a message.
func short(ids []int64) string {
	if len(ids) <= 20 {
		return fmt.Sprint(ids)
	}
	return fmt.Sprintf("%v … %v", ids[:10], ids[len(ids)-10:])
}

// aheadConn opens a connection with fetch size 4 and the hook, with table t of 40 rows, and
// a cursor on it that read rows 1..6 and sent a fetch ahead.
func aheadConn(t *testing.T, h *aheadHook, opts ...actors.Option) (*actors.Conn, *actors.Cursor) {
	t.Helper()
	c := newConn(t, append([]actors.Option{actors.WithFetchSize(4), h.option()}, opts...)...)
	seed(t, c, 40)
	cur, err := c.Query(callerCtx(t), "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cur.Close(context.Background()) })
	readPastFirstChunk(t, cur)
	return c, cur
}

// TestReadAheadCallerCtxEndKeepsCursor: a caller's ctx that ends while a fetch is ahead —
// cancelled right after its FetchMany returned, already done for the next one, or ending
// while the next one waits for the fetch ahead — leaves the cursor usable: the next
// FetchMany with a live ctx goes on with the next row, none lost.
func TestReadAheadCallerCtxEndKeepsCursor(t *testing.T) {
	t.Run("cancelled after FetchMany returned", func(t *testing.T) {
		h := newAheadHook()
		c := newConn(t, actors.WithFetchSize(4), h.option())
		seed(t, c, 40)
		cur, err := c.Query(callerCtx(t), "SELECT x FROM t ORDER BY x")
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close(callerCtx(t))
		ctx, cancel := context.WithCancel(callerCtx(t))
		rows, err := cur.FetchMany(ctx, 6)
		cancel()
		if err != nil || !reflect.DeepEqual(ints(t, rows), seq(1, 6)) {
			t.Fatalf("FetchMany(6) = %v, %v", ints(t, rows), err)
		}
		syncConn(t, c)
		if n := h.aheads.Load(); n != fetchesAhead {
			t.Fatalf("%d fetches sent ahead, want %d", n, fetchesAhead)
		}
		readRest(t, cur, 7, 40)
	})
	t.Run("done before the next FetchMany", func(t *testing.T) {
		h := newAheadHook()
		_, cur := aheadConn(t, h)
		done, cancel := context.WithCancel(callerCtx(t))
		cancel()
		if rows, err := cur.FetchMany(done, 6); !errors.Is(err, context.Canceled) {
			t.Fatalf("FetchMany with a done ctx = %d rows, %v; want context.Canceled", len(rows), err)
		}
		if _, err := cur.FetchAll(done); !errors.Is(err, context.Canceled) {
			t.Fatalf("FetchAll with a done ctx: %v", err)
		}
		readRest(t, cur, 7, 40)
	})
	t.Run("ends while waiting for the fetch ahead", func(t *testing.T) {
		h := newAheadHook()
		entered, _, release := h.holdAhead(t)
		_, cur := aheadConn(t, h)
		wait(t, entered, "the fetch sent ahead was served")
		rows, err := cur.FetchMany(callerCtx(t), 2) // rows 7, 8: buffered
		if err != nil || !reflect.DeepEqual(ints(t, rows), seq(7, 8)) {
			t.Fatalf("FetchMany(2) = %v, %v", ints(t, rows), err)
		}
		inner, cancel := context.WithCancel(callerCtx(t))
		ctx := &sentCtx{Context: inner, sent: make(chan struct{})}
		errc := make(chan error, 1)
		go func() { _, err := cur.FetchMany(ctx, 6); errc <- err }()
		<-ctx.sent // it waits for the fetch ahead
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("FetchMany whose ctx ended while waiting: %v, want context.Canceled", err)
		}
		release()
		readRest(t, cur, 9, 40)
	})
}

// probeSlots checks that exactly maxPending of c's MaxPending slots are free: with a handle's
// request held on the connection (one slot), maxPending-1 requests of an actor are admitted
// and one more is refused at once with ErrOverloaded.
func probeSlots(t *testing.T, s *supervisor.Supervisor, c *actors.Conn, h *aheadHook, maxPending int) {
	t.Helper()
	open := h.closeGate()
	defer open()
	errc := make(chan error, 1)
	go func() { _, err := c.Exec(callerCtx(t), gateSQL); errc <- err }()
	wait(t, h.gated, "the gate request was served")
	root := s.System().Root
	futs := make([]*actor.Future, maxPending)
	for i := range futs {
		futs[i] = root.RequestFuture(c.PID(), &messages.Exec{SQL: "SELECT 1"}, 20*time.Second)
	}
	open()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for i, f := range futs {
		res, err := f.Result()
		if err != nil {
			t.Fatalf("request %d of an actor: %v", i+1, err)
		}
		rerr := res.(messages.Reply).ReplyErr()
		switch {
		case i < maxPending-1 && rerr != nil:
			t.Errorf("request %d of an actor, beside the gate, with MaxPending %d: %v (a slot was not given back)", i+1, maxPending, rerr)
		case i == maxPending-1 && !errors.Is(rerr, messages.ErrOverloaded):
			t.Errorf("request %d of an actor, beside the gate, with MaxPending %d: %v, want ErrOverloaded", i+1, maxPending, rerr)
		}
	}
}

// TestReadAheadClose: Close while a fetch is ahead (already served, queued behind another
// request, or running), with a live or an already-done ctx, returns, frees the statement (a
// checkpoint on another connection completes, the table can be dropped), and gives back every
// MaxPending slot. Goroutine leaks are goleak's, in TestMain.
func TestReadAheadClose(t *testing.T) {
	// Fetches ahead take slots only from the half nobody uses: the gate's and both fetches'
	// fit in half, and as many again are left for the actors' requests below.
	const maxPending = 2 * (fetchesAhead + 1)
	for _, state := range []string{"served", "queued", "running"} {
		for _, doneCtx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/done ctx %v", state, doneCtx), func(t *testing.T) {
				q := queryWithSlots(t, maxPending)
				h, s, c, cur := q.h, q.s, q.c, q.cur
				other, err := s.Open(callerCtx(t), q.dsn, actors.WithBusyTimeout(-1))
				if err != nil {
					t.Fatal(err)
				}
				var entered, cancelled chan struct{}
				var openGate func()
				switch state {
				case "running":
					entered, cancelled, _ = h.holdAhead(t)
				case "queued":
					// While the caller's fetch is served, an actor's gateSQL is posted: the
					// fetch sent ahead queues behind it.
					openGate = h.gateBehindCaller(s, c)
					defer openGate()
				}
				readPastFirstChunk(t, cur)
				switch state {
				case "served":
					syncConn(t, c)
					if n := h.aheads.Load(); n != fetchesAhead {
						t.Fatalf("%d fetches sent ahead, want %d", n, fetchesAhead)
					}
				case "running":
					wait(t, entered, "the fetch sent ahead was served")
				case "queued":
					wait(t, h.gated, "the gate was served")
					// The gate and the fetches ahead hold half the slots: as many actor's
					// requests are admitted, the next refused.
					root := s.System().Root
					for range maxPending - fetchesAhead - 1 {
						admitted := root.RequestFuture(c.PID(), &messages.Exec{SQL: "SELECT 1"}, 20*time.Second)
						defer func() {
							if res, err := admitted.Result(); err != nil || res.(messages.Reply).ReplyErr() != nil {
								t.Errorf("an actor's request admitted beside the fetch ahead: %v, %v", res, err)
							}
						}()
					}
					res, err := root.RequestFuture(c.PID(), &messages.Exec{SQL: "SELECT 1"}, 20*time.Second).Result()
					if err != nil || !errors.Is(res.(messages.Reply).ReplyErr(), messages.ErrOverloaded) {
						t.Fatalf("an actor's request with every slot held: %v, %v; want ErrOverloaded (no fetch ahead queued?)", res, err)
					}
				}
				// The cursor's read snapshot keeps a checkpoint from completing.
				exec(t, other, "INSERT INTO t (x) VALUES (0)")
				if v := queryValues(t, other, "PRAGMA wal_checkpoint(TRUNCATE)"); v[0][0] != int64(1) {
					t.Fatalf("checkpoint beside an open cursor: %v, want busy", v)
				}

				ctx := callerCtx(t)
				if doneCtx {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					cancel()
				}
				closed := make(chan error, 1)
				sent := ctx
				var sc *sentCtx
				if state == "queued" && !doneCtx {
					sc = &sentCtx{Context: ctx, sent: make(chan struct{})}
					sent = sc
				}
				go func() { closed <- cur.Close(sent) }()
				switch {
				case state == "queued" && doneCtx:
					err := <-closed // it does not wait: nothing is served behind the gate
					closed <- err
					openGate()
				case state == "queued":
					<-sc.sent // Close waits for its reply: it cancelled the fetch ahead first
					openGate()
				case state == "running":
					wait(t, cancelled, "the fetch ahead saw Close cancel its ctx")
				}
				if err := <-closed; err != nil {
					t.Errorf("Close: %v", err)
				}
				if _, err := cur.FetchMany(callerCtx(t), 3); !errors.Is(err, messages.ErrCursorClosed) {
					t.Errorf("FetchMany after Close: %v, want ErrCursorClosed", err)
				}
				syncConn(t, c) // a Close sent without waiting is served
				if v := queryValues(t, other, "PRAGMA wal_checkpoint(TRUNCATE)"); v[0][0] != int64(0) {
					t.Errorf("checkpoint after Close: %v, want it completed (busy 0)", v)
				}
				exec(t, c, "DROP TABLE t")
				probeSlots(t, s, c, h, maxPending)
				if state == "queued" && h.aheads.Load() != 0 {
					t.Errorf("a fetch ahead that Close cancelled while queued was served")
				}
			})
		}
	}
}

// TestReadAheadSlowFetchInterruptedByClose: a fetch sent ahead whose rows are expensive (a
// scan of about 10^15 steps for its next row) is interrupted by the cursor's Close: Close
// returns with its ctx alive, and the connection serves the next request. Conn.Close, which
// closes the cursor too, returns as promptly: nobody can read the rows of that fetch.
func TestReadAheadSlowFetchInterruptedByClose(t *testing.T) {
	for _, tc := range []struct {
		name                string
		doneCtx, conn, stop bool
	}{
		{name: "Cursor.Close"},
		{name: "Cursor.Close with a done ctx", doneCtx: true},
		{name: "Conn.Close", conn: true},
		{name: "Supervisor.Stop", conn: true, stop: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newConnSup(t, actors.WithFetchSize(4))
			entered := make(chan struct{})
			var once sync.Once
			err := c.CreateFunction(callerCtx(t), "entered", 1, func(args []any) (any, error) {
				once.Do(func() { close(entered) })
				return int64(1), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Rows 1..12 come at once; the 13th is about 10^15 steps away.
			cur, err := c.Query(callerCtx(t), `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c)
				SELECT i FROM c WHERE i <= 12 OR (entered(i) AND i % 1000000000000000 = 0) LIMIT 20`)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := cur.FetchMany(callerCtx(t), 12) // 4 from the reply, 8 fetched; then ahead
			if err != nil || !slices.Equal(ints(t, rows), seq(1, 12)) {
				t.Fatalf("FetchMany(12) = %v, %v", ints(t, rows), err)
			}
			wait(t, entered, "the fetch sent ahead stepping past row 12")
			ctx := callerCtx(t)
			if tc.doneCtx {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				cancel()
			}
			if tc.stop {
				if err := s.Stop(ctx); err != nil {
					t.Fatalf("Supervisor.Stop: %v", err)
				}
			} else if tc.conn {
				if err := c.Close(ctx); err != nil {
					t.Fatalf("Conn.Close: %v", err)
				}
			}
			if tc.conn {
				if _, err := cur.FetchMany(callerCtx(t), 3); !errors.Is(err, messages.ErrCursorClosed) || !errors.Is(err, messages.ErrClosed) {
					t.Errorf("FetchMany after Conn.Close: %v, want ErrCursorClosed and ErrClosed", err)
				}
				return
			}
			if err := cur.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !tc.doneCtx && ctx.Err() != nil {
				t.Fatalf("Close returned only when its ctx ended: %v", ctx.Err())
			}
			// Had the fetch ahead not been interrupted, this would wait for its 10^15 steps
			// (and fail on callerCtx's bound).
			if v, err := c.QueryRow(callerCtx(t), "SELECT 2"); err != nil || v.Index(0) != int64(2) {
				t.Fatalf("the next request: %v, %v", v, err)
			}
		})
	}
}

// TestReadAheadConnGone: the connection closing (Conn.Close) or crashing (and restarting)
// while a fetch is ahead — served and waiting for the cursor, queued, or being served —
// makes the cursor's next fetches fail with an error wrapping ErrCursorClosed and the reason
// (ErrClosed, ErrCrashed), promptly; a fetch the crash answered itself may say ErrCrashed
// alone, as any fetch that crashed. Close on such a cursor returns nil.
func TestReadAheadConnGone(t *testing.T) {
	type tc struct {
		name   string
		reason error
		// gone closes or crashes c while the cursor has a fetch ahead.
		gone func(t *testing.T, s *supervisor.Supervisor, c *actors.Conn)
		// crashAhead: the fault hook crashes the connection on the fetch sent ahead.
		crashAhead bool
	}
	closeConn := func(t *testing.T, c *actors.Conn, doneCtx bool) {
		ctx := callerCtx(t)
		if doneCtx {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			cancel()
		}
		if err := c.Close(ctx); err != nil && !doneCtx {
			t.Fatalf("Conn.Close: %v", err)
		}
		wait(t, c.Done(), "the connection stopped")
	}
	cases := []tc{
		{name: "Conn.Close, fetch ahead served", reason: messages.ErrClosed,
			gone: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				syncConn(t, c)
				closeConn(t, c, false)
			}},
		{name: "Conn.Close with a done ctx, fetch ahead queued", reason: messages.ErrClosed,
			gone: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				// Close was sent with a done ctx while the fetch ahead was queued (below):
				// this one waits for the connection to stop.
				closeConn(t, c, false)
			}},
		{name: "crash, fetch ahead served", reason: messages.ErrCrashed,
			gone: func(t *testing.T, s *supervisor.Supervisor, c *actors.Conn) {
				crashAndRestart(t, s, c)
			}},
		{name: "crash serving the fetch ahead", reason: messages.ErrCrashed, crashAhead: true,
			gone: func(t *testing.T, s *supervisor.Supervisor, c *actors.Conn) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newAheadHook()
			if tc.crashAhead {
				h.setOnAhead(func(*messages.Fetch) { panic("crash on the fetch sent ahead") })
			}
			s, c := newBoomConn(t, actors.WithFetchSize(4), h.option())
			seed(t, c, 40)
			cur, err := c.Query(callerCtx(t), "SELECT x FROM t ORDER BY x")
			if err != nil {
				t.Fatal(err)
			}
			var openGate func()
			if tc.name == "Conn.Close with a done ctx, fetch ahead queued" {
				openGate = h.gateBehindCaller(s, c)
				defer openGate()
			}
			readPastFirstChunk(t, cur)
			if openGate != nil {
				wait(t, h.gated, "the gate was served")
				// Close, posted behind the fetch ahead; then the gate opens.
				ctx, cancel := context.WithCancel(callerCtx(t))
				cancel()
				if err := c.Close(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Conn.Close with a done ctx: %v, want context.Canceled (sent, not awaited)", err)
				}
				openGate()
			}
			tc.gone(t, s, c)
			if tc.crashAhead {
				// The fetch's own reply may be what the next FetchMany reads.
				_, err := cur.FetchMany(callerCtx(t), 6)
				if !errors.Is(err, messages.ErrCrashed) {
					t.Fatalf("FetchMany after the fetch ahead crashed: %v, want ErrCrashed", err)
				}
			}
			for name, fetch := range map[string]func() error{
				"FetchMany": func() error { _, err := cur.FetchMany(callerCtx(t), 6); return err },
				"FetchOne":  func() error { _, err := cur.FetchOne(callerCtx(t)); return err },
				"FetchAll":  func() error { _, err := cur.FetchAll(callerCtx(t)); return err },
			} {
				if err := fetch(); !errors.Is(err, messages.ErrCursorClosed) || !errors.Is(err, tc.reason) {
					t.Errorf("%s: %v, want ErrCursorClosed and %v", name, err, tc.reason)
				}
			}
			if err := cur.Close(callerCtx(t)); err != nil {
				t.Errorf("Close: %v", err)
			}
			if tc.reason == messages.ErrCrashed {
				exec(t, c, "DROP TABLE t") // the restarted connection holds no statement of it
			}
		})
	}
}

// openAheadCursor opens a cursor on t that sent a fetch ahead, and drops the handle.
func openAheadCursor(t *testing.T, c *actors.Conn) {
	t.Helper()
	cur, err := c.Query(callerCtx(t), "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	readPastFirstChunk(t, cur)
	runtime.KeepAlive(cur)
}

// TestReadAheadCursorCollected: a cursor dropped without Close while its fetch is ahead
// (served, or being served: held until its ctx ends) is closed once collected: the fetch
// ahead is cancelled, and the statement freed.
func TestReadAheadCursorCollected(t *testing.T) {
	for _, held := range []bool{false, true} {
		t.Run(fmt.Sprintf("held %v", held), func(t *testing.T) {
			h := newAheadHook()
			var cancelled chan struct{}
			if held {
				_, cancelled, _ = h.holdAhead(t)
			}
			c := newConn(t, actors.WithFetchSize(4), h.option())
			seed(t, c, 40)
			openAheadCursor(t, c)
			ctx := callerCtx(t)
			if held {
				// The connection serves the fetch ahead until the cursor's cleanup cancels it.
				for done := false; !done; {
					runtime.GC()
					select {
					case <-cancelled:
						done = true
					case <-ctx.Done():
						t.Fatal("the fetch ahead of a collected cursor was never cancelled")
					default:
					}
				}
			}
			dropWhenCollected(ctx, t, c)
			// Held, the first keeps the connection until the cleanup cancels it, and the
			// second, queued behind it, is skipped.
			if want := map[bool]int64{false: fetchesAhead, true: 1}[held]; h.aheads.Load() != want {
				t.Errorf("%d fetches sent ahead were served, want %d", h.aheads.Load(), want)
			}
		})
	}
}

// TestReadAheadSkippedWhenNoSlotFree: with every MaxPending slot taken when a fill gets its
// rows (MaxPending 1, and a call waiting for the slot the fill's fetch gives back), no fetch
// is sent ahead, nothing blocks, and the rows go on in order.
func TestReadAheadSkippedWhenNoSlotFree(t *testing.T) {
	q := queryWithSlots(t, 1)
	h, c, cur := q.h, q.c, q.cur
	waiting := make(chan error, 1)
	var once sync.Once
	h.setOnCaller(func(*messages.Fetch) {
		once.Do(func() {
			// While the cursor's fetch holds the only slot, another call waits for it.
			ctx := &sentCtx{Context: callerCtx(t), sent: make(chan struct{})}
			go func() { _, err := c.Exec(ctx, "SELECT 2"); waiting <- err }()
			<-ctx.sent
		})
	})
	readPastFirstChunk(t, cur)
	if err := <-waiting; err != nil {
		t.Fatalf("the call that waited for the slot: %v", err)
	}
	syncConn(t, c)
	if n := h.aheads.Load(); n != 0 {
		t.Fatalf("%d fetches sent ahead with no slot free", n)
	}
	readRest(t, cur, 7, 40)
}

// TestReadAheadUnderMaxPendingPressure: with MaxPending 1 or 2 and more goroutines than
// slots, each reading a cursor of its own in every way between other calls, every call
// succeeds (none fails with ErrOverloaded, none hangs: each is bounded) and every cursor gets
// its rows in order.
func TestReadAheadUnderMaxPendingPressure(t *testing.T) {
	const fs, rows, goroutines = 8, 600, 4
	for _, maxPending := range []int{1, 2} {
		t.Run(fmt.Sprintf("MaxPending %d", maxPending), func(t *testing.T) {
			h := newAheadHook()
			s := newSupervisor(t, supervisor.Config{MaxPending: maxPending})
			c, err := s.Open(callerCtx(t), filepath.Join(t.TempDir(), "test.db"), actors.WithFetchSize(fs), h.option())
			if err != nil {
				t.Fatal(err)
			}
			seed(t, c, rows)
			readers := []reader{
				readMany(1, fs+1, 3, 2*fs),
				readMixed(fs, readMany(fs)),
				readOne,
				readMixed(fs, readIter),
			}
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					ctx := callerCtx(t)
					for round := range 3 {
						cur, err := c.Query(ctx, "SELECT x FROM t ORDER BY x")
						if err != nil {
							errs <- fmt.Errorf("goroutine %d: query: %w", g, err)
							return
						}
						got, err := readers[(g+round)%len(readers)](ctx, cur)
						if err != nil {
							errs <- fmt.Errorf("goroutine %d, round %d, after %d rows: %w", g, round, len(got), err)
							return
						}
						ids := make([]int64, 0, len(got))
						for _, r := range got {
							ids = append(ids, r.Index(0).(int64))
						}
						if !slices.Equal(ids, seq(1, rows)) {
							errs <- fmt.Errorf("goroutine %d, round %d: rows %s", g, round, short(ids))
							return
						}
						if _, err := c.QueryRow(ctx, "SELECT count(*) FROM t"); err != nil {
							errs <- fmt.Errorf("goroutine %d: query row: %w", g, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			t.Logf("%d fetches, %d of them sent ahead", h.fetches.Load(), h.aheads.Load())
		})
	}
}

// TestReadAheadConcurrentFetchMany: goroutines calling FetchMany (and FetchOne) on one cursor
// together get every row exactly once, each call's rows consecutive.
func TestReadAheadConcurrentFetchMany(t *testing.T) {
	const fs, rows = 16, 10000
	h := newAheadHook()
	c := newConn(t, actors.WithFetchSize(fs), h.option())
	seed(t, c, rows)
	cur, err := c.Query(callerCtx(t), "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(callerCtx(t))
	var (
		mu   sync.Mutex
		all  []int64
		wg   sync.WaitGroup
		errc = make(chan error, 8)
	)
	for _, n := range []int{1, 7, fs, 33, 0} {
		wg.Go(func() {
			ctx := callerCtx(t)
			for {
				var got []messages.Row
				var err error
				if n == 0 {
					var row messages.Row
					if row, err = cur.FetchOne(ctx); err == io.EOF {
						return
					}
					got = []messages.Row{row}
				} else {
					got, err = cur.FetchMany(ctx, n)
				}
				if err != nil {
					errc <- err
					return
				}
				if len(got) == 0 {
					return
				}
				ids := make([]int64, len(got))
				for i, r := range got {
					ids[i] = r.Index(0).(int64)
					if i > 0 && ids[i] != ids[i-1]+1 {
						errc <- fmt.Errorf("FetchMany(%d) = %s: not consecutive", n, short(ids))
						return
					}
				}
				mu.Lock()
				all = append(all, ids...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	slices.Sort(all)
	if !slices.Equal(all, seq(1, rows)) {
		t.Fatalf("%d rows read together, want each of 1..%d once: %s", len(all), rows, short(all))
	}
	if h.aheads.Load() == 0 {
		t.Error("no fetch was sent ahead")
	}
}

// TestReadAheadUsesOnlySpareSlots: fetches ahead take MaxPending slots only while half of them
// stay free, so that read-ahead is never why a call waits or an actor's request is refused.
// With 2 or 3 slots the second fetch ahead is sent only if the first was served (its slot
// given back) by then: one or two, by timing; with 1, never one; with 4 or more, both.
func TestReadAheadUsesOnlySpareSlots(t *testing.T) {
	for _, tc := range []struct{ maxPending, least, most int64 }{{1, 0, 0}, {2, 1, 2}, {3, 1, 2}, {4, 2, 2}, {6, 2, 2}} {
		t.Run(fmt.Sprint("MaxPending ", tc.maxPending), func(t *testing.T) {
			q := queryWithSlots(t, int(tc.maxPending))
			h, c, cur := q.h, q.c, q.cur
			readPastFirstChunk(t, cur)
			syncConn(t, c)
			if n := h.aheads.Load(); n < tc.least || n > tc.most {
				t.Fatalf("%d fetches sent ahead, want %d to %d", n, tc.least, tc.most)
			}
			readRest(t, cur, 7, 40)
		})
	}
}

// aheadQuery is a cursor over 40 rows (x = 1..40) on a connection of its own.
type aheadQuery struct {
	h   *aheadHook
	s   *supervisor.Supervisor
	c   *actors.Conn
	cur *actors.Cursor
	dsn string
}

// queryWithSlots opens a connection with maxPending slots, a fetch size of 4 and an aheadHook,
// seeds 40 rows, and queries them; the cursor is closed when the test ends.
func queryWithSlots(t *testing.T, maxPending int) aheadQuery {
	t.Helper()
	q := aheadQuery{h: newAheadHook(), s: newSupervisor(t, supervisor.Config{MaxPending: maxPending})}
	q.dsn = filepath.Join(t.TempDir(), "test.db")
	var err error
	if q.c, err = q.s.Open(callerCtx(t), q.dsn, actors.WithFetchSize(4), q.h.option()); err != nil {
		t.Fatal(err)
	}
	seed(t, q.c, 40)
	if q.cur, err = q.c.Query(callerCtx(t), "SELECT x FROM t ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.cur.Close(context.Background()) })
	return q
}
