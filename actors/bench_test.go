package actors_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

const benchRows = 20_000

// seedBench creates the events-shaped table the point-select benchmark reads.
func seedBench(b *testing.B, path string) {
	b.Helper()
	db, err := sqlitewasm.Open(context.Background(), path, sqlitewasm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.ExecScript(`CREATE TABLE events (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
		name TEXT NOT NULL, properties BLOB, timestamp DATETIME NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	args := make([][]any, benchRows)
	props := []byte(`{"page":"/pricing","plan":"pro","ref":"newsletter","ab":"variant-b","n":12345678}`)
	for i := range args {
		args[i] = []any{fmt.Sprintf("user-%d", i%500), "page_view", props, time.Unix(int64(1_700_000_000+i), 0)}
	}
	if _, err := db.ExecMany("INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)", args); err != nil {
		b.Fatal(err)
	}
}

const pointSelect = "SELECT id, user_id, name, properties, timestamp FROM events WHERE id = ?"

// BenchmarkPointSelect compares a point select by primary key read into typed variables
// (QueryRow + Row.Scan of an event row: an integer, two texts, a blob, a DATETIME) through a
// connection actor with the same on a sqlitewasm.Conn called directly, in the same run. The
// layer below, sqlitewasm against go-sqlite3 by hand, is BenchmarkPointSelectLayer in package
// sqlitewasm; the bench module compares the whole against go-sqlite3 (bench/README.md).
func BenchmarkPointSelect(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	seedBench(b, path)
	ctx := context.Background()
	var r eventRow
	b.Run("sqlitewasm", func(b *testing.B) {
		db := openBare(b, path)
		b.ReportAllocs()
		gc := gcCPU()
		for b.Loop() {
			id := rand.Int64N(benchRows) + 1
			row, err := db.QueryRow(pointSelect, []any{id})
			if err != nil {
				b.Fatal(err)
			}
			r.scan(b, row, id)
		}
		gc(b)
	})
	b.Run("actor", func(b *testing.B) {
		c := openActor(b, path)
		b.ReportAllocs()
		gc := gcCPU()
		for b.Loop() {
			id := rand.Int64N(benchRows) + 1
			row, err := c.QueryRow(ctx, pointSelect, id)
			if err != nil {
				b.Fatal(err)
			}
			r.scan(b, row, id)
		}
		gc(b)
	})
}

// gcCPU starts counting the CPU time the garbage collector takes; the function it returns
// reports it per operation (gc-ns/op). That time follows the size of the live heap each cycle
// marks (protoactor's process registry, for one) more than the operation itself: timed alone it
// tells the two apart.
func gcCPU() func(*testing.B) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	start := s[0].Value.Float64()
	return func(b *testing.B) {
		metrics.Read(s)
		b.ReportMetric((s[0].Value.Float64()-start)*1e9/float64(b.N), "gc-ns/op")
	}
}

// openBare opens path on a sqlitewasm.Conn, closed when the benchmark ends.
func openBare(b *testing.B, path string) *sqlitewasm.Conn {
	b.Helper()
	db, err := sqlitewasm.Open(context.Background(), path, sqlitewasm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// openActor opens path through a connection actor of a supervisor of its own, stopped when
// the benchmark ends.
func openActor(b *testing.B, path string) *actors.Conn {
	b.Helper()
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop(ctx) })
	c, err := s.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// eventRow is what a point select reads.
type eventRow struct {
	id         int64
	user, name string
	props      []byte
	ts         time.Time
}

func (r *eventRow) scan(b *testing.B, row messages.Row, id int64) {
	if err := row.Scan(&r.id, &r.user, &r.name, &r.props, &r.ts); err != nil || r.id != id || r.ts.IsZero() {
		b.Fatal(err, row)
	}
}

// commitRows is the size of the commit BenchmarkCommitWithSubscriber makes.
const commitRows = 200_000

// rowCounter is a change-feed subscriber that signals done each time it has received another
// commitRows changed rows.
type rowCounter struct {
	n    int
	done chan<- struct{}
}

func (a *rowCounter) Receive(ctx actor.Context) {
	if n := changedRows(ctx.Message()); n > 0 {
		if a.n += n; a.n%commitRows == 0 {
			a.done <- struct{}{}
		}
	}
}

// changedRows returns how many changed rows a change-feed message carries.
func changedRows(msg any) int {
	if m, ok := msg.(*messages.RowChanges); ok {
		return len(m.Changes)
	}
	return 0
}

// BenchmarkCommitWithSubscriber inserts commitRows rows in one ExecMany on a connection whose
// change feed goes to an actor, and on one without a change feed, in the same run: their
// difference is what the feed costs. ns/op runs until the subscriber has every row;
// reply-ns/op until ExecMany returned (the feed is sent before the reply).
func BenchmarkCommitWithSubscriber(b *testing.B) {
	for _, subscribe := range []bool{false, true} {
		name := "none"
		if subscribe {
			name = "subscriber"
		}
		b.Run(name, func(b *testing.B) { benchCommit(b, subscribe) })
	}
}

func benchCommit(b *testing.B, subscribe bool) {
	ctx := context.Background()
	s := newSupervisor(b, supervisor.Config{})
	c, err := s.Open(ctx, filepath.Join(b.TempDir(), "feed.db"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
		b.Fatal(err)
	}
	var done chan struct{}
	if subscribe {
		done = make(chan struct{}, 1)
		root := s.System().Root
		sub := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &rowCounter{done: done} }))
		b.Cleanup(func() { root.StopFuture(sub).Wait() })
		if err := c.SetUpdateHook(ctx, sub); err != nil {
			b.Fatal(err)
		}
	}
	args := make([][]any, commitRows)
	for i := range args {
		args[i] = []any{int64(i)}
	}
	var reply time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := c.ExecMany(ctx, "INSERT INTO t (v) VALUES (?)", args); err != nil {
			b.Fatal(err)
		}
		reply += time.Since(start)
		if done == nil {
			continue
		}
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.Fatal("the subscriber did not get every row")
		}
	}
	b.ReportMetric(float64(reply.Nanoseconds())/float64(b.N), "reply-ns/op")
}

// BenchmarkFullScan reads every row of the benchmark's table into typed variables, through a
// cursor (Query, FetchMany of 1,000 rows, Row.Scan) and through a sqlitewasm.Conn called
// directly (Query, Next into chunks of 1,000 rows, Row.Scan), in the same run. ns/op is per
// row.
func BenchmarkFullScan(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	seedBench(b, path)
	ctx := context.Background()
	const q = "SELECT id, user_id, name, properties, timestamp FROM events"
	var r eventRow
	scanAll := func(b *testing.B, rows []messages.Row) {
		for _, row := range rows {
			if err := row.Scan(&r.id, &r.user, &r.name, &r.props, &r.ts); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("sqlitewasm", func(b *testing.B) {
		db := openBare(b, path)
		b.ReportAllocs()
		for n := 0; n < b.N; {
			rs, err := db.Query(q, nil)
			if err != nil {
				b.Fatal(err)
			}
			for done := false; !done && n < b.N; {
				c := messages.NewRowsBuilder(rs.Columns(), 1000)
				if done, err = rs.Next(&c, 1000); err != nil {
					b.Fatal(err)
				}
				rows := c.Rows()
				scanAll(b, rows)
				n += len(rows)
			}
			rs.Close()
		}
	})
	b.Run("actor", func(b *testing.B) {
		c := openActor(b, path)
		b.ReportAllocs()
		for n := 0; n < b.N; {
			cur, err := c.Query(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			for n < b.N {
				rows, err := cur.FetchMany(ctx, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) == 0 {
					break
				}
				scanAll(b, rows)
				n += len(rows)
			}
			if err := cur.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
