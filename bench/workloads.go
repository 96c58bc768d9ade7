package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// sizes are the workloads' sizes: full (the default) or -quick.
type sizes struct {
	Autocommit int           `json:"autocommit_inserts"`
	Bulk       int           `json:"bulk_rows"`
	Points     int           `json:"point_selects"`
	SeedRows   int           `json:"read_table_rows"` // rows of the table the read workloads read
	Readers    int           `json:"concurrent_readers"`
	ReadFor    time.Duration `json:"concurrent_duration_ns"`
	Ingest     int           `json:"ingest_events"` // events per ingest row, split among its producers
	// IngestBound is the events of the events API's target (ingest-target) and of the two rows
	// it pairs (the most producers, each event committed; one transaction): issue 21 defines
	// the target on 64,000 events.
	IngestBound int   `json:"ingest_bound_events"`
	IngestBatch int   `json:"ingest_hand_batch"`
	Producers   []int `json:"ingest_producers"`
	Opens       int   `json:"opens"`
	IdleConns   int   `json:"idle_conns"`
}

var fullSizes = sizes{
	Autocommit: 5_000, Bulk: 200_000, Points: 20_000, SeedRows: 200_000,
	Readers: 8, ReadFor: 2 * time.Second,
	Ingest: 20_000, IngestBound: 64_000, IngestBatch: 1_000, Producers: []int{1, 8, 64},
	Opens: 200, IdleConns: 100,
}

var quickSizes = sizes{
	Autocommit: 300, Bulk: 10_000, Points: 1_000, SeedRows: 10_000,
	Readers: 8, ReadFor: 200 * time.Millisecond,
	Ingest: 1_000, IngestBound: 1_000, IngestBatch: 1_000, Producers: []int{1, 8, 64},
	Opens: 20, IdleConns: 100,
}

// sample is what one measurement of one system yields: n operations (rows, events, selects,
// opens, connections) in secs seconds, or bytes of resident memory for n connections.
type sample struct {
	N     float64 `json:"n"`
	Secs  float64 `json:"seconds"`
	Bytes float64 `json:"bytes"`
}

// metric turns a sample into a row's value.
type metric func(sample) float64

func microsPerOp(s sample) float64 { return s.Secs / s.N * 1e6 }
func perSecond(s sample) float64   { return s.N / s.Secs }
func kibPerConn(s sample) float64  { return s.Bytes / s.N / 1024 }

// A workload is one row of the table.
type workload struct {
	ID    string `json:"id"`    // the row's name, also accepted by -only
	Group string `json:"group"` // the -only name of its family
	Title string `json:"title"`
	Unit  string `json:"unit"`
	Lower bool   `json:"lower_is_better"`
	Base  string `json:"base"` // the system the row's ratios are relative to
	// systems, when set, are the only systems with a cell in the row (the others show "—").
	systems []string
	// seeded: the workload reads the shared seeded database; otherwise it gets a fresh one,
	// and, when rows > 0, must leave that many rows in it.
	seeded bool
	rows   int
	value  metric
	// run measures one Go system once, or, for a workload with together instead, the Go
	// systems of a run at once, interleaved, one sample each (see the function together); py
	// is the op the Python script runs.
	run      func(ctx context.Context, e *env, sys system) (sample, error)
	together func(ctx context.Context, e *env, syss []system) ([]sample, error)
	py       map[string]any
}

// has reports whether s has a cell in w's row: it runs w's group, and w has no list of
// systems or lists it.
func (w *workload) has(s system) bool {
	return s.runs(w.Group) && (w.systems == nil || slices.Contains(w.systems, s.id))
}

// env is what the workloads share in one suite run.
type env struct {
	dir    string // temporary files
	seeded string // the read workloads' database: SeedRows events, shared read-only
	sz     sizes
	seq    atomic.Int64
	// memChild measures resident memory per idle connection in a fresh process.
	memChild func(ctx context.Context, sys system, path string, n int) (sample, error)
}

// fresh returns the path of a new database holding the empty events table.
func (e *env) fresh() (string, error) {
	path := filepath.Join(e.dir, fmt.Sprintf("w%04d.db", e.seq.Add(1)))
	return path, createDB(path)
}

