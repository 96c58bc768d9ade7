package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// reportPercentiles reports the median and p99 of durations.
func reportPercentiles(b *testing.B, d []time.Duration, prefix string) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)*50/100].Nanoseconds()), prefix+"p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), prefix+"p99-ns")
}

// BenchmarkCrashRecovery measures, per crash, the time from sending the request that crashes
// a file-backed connection to the restarted connection answering its next query (reopen and
// function replay included).
func BenchmarkCrashRecovery(b *testing.B) {
	s := start(b, supervisor.Config{MaxRestarts: 1 << 30, RestartWindow: time.Hour})
	c := open(b, s)
	ctx := context.Background()
	var d []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
			b.Fatal(err)
		}
		if _, err := c.QueryRow(ctx, "SELECT count(*) FROM t"); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
	}
	reportPercentiles(b, d, "")
}

// BenchmarkCancelLatency measures the time from cancelling a running long query to its
// caller returning ("return-") and to the connection answering its next query ("free-").
func BenchmarkCancelLatency(b *testing.B) {
	s := start(b, supervisor.Config{})
	c := open(b, s)
	started := startedFunc(b, c)
	var ret, free []time.Duration
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.QueryRow(ctx, longQuery)
			done <- err
		}()
		<-started
		t0 := time.Now()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
		ret = append(ret, time.Since(t0))
		if _, err := c.QueryRow(context.Background(), "SELECT 1"); err != nil {
			b.Fatal(err)
		}
		free = append(free, time.Since(t0))
	}
	reportPercentiles(b, ret, "return-")
	reportPercentiles(b, free, "free-")
}

// BenchmarkPoolReads compares point selects from 8 goroutines through a pool with 2 readers
// with the same through a single Conn, in the same run.
func BenchmarkPoolReads(b *testing.B) {
	const rows = 20_000
	s := start(b, supervisor.Config{})
	ctx := context.Background()
	p, err := s.OpenPool(ctx, filepath.Join(b.TempDir(), "pool.db"), 2)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	if err := p.ExecScript(ctx, "CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	args := make([][]any, rows)
	for i := range args {
		args[i] = []any{fmt.Sprintf("value %d", i)}
	}
	if _, err := p.ExecMany(ctx, "INSERT INTO kv (v) VALUES (?)", args); err != nil {
		b.Fatal(err)
	}
	single := p.Writer()
	run := func(b *testing.B, query func(id int64) (messages.Row, error)) {
		b.SetParallelism(4) // 8 goroutines on 2 cores
		b.ReportAllocs()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := rand.Int64N(rows) + 1
				if row, err := query(id); err != nil || row.Index(0) != id {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
	}
	const q = "SELECT id, v FROM kv WHERE id = ?"
	b.Run("pool-2-readers", func(b *testing.B) {
		run(b, func(id int64) (messages.Row, error) { return p.QueryRow(ctx, q, id) })
	})
	b.Run("single-conn", func(b *testing.B) {
		run(b, func(id int64) (messages.Row, error) { return single.QueryRow(ctx, q, id) })
	})
}

// pointSelector is an actor that runs n point selects one after the other, each sent when the
// previous one's reply came, the way an actor that needs each answer before its next step
// does, and reports on done.
type pointSelector struct {
	db   *actor.PID
	mode string // "future": RequestFuture + ReenterAfter; "ask": actors.Ask; "message": Request, the reply as a message
	n    int
	done chan error
}

type runSelects struct{ n int }

func (p *pointSelector) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case runSelects:
		p.n = m.n
		p.next(ctx)
	case *messages.Rows:
		p.check(ctx, m, nil)
	}
}

func (p *pointSelector) query() *messages.Query {
	return &messages.Query{SQL: "SELECT id, v FROM kv WHERE id = ?", Args: []any{int64(p.n%1000 + 1)}, OneRow: true}
}

func (p *pointSelector) next(ctx actor.Context) {
	if p.n == 0 {
		p.done <- nil
		return
	}
	switch p.mode {
	case "future":
		f := ctx.RequestFuture(p.db, p.query(), 10*time.Second)
		ctx.ReenterAfter(f, func(res any, err error) {
			r, _ := res.(*messages.Rows)
			p.check(ctx, r, err)
		})
	case "ask":
		actors.Ask(ctx, p.db, p.query(), 10*time.Second, func(r *messages.Rows, err error) { p.check(ctx, r, err) })
	case "message":
		ctx.Request(p.db, p.query())
	}
}

func (p *pointSelector) check(ctx actor.Context, r *messages.Rows, err error) {
	if err == nil && (r == nil || r.Err != nil || len(r.Rows) != 1) {
		err = fmt.Errorf("point select: %#v", r)
	}
	if err != nil {
		p.done <- err
		return
	}
	p.n--
	p.next(ctx)
}

// BenchmarkPointSelectFromActor compares a point select by primary key from a program's actor
// (RequestFuture + ReenterAfter; actors.Ask; Request with the reply as a message) with the same
// through a handle's QueryRow, in the same run: what the actor path costs beside the handle's.
func BenchmarkPointSelectFromActor(b *testing.B) {
	s := start(b, supervisor.Config{})
	ctx := context.Background()
	c, err := s.Open(ctx, filepath.Join(b.TempDir(), "kv.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.ExecScript(ctx, "CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	args := make([][]any, 1000)
	for i := range args {
		args[i] = []any{fmt.Sprintf("value %d", i)}
	}
	if _, err := c.ExecMany(ctx, "INSERT INTO kv (v) VALUES (?)", args); err != nil {
		b.Fatal(err)
	}
	b.Run("handle", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := c.QueryRow(ctx, "SELECT id, v FROM kv WHERE id = ?", int64(i%1000+1)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, mode := range []string{"future", "ask", "message"} {
		b.Run("actor-"+mode, func(b *testing.B) {
			p := &pointSelector{db: c.PID(), mode: mode, done: make(chan error, 1)}
			pid := s.System().Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }))
			defer func() { s.System().Root.StopFuture(pid).Wait() }()
			b.ReportAllocs()
			b.ResetTimer()
			s.System().Root.Send(pid, runSelects{n: b.N})
			if err := <-p.done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