func workloads(sz sizes) []workload {
	ws := []workload{
		{ID: "autocommit", Group: "autocommit", Unit: "µs/insert", Lower: true, value: microsPerOp,
			Title: fmt.Sprintf("1. autocommit single-row inserts (%s)", count(sz.Autocommit)),
			rows:  sz.Autocommit, together: runAutocommitTogether, py: map[string]any{"op": "autocommit", "n": sz.Autocommit}},
		{ID: "bulk", Group: "bulk", Unit: "rows/s", value: perSecond,
			Title: fmt.Sprintf("2. bulk insert, one transaction (%s rows)", count(sz.Bulk)),
			rows:  sz.Bulk, together: runBulkTogether, py: map[string]any{"op": "bulk", "n": sz.Bulk}},
		{ID: "point", Group: "point", Unit: "µs/select", Lower: true, value: microsPerOp,
			Title:  fmt.Sprintf("3. point selects by primary key (%s, random ids)", count(sz.Points)),
			seeded: true, together: runPointTogether, py: map[string]any{"op": "point", "n": sz.Points, "rows": sz.SeedRows}},
		{ID: "scan", Group: "scan", Unit: "rows/s", value: perSecond,
			Title:  fmt.Sprintf("4. full scan, all columns (%s rows)", count(sz.SeedRows)),
			seeded: true, together: runScanTogether, py: map[string]any{"op": "scan", "rows": sz.SeedRows, "chunk": scanChunk}},
		{ID: "concurrent", Group: "concurrent", Unit: "selects/s", value: perSecond,
			Title:  fmt.Sprintf("5. concurrent point selects, %d readers × own connection, %s", sz.Readers, sz.ReadFor),
			seeded: true, run: runConcurrent, py: map[string]any{"op": "concurrent", "readers": sz.Readers, "seconds": sz.ReadFor.Seconds(), "rows": sz.SeedRows}},
	}
	for _, p := range sz.Producers {
		for _, batch := range []bool{false, true} {
			how, id, n := "each event committed", fmt.Sprintf("ingest-%d-each", p), sz.Ingest
			if batch {
				how, id = fmt.Sprintf("batches of %s by hand", count(sz.IngestBatch)), fmt.Sprintf("ingest-%d-batch", p)
			} else if p == sz.Producers[len(sz.Producers)-1] {
				n = sz.IngestBound // the target's row
			}
			ws = append(ws, workload{ID: id, Group: "ingest", Unit: "events/s", value: perSecond, Base: "actorlite-events",
				Title: fmt.Sprintf("6. event ingest, %d producer%s, %s (%s events)", p, plural(p), how, count(n)),
				rows:  n,
				run: func(ctx context.Context, e *env, sys system) (sample, error) {
					size := 0 // each event committed
					if batch {
						size = e.sz.IngestBatch
					}
					return runIngest(ctx, e, sys, n, p, size)
				},
				py: map[string]any{"op": "ingest", "n": n, "producers": p, "batch": batchSize(batch, sz.IngestBatch)}})
		}
	}
	// The bound of event ingest: one producer, every event in one transaction, on a fresh
	// table (the events API's target with the most producers is a share of its rate, on as many
	// events: IngestBound, large enough that the transaction outgrows SQLite's page cache, as a
	// real bulk load does).
	ws = append(ws, workload{ID: "ingest-1-tx", Group: "ingest", Unit: "events/s", value: perSecond, Base: "actorlite-events",
		Title: fmt.Sprintf("6. event ingest, 1 producer, all events in one transaction (%s events)", count(sz.IngestBound)),
		rows:  sz.IngestBound,
		run: func(ctx context.Context, e *env, sys system) (sample, error) {
			return runIngest(ctx, e, sys, e.sz.IngestBound, 1, e.sz.IngestBound)
		},
		py: map[string]any{"op": "ingest", "n": sz.IngestBound, "producers": 1, "batch": sz.IngestBound}})
	// The events API's target: its rate with the most producers ÷ direct's in one transaction,
	// the two measured back to back.
	ws = append(ws, workload{ID: "ingest-target", Group: "ingest", Unit: "events/s", value: perSecond, Base: "ncruces",
		Title: fmt.Sprintf("6. events target: the events API with %d producers, each event acked after its commit, and direct in one transaction, back to back (%s events)",
			sz.Producers[len(sz.Producers)-1], count(sz.IngestBound)),
		rows: sz.IngestBound, systems: []string{"actorlite-events", "ncruces"}, together: runIngestTarget})
	ws = append(ws,
		workload{ID: "open", Group: "open", Unit: "µs/open", Lower: true, value: microsPerOp,
			Title:    fmt.Sprintf("7. open + first SELECT 1 (%s opens)", count(sz.Opens)),
			together: runOpenTogether, py: map[string]any{"op": "open", "n": sz.Opens}},
		workload{ID: "memory", Group: "memory", Unit: "KiB/conn", Lower: true, value: kibPerConn,
			Title: fmt.Sprintf("7. resident memory per idle connection (%d held open)", sz.IdleConns),
			run:   runMemory, py: map[string]any{"op": "memory", "n": sz.IdleConns}},
	)
	for i := range ws {
		if ws[i].Base == "" {
			ws[i].Base = "actorlite"
		}
	}
	return ws
}

func batchSize(batch bool, n int) int {
	if batch {
		return n
	}
	return 1
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// session opens one connection of sys on path and runs fn with it, then closes everything.
func session(ctx context.Context, sys system, path string, fn func(engine, dbConn) (sample, error)) (sample, error) {
	eng, err := sys.start(ctx, path)
	if err != nil {
		return sample{}, err
	}
	defer eng.stop(ctx)
	c, err := eng.open(ctx)
	if err != nil {
		return sample{}, err
	}
	defer c.close(ctx)
	return fn(eng, c)
}

// checkCount fails unless the events table at path holds want rows.
func checkCount(path string, want int) error {
	n, err := countRows(path)
	if err == nil && n != int64(want) {
		err = fmt.Errorf("the table holds %d rows, want %d", n, want)
	}
	return err
}

// writeSession gives fn a connection of sys to a fresh database and n events to write, times
// fn, and checks that the table then holds the n events.
func writeSession(ctx context.Context, e *env, sys system, n int, fn func(engine, dbConn, []event) error) (sample, error) {
	path, err := e.fresh()
	if err != nil {
		return sample{}, err
	}
	evs := makeEvents(n)
	s, err := session(ctx, sys, path, func(eng engine, c dbConn) (sample, error) {
		t0 := time.Now()
		err := fn(eng, c, evs)
		return sample{N: float64(n), Secs: time.Since(t0).Seconds()}, err
	})
	if err != nil {
		return sample{}, err
	}
	return s, checkCount(path, n)
}

// writeTogether measures n events written by each of syss into a fresh database of its own,
// interleaved (together, in parts turns): do(s, c, evs, lo, hi) writes events lo to hi of
// evs on system s's connection c. Each table must then hold the n events.
func writeTogether(ctx context.Context, e *env, syss []system, n, parts int, do func(s system, c dbConn, evs []event, lo, hi int) error) ([]sample, error) {
	paths := make([]string, len(syss))
	for i := range paths {
		var err error
		if paths[i], err = e.fresh(); err != nil {
			return nil, err
		}
	}
	evs := makeEvents(n)
	smps, err := together(ctx, syss, paths, nil, n, parts, func(s system, c dbConn, lo, hi int) error {
		return do(s, c, evs, lo, hi)
	})
	if err != nil {
		return nil, err
	}
	for i, path := range paths {
		if err := checkCount(path, n); err != nil {
			return nil, fmt.Errorf("%s: %w", syss[i].id, err)
		}
	}
	return smps, nil
}

// runAutocommitTogether: each system inserts the same events, one autocommit INSERT each, into
// a fresh database of its own, interleaved (writeTogether).
func runAutocommitTogether(ctx context.Context, e *env, syss []system) ([]sample, error) {
	return writeTogether(ctx, e, syss, e.sz.Autocommit, turnSlices, func(_ system, c dbConn, evs []event, lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := c.insert(ctx, &evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// runBulkTogether: each system writes the same events in one transaction into a fresh
// database of its own, interleaved (writeTogether): the transaction is begun in the system's
// first turn and committed in its last, each turn inserting its slice of the events (an
// ExecMany for actorlite).
func runBulkTogether(ctx context.Context, e *env, syss []system) ([]sample, error) {
	n := e.sz.Bulk
	return writeTogether(ctx, e, syss, n, turnSlices, func(_ system, c dbConn, evs []event, lo, hi int) error {
		b, ok := c.(bulkConn)
		if !ok {
			return errUnsupported
		}
		if lo == 0 {
			if err := b.begin(ctx); err != nil {
				return err
			}
		}
		if err := b.insertMany(ctx, evs[lo:hi]); err != nil {
			return err // closing the connection rolls the transaction back
		}
		if hi == n {
			return b.commit(ctx)
		}
		return nil
	})
}

// warmups is how many untimed point selects prepare a connection (statement, page cache).
const warmups = 100

// turnSlices is how many slices together cuts a run into, at most: 20,000 point selects make
// slices of 1,000, about 7 ms each; 5,000 autocommit inserts slices of 250, about 8 ms.
const turnSlices = 20

// runPointTogether: each system reads the same random ids from the seeded database, one point
// select each, interleaved (together).
func runPointTogether(ctx context.Context, e *env, syss []system) ([]sample, error) {
	ids := randomIDs(e.sz.Points, e.sz.SeedRows)
	paths := make([]string, len(syss))
	for i := range paths {
		paths[i] = e.seeded
	}
	warm := func(c dbConn) error { return pointSelects(ctx, c, ids[:min(warmups, len(ids))]) }
	return together(ctx, syss, paths, warm, len(ids), turnSlices, func(_ system, c dbConn, lo, hi int) error {
		return pointSelects(ctx, c, ids[lo:hi])
	})
}

// together measures n operations on each of syss in one run, interleaved: each system has a
// connection open to its database (paths[i]), warmed up by warm, and they take turns through
// parts slices of the operations (turnSlices, unless the workload says), do(s, c, lo, hi)
// doing operations lo to hi on system s's connection c, the first turn of each slice
// rotating. A system's sample is its n operations over the time of its own turns. This
// machine (a VM) has slow phases that last from milliseconds to seconds and slow whichever
// system runs through them by 10-25%; measured one after the other, a system's whole run
// could fall in one, and the ratio of two systems' medians moved by more than the difference
// being measured (bench/README.md, "Fifth round"). Interleaved, every system meets a phase in
// about the same share of its turns.
//
// Only workloads whose systems do no work between their calls are measured so, or in turns
// after which none is left: the scan's turns are whole scans. The garbage collector starts in
// the turn of whichever system allocates when the heap reaches its goal, and its concurrent
// marking can spill into the next turn: a share of one system's collection cost can land on
// another (not measured; the collector takes about 2% of a point select in package actors'
// BenchmarkPointSelect).
func together(ctx context.Context, syss []system, paths []string, warm func(dbConn) error, n, parts int, do func(s system, c dbConn, lo, hi int) error) ([]sample, error) {
	conns := make([]dbConn, len(syss))
	for _, i := range openOrder(syss) {
		sys := syss[i]
		eng, err := sys.start(ctx, paths[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sys.id, err)
		}
		defer eng.stop(ctx)
		c, err := eng.open(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sys.id, err)
		}
		defer c.close(ctx)
		if warm != nil {
			if err := warm(c); err != nil {
				return nil, fmt.Errorf("%s: %w", sys.id, err)
			}
		}
		conns[i] = c
	}
	runtime.GC() // the warm-ups' garbage, and the connections', is nobody's turn
	return takeTurns(syss, n, parts, func(i, lo, hi int) (time.Duration, error) {
		t0 := time.Now()
		err := do(syss[i], conns[i], lo, hi)
		return time.Since(t0), err
	})
}

// takeTurns is together's loop: syss take turns through parts slices of n operations, the
// first turn of each slice rotating; do(i, lo, hi) does operations lo to hi for syss[i] and
// returns the time they count. A system's sample is its n operations over its turns' time.
func takeTurns(syss []system, n, parts int, do func(i, lo, hi int) (time.Duration, error)) ([]sample, error) {
	took := make([]time.Duration, len(syss))
	parts = max(min(parts, n), 1)
	for k := range parts {
		lo, hi := k*n/parts, (k+1)*n/parts
		for j := range syss {
			i := (j + k) % len(syss)
			d, err := do(i, lo, hi)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", syss[i].id, err)
			}
			took[i] += d
		}
	}
	smps := make([]sample, len(syss))
	for i := range smps {
		smps[i] = sample{N: float64(n), Secs: took[i].Seconds()}
	}
	return smps, nil
}

// openOrder returns the indexes of syss in the order their connections may be opened to one
// database at once: the systems on go-sqlite3 (actorlite's among them) before mattn's. mattn's
// SQLite, C, locks with POSIX locks, go-sqlite3 with OFD locks (its vfs package's README): when
// a C SQLite connection opened a WAL database first, the first go-sqlite3 connection opened
// while it holds it fails, after retrying for about 10 s, with "locking protocol"
// (SQLITE_PROTOCOL).
// Opened the other way round, they share it (TestCSQLiteFirstLocksOutGoSQLite).
func openOrder(syss []system) []int {
	order := make([]int, len(syss))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(tableIndex(syss[a].id), tableIndex(syss[b].id))
	})
	return order
}

// tableIndex returns where the system id is in the table (systems); mattn comes after every
// system on go-sqlite3.
func tableIndex(id string) int {
	return slices.IndexFunc(systems, func(s system) bool { return s.id == id })
}

// pointSelects reads each of ids on c and checks what it read.
func pointSelects(ctx context.Context, c dbConn, ids []int64) error {
	var r eventRow
	for _, id := range ids {
		if err := c.point(ctx, id, &r); err != nil {
			return err
		}
		if r.id != id || r.ts.IsZero() || len(r.props) == 0 {
			return fmt.Errorf("point select %d read %+v", id, r)
		}
	}
	return nil
}

// scansPerRun is how many full scans each Go system makes in a run of the scan workload,
// taking turns with the other systems (together), one whole scan per turn.
const scansPerRun = 3

// runScanTogether: each system scans the seeded table scansPerRun times, interleaved
// (together), a turn being one whole scan: a cursor reads ahead, so a turn that ended within
// a scan would leave fetches running into the next system's turn. A sample counts rows.
func runScanTogether(ctx context.Context, e *env, syss []system) ([]sample, error) {
	paths := make([]string, len(syss))
	for i := range paths {
		paths[i] = e.seeded
	}
	smps, err := together(ctx, syss, paths, nil, scansPerRun, turnSlices, func(_ system, c dbConn, lo, hi int) error {
		for range hi - lo {
			if err := scanAll(ctx, c, e.sz.SeedRows); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range smps {
		smps[i].N *= float64(e.sz.SeedRows)
	}
	return smps, err
}

// scanAll reads every row of the seeded table on c, and checks that it read all rows.
func scanAll(ctx context.Context, c dbConn, rows int) error {
	n, sum := 0, int64(0)
	err := c.scan(ctx, func(r *eventRow) {
		n++
		sum += r.id + int64(len(r.user)+len(r.name)+len(r.props)) + int64(r.ts.Nanosecond())
	})
	if err != nil {
		return err
	}
	if n != rows || sum == 0 {
		return fmt.Errorf("scan read %d rows, want %d", n, rows)
	}
	return nil
}

func runConcurrent(ctx context.Context, e *env, sys system) (sample, error) {
	eng, err := sys.start(ctx, e.seeded)
	if err != nil {
		return sample{}, err
	}
	defer eng.stop(ctx)
	conns := make([]dbConn, e.sz.Readers)
	for i := range conns {
		c, err := eng.open(ctx)
		if err != nil {
			return sample{}, err
		}
		defer c.close(ctx)
		conns[i] = c
	}
	var stop atomic.Bool
	var total atomic.Int64
	errs := make(chan error, len(conns))
	var wg sync.WaitGroup
	t0 := time.Now()
	timer := time.AfterFunc(e.sz.ReadFor, func() { stop.Store(true) })
	defer timer.Stop()
	for i, c := range conns {
		wg.Go(func() {
			ids := randomIDs(4096, e.sz.SeedRows)
			var r eventRow
			n := 0
			for ; !stop.Load(); n++ {
				id := ids[(n+i*512)%len(ids)]
				if err := c.point(ctx, id, &r); err != nil {
					errs <- err
					stop.Store(true)
					return
				}
				if r.id != id {
					errs <- fmt.Errorf("point select %d read id %d", id, r.id)
					stop.Store(true)
					return
				}
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	select {
	case err := <-errs:
		return sample{}, err
	default:
	}
	return sample{N: float64(total.Load()), Secs: secs}, nil
}

// serialized makes a connection that is not safe for concurrent use shareable by producers,
// as a program sharing one go-sqlite3 connection would: with a mutex.
type serialized struct {
	mu sync.Mutex
	dbConn
}

func (s *serialized) insert(ctx context.Context, e *event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dbConn.insert(ctx, e)
}

func (s *serialized) insertBatch(ctx context.Context, evs []event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dbConn.insertBatch(ctx, evs)
}

// runIngest: producers goroutines share one connection (the events API for actorlite events)
// and write n events between them, each event committed before the producer goes on (size 0),
// or in batches of size events by hand (InsertEvents per batch for the events API).
func runIngest(ctx context.Context, e *env, sys system, n, producers, size int) (sample, error) {
	return writeSession(ctx, e, sys, n, func(eng engine, c dbConn, evs []event) error {
		if !eng.concurrent() {
			c = &serialized{dbConn: c}
		}
		return produce(ctx, c, evs, producers, size)
	})
}

// produce has producers goroutines share c (safe for concurrent use) and write evs between
// them, each event committed before its producer goes on (size 0), or in batches of size
// events by hand. It returns when every producer has.
func produce(ctx context.Context, c dbConn, evs []event, producers, size int) error {
	errs := make(chan error, producers)
	var wg sync.WaitGroup
	for p := range producers {
		mine := evs[p*len(evs)/producers : (p+1)*len(evs)/producers]
		wg.Go(func() {
			for len(mine) > 0 {
				var err error
				if size > 0 {
					n := min(size, len(mine))
					err = c.insertBatch(ctx, mine[:n])
					mine = mine[n:]
				} else {
					err = c.insert(ctx, &mine[0])
					mine = mine[1:]
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// runIngestTarget measures the events API's target: the events API with the most producers
// (Producers' last) sharing it, each event acked after its commit (as ingest-64-each), and
// go-sqlite3 called directly writing the same events in one transaction (as ingest-1-tx),
// each into a fresh database of its own, back to back (writeTogether, one turn each, the
// first rotating between runs). Measured a row apart, seconds apart, the two moved apart by
// up to a third between the runs of one invocation (bench/README.md, "Sixth round"). They are
// not cut into turns as the other rows taken together are: each turn of the events API would
// end with its producers finishing one by one, and its writer waiting up to MaxDelay for the
// events of each producer that has left (in 10 turns of 6,400 events it read 114–134k
// events/s, against 138–169k in one).
func runIngestTarget(ctx context.Context, e *env, syss []system) ([]sample, error) {
	producers := e.sz.Producers[len(e.sz.Producers)-1]
	return writeTogether(ctx, e, syss, e.sz.IngestBound, 1, func(s system, c dbConn, evs []event, lo, hi int) error {
		switch s.id {
		case "actorlite-events":
			return produce(ctx, c, evs[lo:hi], producers, 0)
		case "ncruces":
			return c.insertBatch(ctx, evs[lo:hi])
		}
		return fmt.Errorf("%s is not one of the events target's systems", s.id)
	})
}

// openWarmups is how many untimed opens come before a system's timed ones.
const openWarmups = 3

// runOpenTogether: each system opens a connection to a fresh database of its own, runs SELECT 1
// on it (timed) and closes it (untimed), Opens times, interleaved (takeTurns, as together):
// no connection is held open to the database meanwhile, so every open is its first.
// actorlite's supervisor is started before, untimed.
func runOpenTogether(ctx context.Context, e *env, syss []system) ([]sample, error) {
	engs := make([]engine, len(syss))
	for i, sys := range syss {
		path, err := e.fresh()
		if err != nil {
			return nil, err
		}
		eng, err := sys.start(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sys.id, err)
		}
		defer eng.stop(ctx)
		for range openWarmups {
			if _, err := openOnce(ctx, eng); err != nil {
				return nil, fmt.Errorf("%s: %w", sys.id, err)
			}
		}
		engs[i] = eng
	}
	runtime.GC()
	return takeTurns(syss, e.sz.Opens, turnSlices, func(i, lo, hi int) (time.Duration, error) {
		var took time.Duration
		for range hi - lo {
			d, err := openOnce(ctx, engs[i])
			if err != nil {
				return 0, err
			}
			took += d
		}
		return took, nil
	})
}

// openOnce opens a connection of eng and runs SELECT 1 on it, returning the time those took,
// then closes it.
func openOnce(ctx context.Context, eng engine) (time.Duration, error) {
	t0 := time.Now()
	c, err := eng.open(ctx)
	if err != nil {
		return 0, err
	}
	err = c.selectOne(ctx)
	took := time.Since(t0)
	return took, errors.Join(err, c.close(ctx))
}

func runMemory(ctx context.Context, e *env, sys system) (sample, error) {
	path, err := e.fresh()
	if err != nil {
		return sample{}, err
	}
	return e.memChild(ctx, sys, path, e.sz.IdleConns)
}

// count formats n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
