package supervisor_test

// The crash storm: a seeded, reproducible fault-injection run against the public API only.
//
//	go test -race -run TestStorm ./supervisor/                        # short storm (CI): ~1,000 crashes
//	ACTORLITE_STORM_CRASHES=100000 go test -run TestStorm -timeout 2h ./supervisor/  # long storm
//	ACTORLITE_STORM_SEED=n go test -run TestStorm ./supervisor/       # replay a seed's decisions
//
// Workers drive every request kind at once on shared connections, connections of their own
// (closed and reopened), a pool and the events writer, with contexts that end at random
// moments (nil, never, 0-3 ms, cancelled 0-3 ms in, already cancelled, 20-300 ms), while
// crashes are injected three ways: a user function that panics on the calls the seeded RNG
// picks, a fault hook that panics on a chosen request kind of a chosen call (so that requests
// that run no SQL function crash too: Begin, Commit, Fetch, blob I/O, Dump, CloseCursor,
// Close) and an events-writer fault; and an aggregate whose Final panics while a connection
// closes a half-computed window. Meanwhile an actor messages connections through
// RequestFuture, a second supervisor with a budget of 2 restarts has connections and pool
// readers crashed to death under use, and floods of abandoned requests and events test that
// memory is bounded in bytes. A seed fixes every decision a worker makes; the interleaving of
// the workers is the scheduler's, so a replay reproduces the storm's mix, not its exact
// schedule.
//
// ACTORLITE_STORM_WATCHDOG (a duration) overrides the watchdog's delay. Violations name the
// connection, the ctx and the worker's last calls; when the heap check fails, a heap profile
// is written and its path logged.
//
// Every write gets unique keys and a ledger entry: ACKED (nil error: must be present at the
// end), CLEAN (an error that guarantees nothing was applied, by the docs) or UNKNOWN (its
// ctx's error while it may have run: present or absent, all-or-nothing for a call that is one
// transaction, a prefix of its statements for a script that commits statement by statement).
// The invariants checked are listed in TestStorm's doc.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
)

const (
	// stormSlack is how long past its ctx's end a call may take to return.
	stormSlack = 2 * time.Second
	// stormBackground bounds a call whose ctx never ends (context.Background or nil).
	stormBackground = 10 * time.Second
	// stormHeapSlack is how much more live heap than before the storm may remain after it, once
	// every supervisor stopped and the garbage was collected: the storm keeps nothing, so what
	// remains is what the library keeps across supervisors (go-sqlite3's compiled module and
	// its caches, protoactor's globals are already in the baseline, after a warm-up).
	stormHeapSlack = 32 << 20
	stormWorkers   = 6
	stormBlobSize  = 4096
	stormBlobRows  = 4
	stormInsert    = "INSERT INTO t (k, v, call) VALUES (?, maybe_boom(?, ?), ?)"
	stormSchema    = `CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL, call INTEGER NOT NULL);
		CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL);
		INSERT INTO blobs (id, b) VALUES (1, zeroblob(4096)), (2, zeroblob(4096)), (3, zeroblob(4096)), (4, zeroblob(4096));`
)

type stormParams struct {
	seed     uint64
	crashes  int64
	maxTime  time.Duration // the storm stops injecting after this even if short of crashes
	watchdog time.Duration // the whole test panics with every goroutine's stack after this
}

func stormConfig(t *testing.T) stormParams {
	p := stormParams{seed: uint64(time.Now().UnixNano()), crashes: 1000, maxTime: time.Minute}
	if testing.Short() {
		p.crashes = 300
	}
	if v := os.Getenv("ACTORLITE_STORM_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ACTORLITE_STORM_SEED=%q: %v", v, err)
		}
		p.seed = n
	}
	if v := os.Getenv("ACTORLITE_STORM_CRASHES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			t.Fatalf("ACTORLITE_STORM_CRASHES=%q: want a positive count", v)
		}
		p.crashes = n
		p.maxTime = max(time.Minute, time.Duration(n)*20*time.Millisecond)
	}
	p.watchdog = p.maxTime + 3*time.Minute
	if v := os.Getenv("ACTORLITE_STORM_WATCHDOG"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ACTORLITE_STORM_WATCHDOG=%q: %v", v, err)
		}
		p.watchdog = d
	}
	return p
}

// TestStorm runs the crash storm (see the top of this file) and checks, at the end:
//   - every call returned within its ctx's end plus stormSlack (stormBackground for a ctx that
//     never ends), and a watchdog dumps every goroutine if anything hangs;
//   - no call got ErrTransactionLost (every transaction of the storm's is ended right after
//     any failure, so only a connection wedged by the library could answer that), ErrBusy (the
//     storm's transactions last milliseconds; a lock held for busy_timeout is a leak), or any
//     error its call cannot get by the docs;
//   - PRAGMA wal_checkpoint(TRUNCATE) reports busy = 0 on every database while the storm's
//     connections are still open but idle (a leaked cursor, blob or transaction holds a
//     snapshot or lock), and no connection is left inside a transaction;
//   - after Stop, and a reopen by a fresh supervisor: every ACKED write present, no CLEAN
//     write present, UNKNOWN writes all-or-nothing (or a prefix, for scripts), no row nobody
//     wrote, PRAGMA integrity_check "ok", user_version 0 (no refused statement applied; the
//     pragmas applied while preparing are checked right after each refusal), blobs
//     whole;
//   - Stats agree with what the storm caused and saw;
//   - a connection crashed past its budget refuses every call with ErrClosed and ErrCrashed,
//     at once; a pool whose reader was stopped for good goes on reading;
//   - every request an actor sends gets its reply (a crash's counts) before its timeout;
//   - abandoned requests and events pin no more than Config.MaxPendingBytes, resp.
//     EventsConfig.MaxQueuedBytes, while their connection or the
//     events writer is held;
//   - once stopped and unreachable, the storm's supervisors are garbage collected; goroutines
//     return to their baseline and the heap to within stormHeapSlack of it.
func TestStorm(t *testing.T) {
	p := stormConfig(t)
	t.Logf("storm seed=%d crashes=%d (replay: ACTORLITE_STORM_SEED=%d ACTORLITE_STORM_CRASHES=%d)", p.seed, p.crashes, p.seed, p.crashes)
	defer func() {
		if t.Failed() {
			t.Logf("storm FAILED with seed=%d: replay with ACTORLITE_STORM_SEED=%d ACTORLITE_STORM_CRASHES=%d", p.seed, p.seed, p.crashes)
		}
	}()
	stormWarmUp(t)
	leaks := goleak.IgnoreCurrent()
	heap0 := stormHeap()

	collected := stormRun(t, p)

	// Once stopped and unreachable, each supervisor (and with it its actor system, connections'
	// state and queues) is garbage collected.
	limit := time.Now().Add(3 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	for !collected.all() && time.Now().Before(limit) {
		runtime.GC()
		<-tick.C // the cleanups run on a goroutine of their own
	}
	tick.Stop()
	for i, name := range collected.names {
		if !collected.done[i].Load() {
			t.Errorf("supervisor %s still reachable 3 s after Stop and the end of the storm: never freed (see TestStormReproPoolKeepsSupervisor)", name)
		}
	}

	// Goroutines return to their baseline once everything stopped. protoactor's dead-letter
	// throttle outlives its system for a second (see actors' main_test), and this package's
	// TestMain does not ignore it: wait for it too, up to 5 s.
	limit = time.Now().Add(5 * time.Second)
	tick = time.NewTicker(10 * time.Millisecond)
	for goleak.Find(leaks) != nil && time.Now().Before(limit) {
		<-tick.C
	}
	tick.Stop()
	goleak.VerifyNone(t, leaks)
	heap1 := stormHeap()
	t.Logf("heap: %.1f MiB before the storm, %.1f MiB after (slack %d MiB)", float64(heap0)/(1<<20), float64(heap1)/(1<<20), stormHeapSlack>>20)
	if heap1 > heap0+stormHeapSlack {
		t.Errorf("heap after the storm %d bytes, baseline %d: more than %d bytes kept", heap1, heap0, stormHeapSlack)
		if f, err := os.CreateTemp("", "storm-heap-*.pprof"); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
			t.Logf("heap profile (go tool pprof -sample_index=inuse_space -top %s)", f.Name())
		}
	}
}

// stormWarmUp opens and closes a database once, so that what the library keeps for the whole
// process (the compiled SQLite module) is in the baselines.
func stormWarmUp(t *testing.T) {
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Open(ctx, filepath.Join(t.TempDir(), "warm.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryRow(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// stormCollected reports which supervisors of a storm were garbage collected.
type stormCollected struct {
	names []string
	done  []*atomic.Bool
}

func (c *stormCollected) all() bool {
	for _, d := range c.done {
		if !d.Load() {
			return false
		}
	}
	return true
}

// stormRun runs a storm; once it returns, nothing of it is reachable (the storm keeps no
// global state, and nothing the library holds references the storm).
func stormRun(t *testing.T, p stormParams) *stormCollected {
	st := newStorm(t, p)
	collected := &stormCollected{}
	defer func() {
		for name, s := range map[string]*supervisor.Supervisor{"s (events, a pool, connections)": st.s, "s2 (small budget, pools)": st.s2} {
			if s != nil {
				d := &atomic.Bool{}
				runtime.AddCleanup(s, func(d *atomic.Bool) { d.Store(true) }, d)
				collected.names, collected.done = append(collected.names, name), append(collected.done, d)
			}
		}
	}()
	// The watchdog is a goroutine on a channel timer, not a time.AfterFunc: a stopped
	// AfterFunc stays in the runtime's timer heap until it would have fired, and its func
	// (st.dogBark) would keep the whole storm reachable past the heap check.
	dog, quiet := time.NewTimer(p.watchdog), make(chan struct{})
	go func() {
		select {
		case <-dog.C:
			st.dogBark()
		case <-quiet:
		}
	}()
	defer close(quiet)
	st.run()
	return collected
}

func stormHeap() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// ---- fault injection ----

type stormFaultKey struct{}

// stormFault crashes the first request of kind that a call's requests (those carrying it in
// their ctx) make the connection serve.
type stormFault struct {
	id    int64
	kind  string
	fired atomic.Bool
}

func stormReqKind(req messages.Request) string {
	switch req.(type) {
	case *messages.Exec:
		return "Exec"
	case *messages.ExecMany:
		return "ExecMany"
	case *messages.ExecScript:
		return "ExecScript"
	case *messages.Query:
		return "Query"
	case *messages.Fetch:
		return "Fetch"
	case *messages.CloseCursor:
		return "CloseCursor"
	case *messages.Begin:
		return "Begin"
	case *messages.Commit:
		return "Commit"
	case *messages.Rollback:
		return "Rollback"
	case *messages.OpenBlob:
		return "OpenBlob"
	case *messages.BlobRead:
		return "BlobRead"
	case *messages.BlobWrite:
		return "BlobWrite"
	case *messages.CloseBlob:
		return "CloseBlob"
	case *messages.Dump:
		return "Dump"
	case *messages.Close:
		return "Close"
	}
	return "other"
}

func stormFaultHook(req messages.Request) {
	f, ok := req.Context().Value(stormFaultKey{}).(*stormFault)
	if !ok || f.kind != stormReqKind(req) || !f.fired.CompareAndSwap(false, true) {
		return
	}
	panic(fmt.Sprintf("storm fault %d %s", f.id, f.kind))
}

// stormBoom is maybe_boom(v, token): v, or a crash when token is not 0 (the id of the call
// that asked for the crash).
func stormBoom(args []any) (any, error) {
	if tok, _ := args[1].(int64); tok != 0 {
		panic(fmt.Sprintf("storm boom %d", tok))
	}
	return args[0], nil
}

// stormCrashOf parses the panic of the crash an error reports: its source ("boom", "fault",
// "events", or "foreign" for a panic that is not the storm's) and the id in it.
func stormCrashOf(err error) (src string, id int64, ok bool) {
	var ce *messages.CrashError
	if !errors.As(err, &ce) {
		return "", 0, false
	}
	s := fmt.Sprint(ce.Panic)
	var kind string
	switch {
	case strings.HasPrefix(s, "storm boom "):
		_, err = fmt.Sscanf(s, "storm boom %d", &id)
		src = "boom"
	case strings.HasPrefix(s, "storm fault "):
		_, err = fmt.Sscanf(s, "storm fault %d %s", &id, &kind)
		src = "fault"
	case s == "storm final":
		src = "final"
	case strings.HasPrefix(s, "storm events fault batch="):
		_, err = fmt.Sscanf(s, "storm events fault batch=%d", &id)
		src = "events"
	default:
		return "foreign", 0, true
	}
	if err != nil {
		return "foreign", 0, true
	}
	return src, id, true
}

// stormMix is a 64-bit mix (splitmix64's finalizer).
func stormMix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// ---- the ledger ----

type stormOutcome uint8

const (
	outUnknown stormOutcome = iota // may or may not have been applied
	outAcked                       // applied: every key present
	outClean                       // not applied: no key present
	outExact                       // exactly keys[:exact] present (a script crashed at a known statement)
)

func (o stormOutcome) String() string {
	return [...]string{"UNKNOWN", "ACKED", "CLEAN", "EXACT"}[o]
}

type stormCall struct {
	id     int64
	kind   string
	db     string // database name, "events" for events
	keys   []int64
	out    stormOutcome
	prefix bool // statements commit one by one: UNKNOWN means a prefix of keys, not all-or-nothing
	exact  int
	why    string // how the outcome was decided, for reports
}

// ---- the storm ----

type stormViolations struct {
	n     int
	first []string
}

type stormTarget struct {
	name string // "a", "own3", "pool", ...
	db   string
	r    stormRunner
	c    *actors.Conn // nil for the pool
}

// stormRunner is what a connection and a pool both do.
type stormRunner interface {
	Exec(ctx context.Context, sql string, args ...any) (messages.Result, error)
	ExecMany(ctx context.Context, sql string, args [][]any) (messages.Result, error)
	ExecScript(ctx context.Context, script string) error
	Query(ctx context.Context, sql string, args ...any) (*actors.Cursor, error)
	QueryRow(ctx context.Context, sql string, args ...any) (messages.Row, error)
}

type storm struct {
	t       *testing.T
	p       stormParams
	dir     string
	start   time.Time
	s, s2   *supervisor.Supervisor
	dbs     []string // the shared file databases
	shared  map[string]*actors.Conn
	pool    *actors.Pool
	dsns    map[string]string
	ids     atomic.Int64 // call ids
	keys    atomic.Int64 // row and event keys
	done    chan struct{}
	stopped atomic.Bool
	stops   []*supervisor.Supervisor
	workers []*stormWorker // the storm's workers
	extra   []*stormWorker // the other goroutines that call (an actor's driver, the doomed cycles)

	mu        sync.Mutex
	viol      map[string]*stormViolations
	vorder    []string
	crashes   map[string]bool   // distinct crashes seen ("boom 12", "events 7", ...)
	lastCrash map[string]string // connection name → the last crash seen on it
	nviol     atomic.Int64
	poolMu    sync.RWMutex // read: an op uses the pool; write: unwedging its writer
	floods    []string     // what each flood left pinned, for the report
	nflood    int          // events floods run, naming their databases
	aborted   int          // blob or cursor reads aborted by another caller's rollback (SQLITE_ABORT)
	late      []stormLate

	closeFaults   atomic.Int64 // Close requests armed to crash
	reopens       atomic.Int64
	doomedCrashes atomic.Int64 // crashes on s2
	doomedStops   atomic.Int64 // connections s2 stopped for good (conns and pool readers)
	pastNs        atomic.Int64 // max latency past a ctx's end
	bgNs          atomic.Int64 // max latency of a call whose ctx never ends
	peakHeap      atomic.Uint64
	stallNs       atomic.Int64
	actorReqs     atomic.Int64
	rowsVerified  int64
	openConns0    int64
}

func newStorm(t *testing.T, p stormParams) *storm {
	return &storm{t: t, p: p, dir: t.TempDir(), done: make(chan struct{}), viol: map[string]*stormViolations{},
		crashes: map[string]bool{}, lastCrash: map[string]string{}, shared: map[string]*actors.Conn{}, dsns: map[string]string{}}
}

func (st *storm) violate(cat, format string, args ...any) {
	st.nviol.Add(1)
	st.mu.Lock()
	defer st.mu.Unlock()
	v := st.viol[cat]
	if v == nil {
		v = &stormViolations{}
		st.viol[cat] = v
		st.vorder = append(st.vorder, cat)
	}
	v.n++
	if len(v.first) < 6 {
		v.first = append(v.first, fmt.Sprintf("[%.3fs] ", time.Since(st.start).Seconds())+fmt.Sprintf(format, args...))
	}
}

func (st *storm) sawCrash(conn, what string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.crashes[what] = true
	if conn != "" {
		st.lastCrash[conn] = what
	}
}

func (st *storm) lastCrashOn(conn string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.lastCrash[conn]; ok {
		return s
	}
	return "none seen"
}

// latency checks that a call that started at start returned within its ctx's end (zero: it
// never ends) plus the slack.
//
// A call late by more than its bound is judged at the end, against its bound plus the longest
// stall of the whole process (st.stallNs, measured by a ticker): on a loaded machine the
// process itself can stop for a second, and that is no fault of the library's.
func (st *storm) latency(kind string, start, end time.Time, detail func() string) {
	now := time.Now()
	var late stormLate
	if end.IsZero() {
		el := now.Sub(start)
		stormMax(&st.bgNs, int64(el))
		if el <= stormBackground {
			return
		}
		late = stormLate{what: fmt.Sprintf("%s with a ctx that never ends took %v (bound %v)", kind, el, stormBackground), by: el - stormBackground}
	} else {
		past := now.Sub(start)
		if end.After(start) {
			past = now.Sub(end)
		}
		stormMax(&st.pastNs, int64(past))
		if past <= stormSlack {
			return
		}
		late = stormLate{what: fmt.Sprintf("%s returned %v after its ctx ended (slack %v)", kind, past, stormSlack), by: past - stormSlack}
	}
	if detail != nil {
		late.what += "; its caller's last calls:" + detail()
	}
	st.mu.Lock()
	st.late = append(st.late, late)
	st.mu.Unlock()
}

type stormLate struct {
	what string
	by   time.Duration // past the bound
}

// judgeLate turns the calls late by more than the longest stall into violations.
func (st *storm) judgeLate() {
	stall := time.Duration(st.stallNs.Load())
	st.mu.Lock()
	late := st.late
	st.mu.Unlock()
	for _, l := range late {
		if l.by > stall {
			st.violate("latency", "%s: %v past its bound, the longest stall of the process was %v", l.what, l.by.Round(time.Millisecond), stall.Round(time.Millisecond))
		}
	}
}

func stormMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func (st *storm) dsn(db string) string { return st.dsns[db] }

func (st *storm) connOptions(fetch int) []actors.Option {
	return []actors.Option{actors.WithFaultHook(stormFaultHook), actors.WithFetchSize(fetch)}
}

// stormRegister registers maybe_boom on a connection or pool.
func stormRegister(ctx context.Context, create func(context.Context, string, int, func([]any) (any, error), ...actors.FuncOption) error) error {
	return create(ctx, "maybe_boom", 2, stormBoom)
}

func (st *storm) setup() {
	t := st.t
	ctx := context.Background()
	st.dbs = []string{"a", "b", "c"}
	for _, db := range append(stormNames(st.dbs), "p", "d", "dp") {
		st.dsns[db] = filepath.Join(st.dir, db+".db")
	}
	st.dsns["events"] = filepath.Join(st.dir, "events.db")
	seed := st.p.seed
	eventsFault := actors.WithEventsFault(func(batch int64, i int) {
		h := stormMix(seed ^ uint64(batch)*0x9e3779b97f4a7c15)
		if h%6 == 0 && i == int(h>>8%2) {
			panic(fmt.Sprintf("storm events fault batch=%d", batch))
		}
	})
	st.s = st.startSupervisor(supervisor.Config{MaxRestarts: 1 << 30, RestartWindow: time.Hour, MaxPendingBytes: stormPendingMiB << 20,
		Events: supervisor.EventsConfig{DSN: st.dsns["events"], MaxBatch: 64, MaxQueuedBytes: stormQueuedMiB << 20, Options: []actors.Option{eventsFault}}})
	// A supervisor with a small budget: its connections get stopped for good.
	st.s2 = st.startSupervisor(supervisor.Config{MaxRestarts: 2, RestartWindow: time.Hour})

	for _, db := range append(stormNames(st.dbs), "p", "d", "dp") {
		sv := st.s
		if db == "d" || db == "dp" {
			sv = st.s2
		}
		c, err := sv.Open(ctx, st.dsn(db))
		if err != nil {
			t.Fatal(err)
		}
		if err := stormRegister(ctx, c.CreateFunction); err != nil {
			t.Fatal(err)
		}
		if err := c.ExecScript(ctx, stormSchema); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, db := range st.dbs {
		c, err := st.s.Open(ctx, st.dsn(db), st.connOptions(3)...)
		if err != nil {
			t.Fatal(err)
		}
		if err := stormRegister(ctx, c.CreateFunction); err != nil {
			t.Fatal(err)
		}
		st.shared[db] = c
	}
	pool, err := st.s.OpenPool(ctx, st.dsn("p"), 2, st.connOptions(4)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := stormRegister(ctx, pool.CreateFunction); err != nil {
		t.Fatal(err)
	}
	st.pool = pool
	for i := range stormWorkers {
		w := &stormWorker{st: st, id: i, rng: rand.New(rand.NewPCG(st.p.seed, uint64(i)+1)), kinds: map[string]int64{}}
		w.own.db = st.dbs[i%len(st.dbs)]
		w.own.fetch = 1 + w.rng.IntN(6)
		w.reopen()
		st.mu.Lock()
		st.workers = append(st.workers, w)
		st.mu.Unlock()
	}
	// The warm-up's and setup's closes are done; what is open now stays open through the storm.
	st.waitFor("setup connections closed", func() bool { return st.s.Stats().OpenConns == int64(len(st.dbs)+3+stormWorkers) })
	st.openConns0 = st.s.Stats().OpenConns
}

// startSupervisor starts a supervisor that run stops before it returns, even if the test
// fails: not with t.Cleanup, which would keep it (and, through the events fault, the storm)
// reachable until the end of the test, past the heap check.
func (st *storm) startSupervisor(cfg supervisor.Config) *supervisor.Supervisor {
	s, err := supervisor.Start(context.Background(), cfg)
	if err != nil {
		st.t.Fatal(err)
	}
	st.stops = append(st.stops, s)
	return s
}

func stormNames(s []string) []string { return append([]string(nil), s...) }

// waitFor polls cond every millisecond for up to stormBackground.
func (st *storm) waitFor(what string, cond func() bool) bool {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	limit := time.NewTimer(stormBackground)
	defer limit.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-limit.C:
			st.violate("wait", "timed out after %v waiting for %s", stormBackground, what)
			return false
		}
	}
	return true
}

// settle polls cond every millisecond for up to stormSlack, for counters that lag a moment
// behind what they count; what is still off afterwards is for the caller to judge.
func (st *storm) settle(cond func() bool) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for limit := time.Now().Add(stormSlack); !cond() && time.Now().Before(limit); {
		<-tick.C
	}
}

// dogBark is the watchdog: something hung. Print what each worker is doing and every
// goroutine's stack, then panic.
func (st *storm) dogBark() {
	var b strings.Builder
	fmt.Fprintf(&b, "\nstorm watchdog: the storm (seed=%d) did not finish within %v; replay with ACTORLITE_STORM_SEED=%d ACTORLITE_STORM_CRASHES=%d\n",
		st.p.seed, st.p.watchdog, st.p.seed, st.p.crashes)
	for _, w := range st.allWorkers() {
		if cur := w.cur.Load(); cur != nil {
			fmt.Fprintf(&b, "worker %d: %s, running for %v; its last calls:%s\n", w.id, cur.what, time.Since(cur.since), w.recent())
		}
	}
	os.Stderr.WriteString(b.String())
	pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
	panic("storm watchdog: hung (see the goroutines above)")
}

func (st *storm) run() {
	t := st.t
	defer func() {
		for _, s := range st.stops {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			s.Stop(ctx) // idempotent: a no-op after the Stop below
			cancel()
		}
	}()
	st.setup()
	st.start = time.Now()
	var wg sync.WaitGroup
	for _, w := range st.workers {
		wg.Go(w.loop)
	}
	wg.Go(st.actorCaller)
	wg.Go(st.doomed)
	wg.Go(st.sampleHeap)
	wg.Go(st.flood)

	// Stop when enough crashes happened, when time is up, or when the storm finds too much.
	tick := time.NewTicker(2 * time.Millisecond)
	limit := time.NewTimer(st.p.maxTime)
	reason := ""
	for reason == "" {
		select {
		case <-tick.C:
			switch {
			case st.s.Stats().Crashes >= st.p.crashes:
				reason = "crash target reached"
			case st.nviol.Load() > 100000:
				reason = "too many violations"
			}
		case <-limit.C:
			reason = fmt.Sprintf("time limit %v reached before the crash target", st.p.maxTime)
		}
	}
	tick.Stop()
	limit.Stop()
	st.stopped.Store(true)
	close(st.done)
	wg.Wait()
	elapsed := time.Since(st.start)
	t.Logf("storm stopped after %v: %s", elapsed.Round(time.Millisecond), reason)

	st.checkIdle()
	// A connection's actor stops (Done) a moment before its supervisor counts it closed.
	st.settle(func() bool { return st.s.Stats().OpenConns == st.openConns0 })
	stats, stats2 := st.s.Stats(), st.s2.Stats()
	st.checkStats(stats, stats2)

	// Stop both supervisors (bounded), then reopen every database with a fresh one.
	for i, sv := range []*supervisor.Supervisor{st.s, st.s2} {
		ctx, cancel := context.WithTimeout(context.Background(), stormBackground)
		begin := time.Now()
		if err := sv.Stop(ctx); err != nil {
			st.violate("stop", "supervisor %d: Stop: %v", i+1, err)
		}
		cancel()
		st.latency("Stop", begin, begin.Add(stormBackground), nil)
	}
	st.verify(stats)
	st.judgeLate()

	// Report.
	kinds := map[string]int64{}
	var ncalls, nledger int64
	for _, w := range st.allWorkers() {
		for k, n := range w.kinds {
			kinds[k] += n
			ncalls += n
		}
		nledger += int64(len(w.calls))
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, " %s=%d", k, kinds[k])
	}
	t.Logf("storm figures: %v elapsed; %d crashes (%d seen by callers, %d on the small-budget supervisor, %d connections stopped there); %d calls (+%d by an actor); %d writes in the ledger; %d rows verified; max latency past a ctx's end %v, max latency without one %v; longest stall of a ticker %v; %d blob or cursor reads aborted by another caller's rollback; peak heap %.1f MiB",
		elapsed.Round(time.Millisecond), stats.Crashes, len(st.crashes), stats2.Crashes, stats2.Stopped, ncalls, st.actorReqs.Load(), nledger, st.rowsVerified,
		time.Duration(st.pastNs.Load()).Round(time.Microsecond), time.Duration(st.bgNs.Load()).Round(time.Microsecond),
		time.Duration(st.stallNs.Load()).Round(time.Microsecond), st.aborted, float64(st.peakHeap.Load())/(1<<20))
	t.Logf("storm calls by kind:%s", b.String())
	for _, f := range st.floods {
		t.Logf("storm flood: %s", f)
	}
	for _, cat := range st.vorder {
		v := st.viol[cat]
		t.Errorf("storm seed=%d: %d %q violations; first ones:\n\t%s", st.p.seed, v.n, cat, strings.Join(v.first, "\n\t"))
	}
}

// stormGate holds a goroutine (a connection's, the events writer's) until release is closed.
type stormGate struct {
	entered chan struct{}
	release chan struct{}
}

func newStormGate() *stormGate {
	return &stormGate{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

const (
	// stormFloodMiB is what a flood offers: requests (or events) of callers who give up
	// (their ctx ends after 1 ms) while the connection (or the events writer) is held, each
	// with its own 1 MiB (64 KiB per event) of arguments.
	stormFloodMiB = 128
	// stormPendingMiB is the storm's Config.MaxPendingBytes: while a connection is held, a
	// flood of large requests may pin that much (counted exactly, with weak pointers).
	stormPendingMiB = 16
	// stormQueuedMiB is the storm's EventsConfig.MaxQueuedBytes; while the writer is held, a
	// flood of events may pin that much.
	stormQueuedMiB = 16
)

// flood runs, once the storm is a third of the way to its crash target (and again every
// 10,000 crashes), the two floods: callers who give up on requests with large arguments
// while a connection is busy, and on large events while the events writer is busy. What
// they pin in memory must stay under the bounds the storm configures (MaxPendingBytes,
// MaxQueuedBytes).
func (st *storm) flood() {
	w := st.extraWorker("flood", 4000)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	next := st.p.crashes / 3
	for {
		select {
		case <-st.done:
			w.cur.Store(nil)
			return
		case <-tick.C:
		}
		if st.s.Stats().Crashes < next {
			continue
		}
		next += 10000
		w.doing("flood of a connection")
		st.floodConn(w)
		w.doing("flood of the events writer")
		st.floodEvents(w)
		w.doing("waiting for the next flood")
	}
}

func (st *storm) floodConn(w *stormWorker) {
	ctx := context.Background()
	w.where = "flood"
	c, err := st.s.Open(ctx, st.dsn("a"))
	if err != nil {
		st.violate("flood", "open: %v", err)
		return
	}
	defer func() {
		sc := w.bg()
		if err := c.Close(sc.ctx); err != nil {
			st.violate("flood", "close: %v", err)
		}
		w.end(sc, "Close(flood)")
	}()
	gate := newStormGate()
	err = c.CreateFunction(ctx, "hold", 0, func([]any) (any, error) {
		gate.entered <- struct{}{}
		<-gate.release
		return int64(1), nil
	})
	if err != nil {
		st.violate("flood", "create function: %v", err)
		return
	}
	held := make(chan error, 1)
	go func() { _, err := c.QueryRow(ctx, "SELECT hold()"); held <- err }()
	<-gate.entered
	// What the library keeps of the flood is measured exactly, whatever the rest of the storm
	// allocates meanwhile: after a collection, a weak pointer to an argument it no longer
	// holds is nil.
	var args []weak.Pointer[byte]
	for range stormFloodMiB {
		arg := bytes.Repeat([]byte{byte(w.rng.IntN(256))}, 1<<20)
		args = append(args, weak.Make(&arg[0]))
		sc := w.ctx(nil)
		sc.ctx, sc.cancel = context.WithTimeout(context.Background(), time.Millisecond)
		sc.end = sc.start.Add(time.Millisecond)
		_, err := c.Exec(sc.ctx, "SELECT length(?)", arg)
		w.end(sc, "Exec(flood)")
		if err == nil {
			st.violate("flood", "an Exec behind a held connection returned nil before its ctx ended")
		} else {
			w.classify("flood", "Exec(flood)", 0, err)
		}
	}
	runtime.GC()
	var pinned int64
	for _, p := range args {
		if p.Value() != nil {
			pinned += 1 << 20
		}
	}
	close(gate.release)
	if err := <-held; err != nil {
		st.violate("flood", "the held query: %v", err)
	}
	st.floodReport("connection", pinned, stormPendingMiB, "more than Config.MaxPendingBytes")
}

func (st *storm) floodEvents(w *stormWorker) {
	w.where = "events"
	// A supervisor of its own, whose events writer sees only the flood: what it holds is then
	// exactly Stats' EventsQueued (the heap would also count what the rest of the storm
	// allocates meanwhile, and the storm's own writer queues the other workers' events).
	gate := newStormGate()
	hold := actors.WithEventsFault(func(batch int64, i int) {
		if batch == 1 && i == 0 {
			gate.entered <- struct{}{}
			<-gate.release
		}
	})
	st.mu.Lock()
	st.nflood++
	dsn := filepath.Join(st.dir, fmt.Sprintf("flood-events-%d.db", st.nflood))
	st.mu.Unlock()
	fs, err := supervisor.Start(context.Background(), supervisor.Config{Events: supervisor.EventsConfig{
		DSN: dsn, MaxQueuedBytes: stormQueuedMiB << 20, Options: []actors.Option{hold}}})
	if err != nil {
		st.violate("flood", "start: %v", err)
		return
	}
	held := make(chan error, 1)
	go func() { held <- fs.InsertEvent(context.Background(), messages.Event{UserID: "flood", Name: "gate"}) }()
	select {
	case <-gate.entered:
	case <-time.After(stormBackground):
		st.violate("flood", "the events writer never reached the gate")
	}
	var peak int64
	const perCall, evSize = 16, 64 << 10
	pad := strings.Repeat("x", evSize-64)
	for call := range stormFloodMiB << 20 / (perCall * evSize) {
		evs := make([]messages.Event, perCall)
		for i := range evs {
			// The bulk is in Name, which is not parsed as JSON (Properties would cost the
			// validation of every byte, which -race makes slow).
			evs[i] = messages.Event{UserID: "flood", Name: fmt.Sprintf("flood %d/%d %s", call, i, pad)}
		}
		sc := w.ctx(nil)
		sc.ctx, sc.cancel = context.WithTimeout(context.Background(), time.Millisecond)
		sc.end = sc.start.Add(time.Millisecond)
		err := fs.InsertEvents(sc.ctx, evs)
		w.end(sc, "InsertEvents(flood)")
		if err == nil {
			st.violate("flood", "InsertEvents behind a held writer returned nil before its ctx ended")
		} else if !errors.Is(err, context.DeadlineExceeded) {
			st.violate("flood", "InsertEvents behind a held writer: %v, want its ctx's error", err)
		}
		if q := fs.Stats().EventsQueued; q > peak {
			peak = q
		}
	}
	close(gate.release)
	select {
	case err := <-held:
		if err != nil {
			st.violate("flood", "the event holding the writer: %v", err)
		}
	case <-time.After(stormBackground):
		st.violate("flood", "the event holding the writer was not answered %v after its release", stormBackground)
	}
	sc := w.bg()
	if err := fs.Stop(sc.ctx); err != nil {
		st.violate("flood", "stop: %v", err)
	}
	w.end(sc, "Stop(flood)")
	st.floodReport("events writer", peak*evSize, stormQueuedMiB, fmt.Sprintf("EventsConfig.MaxQueuedBytes is %d MiB", stormQueuedMiB))
}

func (st *storm) floodReport(what string, pinned int64, boundMiB int64, why string) {
	msg := fmt.Sprintf("a flood of %d MiB given up on while the %s was held pinned %.1f MiB", stormFloodMiB, what, float64(pinned)/(1<<20))
	st.mu.Lock()
	st.floods = append(st.floods, msg)
	st.mu.Unlock()
	if pinned > boundMiB<<20 {
		st.violate("memory", "%s (bound %d MiB): %s", msg, boundMiB, why)
	}
}

// sampleHeap records the peak heap, and the longest the process left a 10 ms ticker's
// goroutine waiting past its tick (a stall: the machine, or the runtime, was busy elsewhere).
func (st *storm) sampleHeap() {
	const every = 10 * time.Millisecond
	tick := time.NewTicker(every)
	defer tick.Stop()
	var ms runtime.MemStats
	last := time.Now()
	for n := 0; ; n++ {
		select {
		case <-st.done:
			return
		case now := <-tick.C:
			stormMax(&st.stallNs, int64(now.Sub(last)-every))
			last = now
			if n%5 == 0 {
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > st.peakHeap.Load() {
					st.peakHeap.Store(ms.HeapAlloc)
				}
			}
		}
	}
}

// ---- workers ----

type stormCurrent struct {
	what  string
	since time.Time
}

type stormWorker struct {
	st    *storm
	id    int
	rng   *rand.Rand
	calls []*stormCall
	kinds map[string]int64
	cur   atomic.Pointer[stormCurrent]
	// lastTook is how long the last call took; where names the connection of the current op.
	lastTook     time.Duration
	poolLocked   bool // the current op uses the pool (st.poolMu read-locked)
	poolWedged   bool // and found its writer answering ErrTransactionLost
	lastCtxEnded bool
	where        string
	// cleanups run if the current op panics (a call panicked in its caller), so that what it
	// holds open (a cursor) does not outlive it.
	cleanups []func()
	trace    struct { // the worker's last calls, for the watchdog
		mu   sync.Mutex
		n    int
		last [16]string
	}
	own struct {
		db    string
		fetch int
		c     *actors.Conn
		arm   *atomic.Int64 // a call id: its Close crashes the connection
		final *atomic.Bool  // storm_total's Final panics
		old   []*actors.Conn
	}
}

// stormCtx is a call's context and when it ends.
type stormCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
	start  time.Time
	end    time.Time // zero: never
	pre    bool      // done before the call: the call has no effect
}

// ctx draws a context for one call: none (nil), context.Background, a deadline of 0-3 ms, a
// cancel 0-3 ms after the call starts, already cancelled, or a deadline of 20-300 ms. f, when
// not nil, rides in it for the fault hook.
func (w *stormWorker) ctx(f *stormFault) *stormCtx {
	base := context.Background()
	if f != nil {
		base = context.WithValue(base, stormFaultKey{}, f)
	}
	sc := &stormCtx{ctx: base, cancel: func() {}}
	now := time.Now()
	switch r := w.rng.IntN(100); {
	case r < 4 && f == nil:
		sc.ctx = nil
	case r < 34:
	case r < 56:
		d := time.Duration(w.rng.IntN(3001)) * time.Microsecond
		sc.ctx, sc.cancel = context.WithTimeout(base, d)
		sc.end = now.Add(d)
	case r < 70:
		d := time.Duration(w.rng.IntN(3001)) * time.Microsecond
		ctx, cancel := context.WithCancel(base)
		sc.ctx, sc.cancel, sc.timer = ctx, cancel, time.AfterFunc(d, cancel)
		sc.end = now.Add(d)
	case r < 76:
		ctx, cancel := context.WithCancel(base)
		cancel()
		sc.ctx, sc.cancel, sc.end = ctx, cancel, now
	default:
		d := time.Duration(20+w.rng.IntN(281)) * time.Millisecond
		sc.ctx, sc.cancel = context.WithTimeout(base, d)
		sc.end = now.Add(d)
	}
	sc.pre = sc.ctx != nil && sc.ctx.Err() != nil
	sc.start = time.Now()
	return sc
}

// bg is a context that never ends, for the calls that settle the storm's own state.
func (w *stormWorker) bg() *stormCtx {
	return &stormCtx{ctx: context.Background(), cancel: func() {}, start: time.Now()}
}

// end records a call's latency and releases its ctx.
func (w *stormWorker) end(sc *stormCtx, kind string) {
	w.lastTook = time.Since(sc.start)
	w.lastCtxEnded = sc.ctx != nil && sc.ctx.Err() != nil
	w.traced(kind, sc)
	w.st.latency(w.describe(kind, sc), sc.start, sc.end, w.recent)
	if sc.timer != nil {
		sc.timer.Stop()
	}
	sc.cancel()
	w.kinds[kind]++
}

// describe names a call for a report: its kind, connection and ctx.
func (w *stormWorker) describe(kind string, sc *stormCtx) string {
	return fmt.Sprintf("%s on %s (worker %d, ctx %s)", kind, w.where, w.id, sc.kind())
}

func (sc *stormCtx) kind() string {
	switch {
	case sc.ctx == nil:
		return "nil"
	case sc.pre:
		return "done before the call"
	case !sc.end.IsZero():
		return fmt.Sprint("ending ", sc.end.Sub(sc.start).Round(time.Microsecond), " after the call began")
	}
	return "background"
}

// recent returns the worker's last calls, oldest first, one per line.
func (w *stormWorker) recent() string {
	var b strings.Builder
	w.trace.mu.Lock()
	defer w.trace.mu.Unlock()
	for i := range w.trace.last {
		if s := w.trace.last[(w.trace.n+i)%len(w.trace.last)]; s != "" {
			fmt.Fprintf(&b, "\n\t\t%s", s)
		}
	}
	return b.String()
}

// traced records a call returned, for the watchdog.
func (w *stormWorker) traced(kind string, sc *stormCtx) {
	w.trace.mu.Lock()
	w.trace.last[w.trace.n%len(w.trace.last)] = fmt.Sprintf("%s on %s, ctx %s, took %v", kind, w.where, sc.kind(), time.Since(sc.start).Round(time.Microsecond))
	w.trace.n++
	w.trace.mu.Unlock()
}

func (w *stormWorker) newCall(kind, db string, n int) *stormCall {
	c := &stormCall{id: w.st.ids.Add(1), kind: kind, db: db, keys: make([]int64, n)}
	first := w.st.keys.Add(int64(n)) - int64(n) + 1
	for i := range c.keys {
		c.keys[i] = first + int64(i)
	}
	if len(c.keys) > 0 {
		w.calls = append(w.calls, c)
	}
	return c
}

// crashHow draws whether and how a call crashes its connection: 0 not, 1 with maybe_boom, 2
// with the fault hook.
func (w *stormWorker) crashHow() int {
	switch r := w.rng.IntN(100); {
	case r < 14:
		return 1
	case r < 28:
		return 2
	}
	return 0
}

type stormClass uint8

const (
	clOK       stormClass = iota
	clCrash               // the call crashed its connection (its own panic, or one it accepts)
	clCtx                 // its ctx's error
	clExpected            // an error the call expects (a constraint, a refused statement, ...)
	clLost                // ErrTransactionLost (a violation: the storm leaves no transaction lost)
	clOther               // anything else (a violation)
)

// classify sorts a call's error, records the crash it reports, and records a violation for an
// error the call cannot get.
//
// ErrBusy is expected at once on a shared connection (another worker's cursor there holds a
// read snapshot, and a write through the same connection cannot upgrade a snapshot that
// another connection's commit made stale: SQLITE_BUSY_SNAPSHOT), and when the call's ctx ended
// while it waited for a lock (the wait is cut short with SQLITE_BUSY). Otherwise, and after
// waiting for a second or more, it means a lock or snapshot was leaked.
func (w *stormWorker) classify(conn, kind string, id int64, err error, expected ...error) stormClass {
	st := w.st
	if err == nil {
		return clOK
	}
	for _, e := range expected {
		if errors.Is(err, e) {
			if src, cid, ok := stormCrashOf(err); ok {
				st.sawCrash("", fmt.Sprint(src, " ", cid))
			}
			return clExpected
		}
	}
	if errors.Is(err, messages.ErrTransactionLost) {
		st.violate("transaction-lost", "%s (call %d) on %s: %v; no transaction of the storm's was open (last crash seen on %s: %s)",
			kind, id, conn, err, conn, st.lastCrashOn(conn))
		return clLost
	}
	if errors.Is(err, messages.ErrCrashed) {
		src, cid, ok := stormCrashOf(err)
		if ok {
			st.sawCrash(conn, fmt.Sprint(src, " ", cid))
		}
		if ok && (src == "boom" || src == "fault") && cid == id {
			return clCrash
		}
		if ok && src == "final" && strings.HasSuffix(kind, "(window)") {
			return clCrash // storm_total's Final, armed by the caller, panicked
		}
		st.violate("crash-misattributed", "%s (call %d) on %s got a crash it did not cause: %v", kind, id, conn, err)
		return clOther
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return clCtx
	}
	if errors.Is(err, messages.ErrBusy) {
		if _, shared := st.shared[conn]; shared && w.lastTook < time.Second {
			return clExpected
		}
		if w.lastCtxEnded && w.lastTook < time.Second {
			return clExpected // the ctx cut a wait for another connection's lock short
		}
		st.violate("busy", "%s (call %d) on %s after %v: %v (a leaked lock or snapshot?); worker %d's last calls:%s", kind, id, conn, w.lastTook, err, w.id, w.recent())
		return clOther
	}
	if se := (*messages.Error)(nil); errors.As(err, &se) && se.Code == 4 && (strings.HasPrefix(kind, "Blob.") || strings.HasPrefix(kind, "Fetch") || kind == "All") {
		// SQLITE_ABORT: another caller of a shared connection rolled back (a failing
		// ExecMany's transaction), which aborts a write blob's statement. What that does to
		// writes is for the ledger to judge.
		if _, shared := st.shared[conn]; shared {
			st.mu.Lock()
			st.aborted++
			st.mu.Unlock()
			return clExpected
		}
	}
	if errors.Is(err, messages.ErrInTransaction) {
		st.violate("in-transaction", "%s (call %d) on %s: %v (no transaction of the storm's was open)", kind, id, conn, err)
		return clOther
	}
	st.violate("unexpected-error", "%s (call %d) on %s: %v", kind, id, conn, err)
	return clOther
}

// writeOutcome is the outcome of an autocommit write that is one transaction (Exec, ExecMany,
// a pool write) from its error's class.
func writeOutcome(c *stormCall, sc *stormCtx, cl stormClass) {
	switch cl {
	case clOK:
		c.out, c.why = outAcked, "nil"
	case clCrash, clExpected, clLost:
		c.out, c.why = outClean, "refused or crashed"
	case clCtx:
		ctxOutcome(c, sc)
	default:
		c.out, c.why = outUnknown, "unexpected error"
	}
}

// ctxOutcome is the outcome of a call that returned its ctx's error: clean if the ctx was done
// before the call, unknown if it ended during it (the request may have run).
func ctxOutcome(c *stormCall, sc *stormCtx) {
	if sc.pre {
		c.out, c.why = outClean, "ctx done before the call"
	} else {
		c.out, c.why = outUnknown, "ctx ended during the call"
	}
}

func (w *stormWorker) doing(what string) {
	w.cur.Store(&stormCurrent{what: what, since: time.Now()})
}

func (w *stormWorker) loop() {
	ops := []struct {
		weight int
		name   string
		fn     func()
	}{
		{14, "exec", w.opExec},
		{10, "execmany", w.opExecMany},
		{6, "script", w.opScript},
		{2, "multi", w.opMultiStatement},
		{12, "query", w.opQuery},
		{8, "queryrow", w.opQueryRow},
		{10, "tx", w.opTx},
		{6, "blob", w.opBlob},
		{3, "dump", w.opDump},
		{8, "pooltx", w.opPoolTx},
		{10, "events", w.opEvents},
		{2, "reopen", w.opCloseReopen},
		{1, "window crash", w.opWindowCrash},
	}
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	for !w.st.stopped.Load() {
		r := w.rng.IntN(total)
		for _, op := range ops {
			if r < op.weight {
				w.doing(op.name)
				w.guard(op.name, op.fn)
				break
			}
			r -= op.weight
		}
	}
	w.cur.Store(nil)
	// Leave the worker's own connection idle: no transaction open.
	if in, err := w.own.c.InTransaction(context.Background()); err != nil || in {
		w.st.violate("idle", "worker %d's own connection after the storm: in transaction %v, %v", w.id, in, err)
	}
}

// guard runs an op, turning a panic in a call (on the caller's goroutine) into a violation.
func (w *stormWorker) guard(name string, fn func()) {
	w.cleanups = w.cleanups[:0]
	w.where = ""
	defer w.unlockPool()
	defer func() {
		if r := recover(); r != nil {
			for _, f := range w.cleanups {
				f()
			}
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			w.st.violate("caller-panic", "op %s: a call panicked in its caller: %v\n%s", name, r, buf)
		}
	}()
	fn()
}

// pick chooses where an autocommit operation runs: a shared connection, the worker's own
// (idle between operations: autocommit), or, when pool is true, the pool.
func (w *stormWorker) pick(pool bool) stormTarget {
	r := w.rng.IntN(10)
	switch {
	case pool && r < 3:
		w.lockPool()
		w.where = "pool"
		return stormTarget{name: "pool", db: "p", r: w.st.pool}
	case r < 6:
		db := w.st.dbs[w.rng.IntN(len(w.st.dbs))]
		c := w.st.shared[db]
		w.where = db
		return stormTarget{name: db, db: db, r: c, c: c}
	}
	w.where = w.ownName()
	return stormTarget{name: w.ownName(), db: w.own.db, r: w.own.c, c: w.own.c}
}

func (w *stormWorker) ownName() string { return fmt.Sprint("own", w.id) }

// unwedge answers an ErrTransactionLost (a violation already recorded) on a connection no storm
// transaction uses: Rollback, as the docs tell a caller to, so that the storm goes on. On a
// shared connection at once; on the pool's writer once the op is over (see guard).
func (w *stormWorker) unwedge(tg stormTarget, cl stormClass) {
	if cl != clLost {
		return
	}
	if tg.c == nil {
		w.poolWedged = true
		return
	}
	sc := w.bg()
	tg.c.Rollback(sc.ctx)
	w.end(sc, "Rollback")
}

// lockPool marks the current op as using the pool (until it ends): the pool's writer is
// unwedged only while no op uses the pool, so that the Rollback ends no Tx of another worker's.
func (w *stormWorker) lockPool() {
	if !w.poolLocked {
		w.st.poolMu.RLock()
		w.poolLocked = true
	}
}

// unlockPool ends the op's use of the pool, and unwedges the pool's writer if the op found it
// answering ErrTransactionLost.
func (w *stormWorker) unlockPool() {
	if w.poolLocked {
		w.st.poolMu.RUnlock()
		w.poolLocked = false
	}
	if w.poolWedged {
		w.poolWedged = false
		w.st.poolMu.Lock()
		sc := w.bg()
		w.st.pool.Writer().Rollback(sc.ctx)
		w.end(sc, "Rollback(pool writer)")
		w.st.poolMu.Unlock()
	}
}

func (w *stormWorker) opExec() {
	tg := w.pick(true)
	c := w.newCall("Exec", tg.db, 1)
	var tok int64
	var f *stormFault
	switch w.crashHow() {
	case 1:
		tok = c.id
	case 2:
		f = &stormFault{id: c.id, kind: "Exec"}
	}
	sc := w.ctx(f)
	_, err := tg.r.Exec(sc.ctx, stormInsert, c.keys[0], c.keys[0], tok, c.id)
	w.end(sc, "Exec")
	cl := w.classify(tg.name, "Exec", c.id, err)
	writeOutcome(c, sc, cl)
	w.unwedge(tg, cl)
}

func (w *stormWorker) opExecMany() {
	tg := w.pick(true)
	n := 2 + w.rng.IntN(15)
	c := w.newCall("ExecMany", tg.db, n)
	var f *stormFault
	boomAt, dupAt := -1, -1
	switch w.crashHow() {
	case 1:
		boomAt = w.rng.IntN(n)
	case 2:
		f = &stormFault{id: c.id, kind: "ExecMany"}
	default:
		if w.rng.IntN(10) == 0 {
			dupAt = 1 + w.rng.IntN(n-1) // a constraint violation: nothing of it is kept
		}
	}
	args := make([][]any, n)
	for i, k := range c.keys {
		var tok int64
		if i == boomAt {
			tok = c.id
		}
		if i == dupAt {
			k = c.keys[0]
		}
		args[i] = []any{k, k, tok, c.id}
	}
	if dupAt >= 0 {
		c.keys = append(c.keys[:dupAt:dupAt], c.keys[dupAt+1:]...)
	}
	var expected []error
	if dupAt >= 0 {
		expected = append(expected, messages.ErrConstraint)
	}
	sc := w.ctx(f)
	_, err := tg.r.ExecMany(sc.ctx, stormInsert, args)
	w.end(sc, "ExecMany")
	cl := w.classify(tg.name, "ExecMany", c.id, err, expected...)
	if cl == clOK && dupAt >= 0 {
		w.st.violate("constraint", "ExecMany (call %d) on %s inserted a duplicate key without an error", c.id, tg.name)
	}
	writeOutcome(c, sc, cl)
	if cl == clOther {
		c.out, c.why = outClean, "an error: nothing of ExecMany is kept"
	}
	w.unwedge(tg, cl)
}

// opScript runs a script of INSERTs: on a shared connection (or the pool) they commit one by
// one; on the worker's own connection, half the time, inside BEGIN ... COMMIT.
func (w *stormWorker) opScript() {
	tg := w.pick(true)
	tx := tg.name == w.ownName() && w.rng.IntN(2) == 0
	n := 2 + w.rng.IntN(5)
	c := w.newCall("ExecScript", tg.db, n)
	c.prefix = !tx
	var f *stormFault
	boomAt := -1
	switch w.crashHow() {
	case 1:
		boomAt = w.rng.IntN(n)
	case 2:
		f = &stormFault{id: c.id, kind: "ExecScript"}
	}
	var b strings.Builder
	if tx {
		b.WriteString("BEGIN;\n")
	}
	for i, k := range c.keys {
		var tok int64
		if i == boomAt {
			tok = c.id
		}
		fmt.Fprintf(&b, "INSERT INTO t (k, v, call) VALUES (%d, maybe_boom(%d, %d), %d);\n", k, k, tok, c.id)
	}
	if tx {
		b.WriteString("COMMIT;\n")
	}
	sc := w.ctx(f)
	err := tg.r.ExecScript(sc.ctx, b.String())
	w.end(sc, "ExecScript")
	cl := w.classify(tg.name, "ExecScript", c.id, err)
	if tx {
		switch cl {
		case clOK:
			c.out, c.why = outAcked, "nil"
		case clCrash, clLost:
			w.settle()
			c.out, c.why = outClean, "crashed: its transaction died"
		default:
			if rolledBack := w.settle(); rolledBack || sc.pre {
				c.out, c.why = outClean, "rolled back"
			} else {
				c.out, c.why = outUnknown, "no transaction left to roll back: COMMIT may have run"
			}
		}
		return
	}
	switch cl {
	case clOK:
		c.out, c.why = outAcked, "nil"
	case clCrash:
		if src, _, _ := stormCrashOf(err); src == "boom" {
			c.out, c.exact, c.why = outExact, boomAt, "crashed at a known statement"
		} else {
			c.out, c.why = outClean, "crashed before it ran"
		}
	case clLost:
		c.out, c.why = outClean, "refused"
	case clCtx:
		ctxOutcome(c, sc)
	default:
		c.out, c.why = outUnknown, "unexpected error"
	}
	w.unwedge(tg, cl)
}

// settle ends whatever transaction the worker's own connection may have open, with Rollback,
// and reports whether there was one (or one a crash lost) to roll back.
func (w *stormWorker) settle() (rolledBack bool) {
	sc := w.bg()
	err := w.own.c.Rollback(sc.ctx)
	w.end(sc, "Rollback")
	switch {
	case err == nil:
		return true
	case errors.Is(err, messages.ErrNoTransaction):
		return false
	}
	w.st.violate("settle", "worker %d: Rollback to settle its own connection: %v", w.id, err)
	return false
}

// stormPragmas are what opMultiStatement appends to an INSERT: a pragma that would show if it
// ran, the query that shows it, the value it must keep (the defaults the docs state), and the
// statement that restores it. user_version is applied when the statement runs (checked at the
// end: it stays 0); the others while it is prepared.
var stormPragmas = []struct{ set, get, want, restore string }{
	{"PRAGMA user_version = 7", "", "", ""},
	{"PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys", "1", "PRAGMA foreign_keys = ON"},
	{"PRAGMA query_only = ON", "PRAGMA query_only", "0", "PRAGMA query_only = OFF"},
	{"PRAGMA synchronous = OFF", "PRAGMA synchronous", "1", "PRAGMA synchronous = NORMAL"},
}

// opMultiStatement sends Exec and Query more than one statement, the last a PRAGMA that would
// show if it ran: they must refuse the whole (the pragma keeps its value, the INSERT never
// lands).
func (w *stormWorker) opMultiStatement() {
	tg := w.pick(true)
	c := w.newCall("Exec(multi)", tg.db, 1)
	pragma := stormPragmas[w.rng.IntN(len(stormPragmas))]
	sc := w.ctx(nil)
	sql := fmt.Sprintf("INSERT INTO t (k, v, call) VALUES (%d, %d, %d); %s", c.keys[0], c.keys[0], c.id, pragma.set)
	var err error
	if w.rng.IntN(2) == 0 || tg.c == nil { // on the pool, only Exec: it goes to the writer, which the check below reads
		_, err = tg.r.Exec(sc.ctx, sql)
		w.end(sc, "Exec(multi)")
	} else {
		var cur *actors.Cursor
		cur, err = tg.r.Query(sc.ctx, sql)
		w.end(sc, "Query(multi)")
		if err == nil {
			cur.Close(context.Background())
		}
	}
	refused := err
	cl := w.classify(tg.name, "multi-statement", c.id, err, messages.ErrMultipleStatements)
	switch cl {
	case clOK:
		w.st.violate("multi-statement", "%s: %q was accepted", tg.name, sql)
		c.out, c.why = outUnknown, "accepted"
	case clCtx:
		c.out, c.why = outUnknown, "ctx"
	default:
		c.out, c.why = outClean, "refused"
	}
	w.unwedge(tg, cl)
	if pragma.get == "" {
		return
	}
	// The connection still has the pragma's value (unless a crash restarted it meanwhile, which
	// sets it again: a miss, never a false alarm). The pool's writer is read inside a Tx: a
	// call through Pool.Writer would land in another worker's Tx.
	check := func(conn *actors.Conn) {
		bc := w.bg()
		row, err := conn.QueryRow(bc.ctx, pragma.get)
		w.end(bc, "QueryRow(pragma)")
		if w.classify(tg.name, "QueryRow(pragma)", c.id, err) != clOK || fmt.Sprint(row.Index(0)) == pragma.want {
			return
		}
		w.st.violate("multi-statement", "%s: %s is %v after %q was refused (%v)", tg.name, pragma.get, row.Index(0), sql, refused)
		bc = w.bg()
		_, err = conn.Exec(bc.ctx, pragma.restore)
		w.end(bc, "Exec(pragma)")
		w.classify(tg.name, "Exec(pragma)", c.id, err)
	}
	if tg.c != nil {
		check(tg.c)
		return
	}
	bc := w.bg()
	err = w.st.pool.Tx(bc.ctx, func(tx *actors.Conn) error { check(tx); return nil })
	w.end(bc, "Pool.Tx(pragma)")
	if cl := w.classify("pool", "Pool.Tx(pragma)", c.id, err); cl == clLost {
		w.unwedge(tg, cl)
	}
}

// checkRows checks rows of (k, v) read in key order from lo: v = k, keys rising.
func (w *stormWorker) checkRows(where string, rows []messages.Row, lo *int64) {
	for _, r := range rows {
		k, _ := r.Index(0).(int64)
		v, _ := r.Index(1).(int64)
		if k != v || k < *lo {
			w.st.violate("read", "%s: row %v after key %d", where, r, *lo)
		}
		*lo = k + 1
	}
}

func (w *stormWorker) opQuery() {
	tg := w.pick(true)
	id := w.st.ids.Add(1)
	maxKey := w.st.keys.Load()
	lo := 1 + w.rng.Int64N(maxKey+1)
	lim := 1 + w.rng.IntN(40)
	crashK := int64(-1)
	var f *stormFault
	switch w.crashHow() {
	case 1:
		crashK = lo + w.rng.Int64N(int64(lim))
	case 2:
		f = &stormFault{id: id, kind: []string{"Query", "Fetch", "Fetch", "CloseCursor"}[w.rng.IntN(4)]}
	}
	where := fmt.Sprintf("query (call %d) on %s", id, tg.name)
	sc := w.ctx(f)
	cur, err := tg.r.Query(sc.ctx, "SELECT k, maybe_boom(v, CASE WHEN k = ? THEN ? ELSE 0 END) AS v FROM t WHERE k >= ? ORDER BY k LIMIT ?", crashK, id, lo, lim)
	w.end(sc, "Query")
	cl := w.classify(tg.name, "Query", id, err)
	w.unwedge(tg, cl)
	if cl != clOK {
		return
	}
	w.cleanups = append(w.cleanups, func() { cur.Close(context.Background()) })
	next := lo
	for step := 0; step < 4; step++ {
		sc := w.ctx(f)
		var rows []messages.Row
		var err error
		var kind string
		end := false
		switch w.rng.IntN(4) {
		case 0:
			kind = "FetchOne"
			var r messages.Row
			r, err = cur.FetchOne(sc.ctx)
			if err == io.EOF {
				err, end = nil, true
			} else if err == nil {
				rows = []messages.Row{r}
			}
		case 1:
			kind = "FetchMany"
			rows, err = cur.FetchMany(sc.ctx, 1+w.rng.IntN(10))
			end = err == nil && len(rows) == 0
		case 2:
			kind = "FetchAll"
			rows, err = cur.FetchAll(sc.ctx)
			end = true
		default:
			kind = "All"
			stopAfter := w.rng.IntN(8)
			end = true
			for r, e := range cur.All(sc.ctx) {
				if e != nil {
					err = e
					break
				}
				rows = append(rows, r)
				if len(rows) > stopAfter {
					break // closes the cursor
				}
			}
		}
		w.end(sc, kind)
		w.checkRows(where, rows, &next)
		if cl := w.classify(tg.name, kind, id, err, messages.ErrCursorClosed); cl != clOK || end {
			w.unwedge(tg, cl)
			break
		}
	}
	sc = w.ctx(f)
	err = cur.Close(sc.ctx)
	w.end(sc, "Cursor.Close")
	w.unwedge(tg, w.classify(tg.name, "Cursor.Close", id, err, messages.ErrCursorClosed))
}

func (w *stormWorker) opQueryRow() {
	tg := w.pick(true)
	id := w.st.ids.Add(1)
	var tok int64
	var f *stormFault
	switch w.crashHow() {
	case 1:
		tok = id
	case 2:
		f = &stormFault{id: id, kind: "Query"}
	}
	sc := w.ctx(f)
	switch r := w.rng.IntN(3); {
	case r == 0 && tg.c != nil:
		rows, err := tg.c.QueryAll(sc.ctx, "SELECT k, maybe_boom(v, ?) FROM t WHERE k >= ? ORDER BY k LIMIT 20", tok, 1+w.rng.Int64N(w.st.keys.Load()+1))
		w.end(sc, "QueryAll")
		if cl := w.classify(tg.name, "QueryAll", id, err); cl == clOK {
			lo := int64(0)
			w.checkRows(fmt.Sprintf("QueryAll (call %d) on %s", id, tg.name), rows, &lo)
		} else {
			w.unwedge(tg, cl)
		}
	case r == 1:
		_, err := tg.r.QueryRow(sc.ctx, "SELECT maybe_boom(k, ?) FROM t WHERE k = -1", tok)
		w.end(sc, "QueryRow")
		w.unwedge(tg, w.classify(tg.name, "QueryRow", id, err, messages.ErrNoRows))
	default:
		row, err := tg.r.QueryRow(sc.ctx, "SELECT maybe_boom(count(*), ?), count(*) FILTER (WHERE v = k) FROM t", tok)
		w.end(sc, "QueryRow")
		cl := w.classify(tg.name, "QueryRow", id, err)
		if cl == clOK && row.Index(0) != row.Index(1) {
			w.st.violate("read", "QueryRow (call %d) on %s: %v rows, %v with v = k", id, tg.name, row.Index(0), row.Index(1))
		}
		w.unwedge(tg, cl)
	}
}

// opTx runs a transaction on the worker's own connection: Begin or BeginImmediate, one to four
// statements (Exec or ExecMany), then Commit (or, one time in five, Rollback). Any failure ends
// it with a Rollback at once.
func (w *stormWorker) opTx() {
	name := w.ownName()
	w.where = name
	stmts := 1 + w.rng.IntN(4)
	sizes := make([]int, stmts)
	n := 0
	for i := range sizes {
		sizes[i] = 1
		if w.rng.IntN(3) == 0 {
			sizes[i] = 2 + w.rng.IntN(3)
		}
		n += sizes[i]
	}
	c := w.newCall("Tx", w.own.db, n)
	c.out, c.why = outClean, "not committed"
	var f *stormFault
	boomAt := -1
	switch w.crashHow() {
	case 1:
		boomAt = w.rng.IntN(n)
	case 2:
		f = &stormFault{id: c.id, kind: []string{"Begin", "Exec", "ExecMany", "Commit", "Rollback"}[w.rng.IntN(5)]}
	}
	sc := w.ctx(f)
	var err error
	if w.rng.IntN(2) == 0 {
		err = w.own.c.Begin(sc.ctx)
	} else {
		err = w.own.c.BeginImmediate(sc.ctx)
	}
	w.end(sc, "Begin")
	if cl := w.classify(name, "Begin", c.id, err); cl != clOK {
		w.settle()
		return
	}
	i := 0
	for _, size := range sizes {
		args := make([][]any, size)
		for j := range args {
			var tok int64
			if i == boomAt {
				tok = c.id
			}
			args[j] = []any{c.keys[i], c.keys[i], tok, c.id}
			i++
		}
		sc := w.ctx(f)
		kind := "Exec"
		if size == 1 {
			_, err = w.own.c.Exec(sc.ctx, stormInsert, args[0]...)
		} else {
			kind = "ExecMany"
			_, err = w.own.c.ExecMany(sc.ctx, stormInsert, args)
		}
		w.end(sc, kind)
		if cl := w.classify(name, kind, c.id, err); cl != clOK {
			w.settle()
			return
		}
	}
	sc = w.ctx(f)
	if w.rng.IntN(5) == 0 {
		err = w.own.c.Rollback(sc.ctx)
		w.end(sc, "Rollback")
		if cl := w.classify(name, "Rollback", c.id, err); cl != clOK {
			w.settle()
		}
		c.why = "rolled back"
		return
	}
	err = w.own.c.Commit(sc.ctx)
	w.end(sc, "Commit")
	switch cl := w.classify(name, "Commit", c.id, err); cl {
	case clOK:
		c.out, c.why = outAcked, "committed"
	case clCrash, clLost:
		w.settle()
		c.why = "Commit crashed: the transaction died"
	default:
		if rolledBack := w.settle(); rolledBack || sc.pre {
			c.why = "Commit did not run: rolled back"
		} else {
			c.out, c.why = outUnknown, "Commit's ctx ended and no transaction was left"
		}
	}
}

// opBlob opens a blob of table blobs (4 KiB, every byte alike), reads, seeks and writes it
// (whole, with one byte value), then closes it, maybe after its ctx ended.
func (w *stormWorker) opBlob() {
	tg := w.pick(false)
	id := w.st.ids.Add(1)
	var f *stormFault
	if w.crashHow() != 0 {
		f = &stormFault{id: id, kind: []string{"OpenBlob", "BlobRead", "BlobWrite", "CloseBlob"}[w.rng.IntN(4)]}
	}
	write := w.rng.IntN(2) == 0
	row := 1 + w.rng.Int64N(stormBlobRows)
	sc := w.ctx(f)
	b, err := tg.c.OpenBlob(sc.ctx, "blobs", "b", row, write)
	w.end(sc, "OpenBlob")
	if cl := w.classify(tg.name, "OpenBlob", id, err); cl != clOK {
		w.unwedge(tg, cl)
		return
	}
	if b.Size() != stormBlobSize {
		w.st.violate("blob", "blob %d on %s: size %d", row, tg.name, b.Size())
	}
	buf := make([]byte, stormBlobSize)
	for range 1 + w.rng.IntN(4) {
		start := time.Now()
		var kind string
		var err error
		switch r := w.rng.IntN(4); {
		case r == 0:
			kind = "Blob.Seek"
			_, err = b.Seek(w.rng.Int64N(stormBlobSize), io.SeekStart)
		case r == 1 && write:
			kind = "Blob.Write"
			if _, err = b.Seek(0, io.SeekStart); err == nil {
				_, err = b.Write(bytes.Repeat([]byte{byte(1 + w.rng.IntN(255))}, stormBlobSize))
			}
		case r == 2:
			// ReadContext with a ctx of its own.
			kind = "Blob.ReadContext"
			rc := w.ctx(f)
			var n int
			n, err = b.ReadContext(rc.ctx, buf[:1+w.rng.IntN(stormBlobSize)])
			w.end(rc, kind)
			w.checkBlob(tg.name, row, buf[:n])
			start = time.Time{}
		default:
			kind = "Blob.Read"
			var n int
			if _, err = b.Seek(0, io.SeekStart); err == nil {
				n, err = b.Read(buf)
				w.checkBlob(tg.name, row, buf[:n])
			}
		}
		if !start.IsZero() {
			w.st.latency(w.describe(kind, sc), start, sc.end, w.recent)
			w.kinds[kind]++
		}
		if err == io.EOF {
			err = nil
		}
		if cl := w.classify(tg.name, kind, id, err, messages.ErrBlobClosed); cl != clOK {
			w.unwedge(tg, cl)
			break
		}
	}
	start := time.Now()
	err = b.Close() // with the ctx given to OpenBlob, which may have ended
	w.st.latency(w.describe("Blob.Close", sc), start, sc.end, w.recent)
	w.kinds["Blob.Close"]++
	w.unwedge(tg, w.classify(tg.name, "Blob.Close", id, err, messages.ErrBlobClosed))
}

func (w *stormWorker) checkBlob(conn string, row int64, p []byte) {
	for _, c := range p {
		if c != p[0] {
			w.st.violate("blob", "blob %d read on %s: bytes %d and %d in one read", row, conn, p[0], c)
			return
		}
	}
}

// stormDumpWriter counts what Dump writes, keeps its tail, and may cancel the Dump's ctx once
// it has seen cancelAt bytes.
type stormDumpWriter struct {
	n        int
	cancelAt int
	cancel   context.CancelFunc
	tail     []byte
}

func (d *stormDumpWriter) Write(p []byte) (int, error) {
	d.n += len(p)
	d.tail = append(d.tail, p...)
	if len(d.tail) > 64 {
		d.tail = d.tail[len(d.tail)-64:]
	}
	if d.cancel != nil && d.n >= d.cancelAt {
		d.cancel()
	}
	return len(p), nil
}

// opDump dumps a database, maybe cancelled from its writer, maybe crashed by the fault hook.
// (Dump calls no user function: its reads skip generated columns.)
func (w *stormWorker) opDump() {
	tg := w.pick(false)
	id := w.st.ids.Add(1)
	var f *stormFault
	if w.crashHow() != 0 {
		f = &stormFault{id: id, kind: "Dump"}
	}
	sc := w.ctx(f)
	dw := &stormDumpWriter{}
	ctx := sc.ctx
	if w.rng.IntN(4) == 0 && ctx != nil {
		ctx, dw.cancel = context.WithCancel(ctx)
		dw.cancelAt = w.rng.IntN(64 << 10)
		defer dw.cancel()
	}
	err := tg.c.Dump(ctx, dw)
	w.end(sc, "Dump")
	cl := w.classify(tg.name, "Dump", id, err)
	if cl == clOK && !bytes.HasSuffix(dw.tail, []byte("COMMIT;\n")) {
		w.st.violate("dump", "Dump (call %d) on %s returned nil after %d bytes ending %q", id, tg.name, dw.n, dw.tail)
	}
	w.unwedge(tg, cl)
}

var (
	errStormRollback = errors.New("storm: fn asks for a rollback")
	errStormPanicked = errors.New("storm: fn panicked")
)

type stormTxPanic struct{}

// opPoolTx runs Pool.Tx: one to three inserts, then fn returns nil, an error or panics. Its
// ctx may be nil or end during BEGIN.
func (w *stormWorker) opPoolTx() {
	w.lockPool()
	w.where = "pool"
	n := 1 + w.rng.IntN(3)
	c := w.newCall("Pool.Tx", "p", n)
	var f *stormFault
	boomAt := -1
	switch w.crashHow() {
	case 1:
		boomAt = w.rng.IntN(n)
	case 2:
		f = &stormFault{id: c.id, kind: []string{"Begin", "Exec", "Commit", "Rollback"}[w.rng.IntN(4)]}
	}
	end := 0 // commit
	switch r := w.rng.IntN(20); {
	case r < 3:
		end = 1 // fn returns an error
	case r < 5:
		end = 2 // fn panics
	}
	sc := w.ctx(f)
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stormTxPanic); !ok {
					panic(r)
				}
				err = errStormPanicked
			}
		}()
		return w.st.pool.Tx(sc.ctx, func(tx *actors.Conn) error {
			for i, k := range c.keys {
				var tok int64
				if i == boomAt {
					tok = c.id
				}
				if _, err := tx.Exec(sc.ctx, stormInsert, k, k, tok, c.id); err != nil {
					return err
				}
			}
			switch end {
			case 1:
				return errStormRollback
			case 2:
				panic(stormTxPanic{})
			}
			return nil
		})
	}()
	w.end(sc, "Pool.Tx")
	switch cl := w.classify("pool", "Pool.Tx", c.id, err, errStormRollback, errStormPanicked); cl {
	case clOK:
		if end != 0 {
			w.st.violate("pool-tx", "Pool.Tx (call %d) returned nil although fn failed", c.id)
		}
		c.out, c.why = outAcked, "nil"
	case clExpected, clCrash, clLost:
		c.out, c.why = outClean, "rolled back or crashed"
		w.unwedge(stormTarget{name: "pool"}, cl)
	case clCtx:
		ctxOutcome(c, sc)
	default:
		c.out, c.why = outUnknown, "unexpected error"
	}
}

// opEvents inserts one to sixteen events (keyed by properties.k), sometimes one bad one (the
// whole call is refused), sometimes a large one.
func (w *stormWorker) opEvents() {
	w.where = "events"
	n := 1 + w.rng.IntN(16)
	c := w.newCall("InsertEvents", "events", n)
	bad := -1
	if w.rng.IntN(30) == 0 {
		bad = w.rng.IntN(n)
	}
	pad := ""
	if w.rng.IntN(50) == 0 {
		pad = strings.Repeat("x", 64<<10)
	}
	evs := make([]messages.Event, n)
	for i, k := range c.keys {
		evs[i] = messages.Event{UserID: fmt.Sprint("w", w.id), Name: "storm",
			Properties: json.RawMessage(fmt.Sprintf(`{"k":%d,"call":%d,"pad":%q}`, k, c.id, pad))}
		if i == bad {
			if w.rng.IntN(2) == 0 {
				evs[i].UserID = ""
			} else {
				evs[i].Properties = json.RawMessage(`{"k":`)
			}
		}
	}
	sc := w.ctx(nil)
	var err error
	if n == 1 && w.rng.IntN(2) == 0 {
		err = w.st.s.InsertEvent(sc.ctx, evs[0])
		w.end(sc, "InsertEvent")
	} else {
		err = w.st.s.InsertEvents(sc.ctx, evs)
		w.end(sc, "InsertEvents")
	}
	var cl stormClass
	switch {
	case err == nil:
		cl = clOK
	case errors.Is(err, messages.ErrBadEvent) && bad >= 0:
		cl = clExpected
	case errors.Is(err, messages.ErrCrashed):
		if src, id, ok := stormCrashOf(err); ok {
			w.st.sawCrash("events", fmt.Sprint(src, " ", id))
			if src != "events" {
				w.st.violate("crash-misattributed", "InsertEvents (call %d): %v", c.id, err)
			}
		}
		cl = clCrash
	default:
		cl = w.classify("events", "InsertEvents", c.id, err)
	}
	if cl == clOK && bad >= 0 {
		w.st.violate("events", "InsertEvents (call %d) accepted a bad event", c.id)
	}
	writeOutcome(c, sc, cl)
	if cl == clCrash {
		c.why = "crashed"
	}
	if cl == clCtx {
		// The docs: "When ctx is done first, its error, at once; the events may still be written."
		c.out, c.why = outUnknown, "ctx"
	}
}

// opCloseReopen closes the worker's own connection (sometimes inside a transaction, sometimes
// with a ctx that ended, sometimes crashing in Close) and opens a new one on the same DSN.
func (w *stormWorker) opCloseReopen() {
	name := w.ownName()
	w.where = name
	old := w.own.c
	if w.rng.IntN(3) == 0 {
		// Leave a transaction with a write in it open: Close must roll it back.
		c := w.newCall("Close-in-tx", w.own.db, 1)
		c.out, c.why = outClean, "its transaction was open at Close"
		sc := w.bg()
		err := old.BeginImmediate(sc.ctx)
		w.end(sc, "Begin")
		if w.classify(name, "Begin", c.id, err) == clOK {
			sc := w.bg()
			_, err := old.Exec(sc.ctx, stormInsert, c.keys[0], c.keys[0], 0, c.id)
			w.end(sc, "Exec")
			w.classify(name, "Exec", c.id, err)
		} else {
			w.settle()
		}
	}
	id := w.st.ids.Add(1)
	armed := w.rng.IntN(4) == 0
	if armed {
		w.own.arm.Store(id)
		w.st.closeFaults.Add(1)
	}
	var window *actors.Cursor // kept until Close: the cursor whose closing panics
	if w.rng.IntN(4) == 0 {
		window = w.windowCursor()
	}
	defer w.own.final.Store(false)
	sc := w.ctx(nil)
	err, returned := w.leashed(name, "Close", sc, func() error { return old.Close(sc.ctx) })
	if !returned {
		w.own.old = append(w.own.old, old)
		w.reopen()
		return
	}
	switch {
	case err == nil:
		select {
		case <-old.Done():
		default:
			w.st.violate("close", "Close on %s returned nil before its actor stopped", name)
		}
		if _, err := old.QueryRow(context.Background(), "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
			w.st.violate("close", "a call on %s after Close: %v, want ErrClosed", name, err)
		}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
	case armed && errors.Is(err, messages.ErrCrashed):
		w.st.sawCrash(name, fmt.Sprint("fault ", id))
	case window != nil && strings.Contains(err.Error(), "storm final"):
		// Close reports the panic of the caller's Final while closing the cursor.
	default:
		w.st.violate("close", "Close on %s: %v", name, err)
	}
	_ = window
	if err != nil && w.rng.IntN(3) == 0 {
		// Close again, and wait: it is idempotent.
		sc := w.bg()
		err, returned := w.leashed(name, "Close", sc, func() error { return old.Close(sc.ctx) })
		if returned && err != nil {
			w.st.violate("close", "second Close on %s: %v", name, err)
		}
	}
	w.own.arm.Store(0)
	w.own.old = append(w.own.old, old) // kept referenced: a leak must not be hidden by the GC
	w.reopen()
	w.st.reopens.Add(1)
}

// leashed runs a call that may hang (Close) on a goroutine of its own, and gives up on it
// after its bound (stormBackground past the start, or stormSlack past its ctx's end), with a
// violation, so that the storm goes on and reports it. A call given up on is left running.
func (w *stormWorker) leashed(conn, kind string, sc *stormCtx, fn func() error) (err error, returned bool) {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	bound := stormBackground
	if !sc.end.IsZero() {
		bound = max(0, sc.end.Sub(sc.start)) + stormSlack
	}
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case err = <-done:
		w.end(sc, kind)
		return err, true
	case <-t.C:
		w.traced(kind+" (given up)", sc)
		w.kinds[kind]++
		w.st.violate("hang", "%s on %s did not return within %v (ctx ends after %v; last crash seen on it: %s)",
			kind, conn, bound, map[bool]any{true: "never", false: sc.end.Sub(sc.start)}[sc.end.IsZero()], w.st.lastCrashOn(conn))
		return nil, false
	}
}

// stormFinal is storm_total: a count whose Final panics once armed.
type stormFinal struct {
	n     int64
	armed *atomic.Bool
}

func (a *stormFinal) Step([]any) error { a.n++; return nil }
func (a *stormFinal) Final() (any, error) {
	if a.armed.Load() {
		panic("storm final")
	}
	return a.n, nil
}

// windowCursor leaves a cursor half-way through a window of storm_total on the worker's own
// connection and arms its Final: whatever closes the cursor next runs a panicking Final. It
// returns the cursor (nil if the query left none open), to be kept until then.
func (w *stormWorker) windowCursor() *actors.Cursor {
	sc := w.bg()
	cur, err := w.own.c.Query(sc.ctx, "SELECT k, storm_total(k) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) FROM t ORDER BY k LIMIT 64")
	w.end(sc, "Query(window)")
	if w.classify(w.ownName(), "Query(window)", 0, err) != clOK {
		return nil
	}
	w.own.final.Store(true)
	return cur
}

// opWindowCrash crashes the worker's own connection while a cursor on it is half-way through
// a window whose Final panics: the restart closes the cursor, and must survive the panic
// (neither crash again nor stop the connection).
func (w *stormWorker) opWindowCrash() {
	name := w.ownName()
	w.where = name
	cur := w.windowCursor()
	defer w.own.final.Store(false)
	// A read that crashes: a write could not upgrade the cursor's snapshot once another
	// connection committed (SQLITE_BUSY_SNAPSHOT, SQLite's rule, not a fault).
	id := w.st.ids.Add(1)
	sc := w.bg()
	_, err := w.own.c.QueryRow(sc.ctx, "SELECT maybe_boom(1, ?)", id)
	w.end(sc, "QueryRow(crash)")
	w.classify(name, "QueryRow(crash)", id, err)
	c := w.newCall("Exec(after a crash, window)", w.own.db, 1)
	sc = w.bg()
	_, err = w.own.c.Exec(sc.ctx, stormInsert, c.keys[0], c.keys[0], 0, c.id)
	w.end(sc, "Exec")
	writeOutcome(c, sc, w.classify(name, "Exec", c.id, err))
	if cur != nil {
		sc := w.bg()
		err := cur.Close(sc.ctx)
		w.end(sc, "Cursor.Close(window)")
		w.classify(name, "Cursor.Close(window)", 0, err, messages.ErrCursorClosed)
	}
}

// reopen opens the worker's own connection.
func (w *stormWorker) reopen() {
	ctx := context.Background()
	arm := &atomic.Int64{}
	// The fault hook, plus a Close armed by opCloseReopen (Close carries no ctx of the caller's).
	hook := actors.WithFaultHook(func(req messages.Request) {
		if _, ok := req.(*messages.Close); ok {
			if id := arm.Swap(0); id != 0 {
				panic(fmt.Sprintf("storm fault %d Close", id))
			}
		}
		stormFaultHook(req)
	})
	c, err := w.st.s.Open(ctx, w.st.dsn(w.own.db), hook, actors.WithFetchSize(w.own.fetch))
	if err == nil {
		err = stormRegister(ctx, c.CreateFunction)
	}
	if err != nil {
		w.st.violate("open", "worker %d: reopening %s: %v", w.id, w.own.db, err)
		panic(err)
	}
	// storm_total(k) is an aggregate whose Final panics once armed: SQLite calls Final when
	// it resets a statement left half-way through a window, so closing such a cursor (by
	// Close, or after a crash) runs the caller's code, which panics.
	final := &atomic.Bool{}
	err = c.CreateAggregate(ctx, "storm_total", 1, func() actors.Aggregate { return &stormFinal{armed: final} })
	if err != nil {
		w.st.violate("open", "worker %d: registering storm_total: %v", w.id, err)
		panic(err)
	}
	w.own.c, w.own.arm, w.own.final = c, arm, final
}

// ---- an actor as a caller ----

// stormActorJob asks the caller actor to send reqs to pid, all at once, and to close done once
// each has its reply (or its future's timeout).
type stormActorJob struct {
	pid     *actor.PID
	reqs    []any
	timeout time.Duration
	results []stormActorResult
	done    chan struct{}
	sent    atomic.Int32 // requests sent, replies (or timeouts) received: for a report
	got     atomic.Int32
}

type stormActorResult struct {
	res any
	err error
}

// actorCaller is an actor of the supervisor's system that messages shared connections with
// Query and Exec through RequestFuture, never blocking its mailbox: every request must get a
// reply (a crash's counts) before its timeout.
func (st *storm) actorCaller() {
	w := st.extraWorker("actor", 1000)
	sys := st.s.System()
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		job, ok := ctx.Message().(*stormActorJob)
		if !ok {
			return
		}
		left := len(job.reqs)
		for i, req := range job.reqs {
			f := ctx.RequestFuture(job.pid, req, job.timeout)
			job.sent.Add(1)
			ctx.ReenterAfter(f, func(res any, err error) {
				job.got.Add(1)
				job.results[i] = stormActorResult{res, err}
				if left--; left == 0 {
					close(job.done)
				}
			})
		}
	}))
	defer func() { sys.Root.StopFuture(pid).Wait() }()
	for !st.stopped.Load() {
		db := st.dbs[w.rng.IntN(len(st.dbs))]
		conn := st.shared[db]
		w.where = db
		n := 4 + w.rng.IntN(13)
		job := &stormActorJob{pid: conn.PID(), timeout: stormBackground, results: make([]stormActorResult, n), done: make(chan struct{})}
		calls := make([]*stormCall, n)
		for i := range n {
			if w.rng.IntN(3) == 0 {
				job.reqs = append(job.reqs, &messages.Query{SQL: "SELECT count(*) FROM t WHERE k >= ?", Args: []any{w.rng.Int64N(st.keys.Load() + 1)}, FetchSize: -1})
				continue
			}
			c := w.newCall("actor Exec", db, 1)
			var tok int64
			if w.rng.IntN(5) == 0 {
				tok = c.id
			}
			calls[i] = c
			job.reqs = append(job.reqs, &messages.Exec{SQL: stormInsert, Args: []any{c.keys[0], c.keys[0], tok, c.id}})
		}
		w.doing(fmt.Sprintf("actor job of %d requests to %s", n, db))
		begin := time.Now()
		sys.Root.Send(pid, job)
		select {
		case <-job.done:
		case <-time.After(stormBackground + stormSlack):
			// Never expected: each future ends by its timeout. The results are the actor's.
			st.violate("actor", "an actor's %d requests to %s not all answered nor timed out after %v: %d sent, %d answered or timed out",
				n, db, time.Since(begin), job.sent.Load(), job.got.Load())
			return
		}
		st.latency("actor job", begin, begin.Add(stormBackground), nil)
		st.actorReqs.Add(int64(n))
		w.kinds["actor request"] += int64(n)
		for i, r := range job.results {
			if r.err != nil {
				st.violate("actor", "request %d of an actor's job to %s got no reply within %v: %v", i, db, stormBackground, r.err)
				continue
			}
			reply, ok := r.res.(messages.Reply)
			if !ok {
				st.violate("actor", "request %d of an actor's job to %s: a reply of type %T", i, db, r.res)
				continue
			}
			c := calls[i]
			if c == nil {
				if _, ok := reply.(*messages.Rows); !ok {
					st.violate("actor", "an actor's Query: a reply of type %T", reply)
				}
				w.classify(db, "actor Query", 0, reply.ReplyErr())
				continue
			}
			cl := w.classify(db, "actor Exec", c.id, reply.ReplyErr())
			writeOutcome(c, &stormCtx{}, cl)
			if cl == clLost {
				conn.Rollback(context.Background())
			}
		}
	}
}

// extraWorker makes a worker for the goroutines other than the storm's workers (their calls
// go into the ledger too).
func (st *storm) extraWorker(name string, id int) *stormWorker {
	w := &stormWorker{st: st, id: id, rng: rand.New(rand.NewPCG(st.p.seed, uint64(id))), kinds: map[string]int64{}}
	st.mu.Lock()
	st.extra = append(st.extra, w)
	st.mu.Unlock()
	w.doing(name)
	return w
}

// ---- a supervisor whose connections run out of restarts ----

// doomed runs cycles on s2 (2 restarts per connection): a connection crashed three times while
// two goroutines use it, which must then refuse every call with ErrClosed and ErrCrashed
// without hanging, and a pool one of whose readers is crashed until stopped, whose reads must
// then go on working.
func (st *storm) doomed() {
	w := st.extraWorker("doomed", 2000)
	pace := time.NewTicker(50 * time.Millisecond) // a cycle costs a few crashes and restarts: leave the CPU to the storm
	defer pace.Stop()
	for cycle := 0; !st.stopped.Load(); cycle++ {
		if cycle > 0 {
			select {
			case <-pace.C:
			case <-st.done:
				return
			}
		}
		w.doing(fmt.Sprint("doomed connection, cycle ", cycle))
		st.doomedConn(w, cycle)
		if cycle%2 == 0 && !st.stopped.Load() {
			w.doing(fmt.Sprint("doomed pool, cycle ", cycle))
			st.doomedPool(w)
		}
	}
}

// doomedErr checks an error from a connection that may have been stopped for good: nil, its
// ctx's, or both ErrClosed and ErrCrashed.
func (st *storm) doomedErr(kind string, err error) stormClass {
	switch {
	case err == nil:
		return clOK
	case errors.Is(err, messages.ErrClosed) && errors.Is(err, messages.ErrCrashed):
		return clExpected
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return clCtx
	}
	st.violate("doomed", "%s on a connection being crashed to death: %v (want nil, its ctx's error, or ErrClosed with ErrCrashed)", kind, err)
	return clOther
}

func (st *storm) doomedConn(w *stormWorker, cycle int) {
	w.where = "d"
	ctx := context.Background()
	c, err := st.s2.Open(ctx, st.dsn("d"), st.connOptions(2)...)
	if err == nil {
		err = stormRegister(ctx, c.CreateFunction)
	}
	if err != nil {
		st.violate("doomed", "open: %v", err)
		return
	}
	seed := w.newCall("doomed ExecMany", "d", 4)
	args := make([][]any, len(seed.keys))
	for i, k := range seed.keys {
		args[i] = []any{k, k, 0, seed.id}
	}
	sc := w.bg()
	_, err = c.ExecMany(sc.ctx, stormInsert, args)
	w.end(sc, "ExecMany")
	writeOutcome(seed, sc, w.classify("d", "ExecMany", seed.id, err))
	sc = w.bg()
	cur, err := c.Query(sc.ctx, "SELECT k, v FROM t ORDER BY k") // fetch size 2: left open
	w.end(sc, "Query")
	if w.classify("d", "Query", 0, err) != clOK {
		cur = nil
	}

	// Two goroutines use the connection while it is crashed to death.
	hstop := make(chan struct{})
	var hw sync.WaitGroup
	for h := range 2 {
		hwk := st.extraWorker(fmt.Sprint("doomed user ", h), 3000+10*cycle+h)
		hwk.where = "d"
		hw.Go(func() {
			for range 40 {
				select {
				case <-hstop:
					hwk.cur.Store(nil)
					return
				default:
				}
				select {
				case <-c.Done():
					// Stopped: calls fail at once from now on; the checks below try each kind.
					<-hstop
					hwk.cur.Store(nil)
					return
				default:
				}
				if hwk.rng.IntN(2) == 0 {
					call := hwk.newCall("doomed Exec", "d", 1)
					sc := hwk.ctx(nil)
					_, err := c.Exec(sc.ctx, stormInsert, call.keys[0], call.keys[0], 0, call.id)
					hwk.end(sc, "Exec(doomed)")
					switch st.doomedErr("Exec", err) {
					case clOK:
						call.out, call.why = outAcked, "nil"
					case clCtx:
						if sc.pre {
							call.out, call.why = outClean, "ctx done before the call"
						}
					}
					continue
				}
				sc := hwk.ctx(nil)
				_, err := c.QueryRow(sc.ctx, "SELECT count(*) FROM t")
				hwk.end(sc, "QueryRow(doomed)")
				st.doomedErr("QueryRow", err)
			}
			<-hstop
			hwk.cur.Store(nil)
		})
	}
	// Crash it three times: two restarts, then stopped for good.
	for i := range 3 {
		sc := w.bg()
		_, err := c.QueryRow(sc.ctx, "SELECT maybe_boom(1, ?)", st.ids.Add(1))
		w.end(sc, "QueryRow(crash)")
		if !errors.Is(err, messages.ErrCrashed) {
			st.violate("doomed", "crash %d of a doomed connection: %v, want ErrCrashed", i, err)
			continue
		}
		st.doomedCrashes.Add(1)
	}
	select {
	case <-c.Done():
		st.doomedStops.Add(1)
	case <-time.After(stormBackground):
		st.violate("doomed", "connection not stopped %v after its third crash with a budget of 2 restarts", stormBackground)
	}
	// Every call now fails with ErrClosed and ErrCrashed, at once.
	checks := []struct {
		kind string
		fn   func(context.Context) error
	}{
		{"Exec", func(ctx context.Context) error { _, err := c.Exec(ctx, "SELECT 1"); return err }},
		{"ExecMany", func(ctx context.Context) error { _, err := c.ExecMany(ctx, stormInsert, args); return err }},
		{"ExecScript", func(ctx context.Context) error { return c.ExecScript(ctx, "SELECT 1") }},
		{"Query", func(ctx context.Context) error { _, err := c.Query(ctx, "SELECT 1"); return err }},
		{"QueryRow", func(ctx context.Context) error { _, err := c.QueryRow(ctx, "SELECT 1"); return err }},
		{"QueryAll", func(ctx context.Context) error { _, err := c.QueryAll(ctx, "SELECT 1"); return err }},
		{"Begin", func(ctx context.Context) error { return c.Begin(ctx) }},
		{"Commit", func(ctx context.Context) error { return c.Commit(ctx) }},
		{"Rollback", func(ctx context.Context) error { return c.Rollback(ctx) }},
		{"InTransaction", func(ctx context.Context) error { _, err := c.InTransaction(ctx); return err }},
		{"OpenBlob", func(ctx context.Context) error { _, err := c.OpenBlob(ctx, "blobs", "b", 1, false); return err }},
		{"Dump", func(ctx context.Context) error { return c.Dump(ctx, io.Discard) }},
		{"CreateFunction", func(ctx context.Context) error { return c.CreateFunction(ctx, "f", 0, stormBoom) }},
	}
	for _, ch := range checks {
		sc := w.bg()
		err := ch.fn(sc.ctx)
		w.end(sc, ch.kind+"(stopped)")
		if !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
			st.violate("doomed", "%s on a connection stopped for good: %v, want ErrClosed and ErrCrashed", ch.kind, err)
		}
	}
	if cur != nil {
		sc := w.bg()
		if _, err := cur.FetchOne(sc.ctx); err == nil || err == io.EOF {
			st.violate("doomed", "FetchOne on a cursor of a connection stopped for good: %v", err)
		}
		w.end(sc, "FetchOne(stopped)")
		sc = w.bg()
		if err := cur.Close(sc.ctx); err != nil {
			st.violate("doomed", "Cursor.Close on a connection stopped for good: %v", err)
		}
		w.end(sc, "Cursor.Close(stopped)")
	}
	close(hstop)
	hw.Wait()
	sc = w.bg()
	if err := c.Close(sc.ctx); err != nil {
		st.violate("doomed", "Close of a connection stopped for good: %v", err)
	}
	w.end(sc, "Close(stopped)")
}

func (st *storm) doomedPool(w *stormWorker) {
	w.where = "doomed pool"
	ctx := context.Background()
	p, err := st.s2.OpenPool(ctx, st.dsn("dp"), 2, st.connOptions(2)...)
	if err == nil {
		err = stormRegister(ctx, p.CreateFunction)
	}
	if err != nil {
		st.violate("doomed-pool", "open: %v", err)
		return
	}
	defer func() {
		sc := w.bg()
		if err := p.Close(sc.ctx); err != nil && !(errors.Is(err, messages.ErrClosed) && errors.Is(err, messages.ErrCrashed)) {
			st.violate("doomed-pool", "Close: %v", err)
		}
		w.end(sc, "Pool.Close")
	}()
	// Crash reads until a reader is stopped for good (the supervisor counts it before it
	// answers the crash).
	stopped0 := st.s2.Stats().Stopped
	for i := 0; st.s2.Stats().Stopped == stopped0; i++ {
		if i == 10 {
			st.violate("doomed-pool", "no reader stopped after %d crashing reads with a budget of 2 restarts", i)
			return
		}
		sc := w.bg()
		_, err := p.QueryRow(sc.ctx, "SELECT maybe_boom(1, ?)", st.ids.Add(1))
		w.end(sc, "Pool.QueryRow(crash)")
		if !errors.Is(err, messages.ErrCrashed) {
			st.violate("doomed-pool", "crashing read %d: %v, want ErrCrashed", i, err)
			return
		}
		st.doomedCrashes.Add(1)
	}
	st.doomedStops.Add(1)
	// The pool still has a reader (and its writer): reads go on working.
	for i := range 20 {
		sc := w.bg()
		_, err := p.QueryRow(sc.ctx, "SELECT count(*) FROM t")
		w.end(sc, "Pool.QueryRow(after a reader stopped)")
		if err != nil {
			st.violate("doomed-pool", "read %d after one of 2 readers was stopped for good: %v", i, err)
			return
		}
	}
}

// ---- after the storm ----

// checkIdle checks the databases while the storm's connections are still open, but idle.
func (st *storm) checkIdle() {
	ctx := context.Background()
	st.waitFor("the events queue to empty", func() bool { return st.s.Stats().EventsQueued == 0 })
	for _, db := range st.dbs {
		if in, err := st.shared[db].InTransaction(ctx); err != nil || in {
			st.violate("idle", "shared connection %s after the storm: in transaction %v, %v", db, in, err)
		}
	}
	if in, err := st.pool.Writer().InTransaction(ctx); err != nil || in {
		st.violate("idle", "the pool's writer after the storm: in transaction %v, %v", in, err)
	}
	// A leaked cursor, blob or transaction keeps a checkpoint from truncating the WAL.
	for _, db := range append(stormNames(st.dbs), "p", "events") {
		c, err := st.s.Open(ctx, st.dsn(db))
		if err != nil {
			st.violate("checkpoint", "%s: open: %v", db, err)
			continue
		}
		begin := time.Now()
		row, err := c.QueryRow(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		st.latency("wal_checkpoint", begin, time.Time{}, nil)
		switch {
		case err != nil:
			st.violate("checkpoint", "%s: wal_checkpoint(TRUNCATE): %v", db, err)
		case row.Index(0) != int64(0):
			st.violate("checkpoint", "%s: wal_checkpoint(TRUNCATE) = %v: busy with every storm connection idle (a leaked snapshot or lock)", db, row)
		}
		if err := c.Close(ctx); err != nil {
			st.violate("checkpoint", "%s: close: %v", db, err)
		}
	}
	// Every connection the storm closed has stopped, whatever the ctx its Close had.
	var old []*actors.Conn
	for _, w := range st.workers {
		old = append(old, w.own.old...)
	}
	st.waitFor(fmt.Sprintf("%d closed connections to stop", len(old)), func() bool {
		for _, c := range old {
			select {
			case <-c.Done():
			default:
				return false
			}
		}
		return true
	})
	n := 0
	for _, c := range old {
		select {
		case <-c.Done():
		default:
			n++
		}
	}
	if n > 0 {
		st.violate("close-leak", "%d of %d connections closed during the storm (some with a ctx already done) never stopped", n, len(old))
	}
}

func (st *storm) checkStats(s, s2 supervisor.Stats) {
	seen := int64(len(st.crashes))
	if s.Crashes < seen {
		st.violate("stats", "Stats.Crashes %d < %d distinct crashes callers saw", s.Crashes, seen)
	}
	if s.Stopped != 0 {
		st.violate("stats", "Stats.Stopped %d with a budget of 2^30 restarts", s.Stopped)
	}
	if s.Restarts > s.Crashes || s.Crashes > s.Restarts+st.closeFaults.Load() {
		st.violate("stats", "Stats.Restarts %d, Crashes %d: every crash restarts (but those in a Close, %d armed)", s.Restarts, s.Crashes, st.closeFaults.Load())
	}
	if s.OpenConns != st.openConns0 {
		st.violate("stats", "Stats.OpenConns %d after the storm, %d before (every connection closed was reopened)", s.OpenConns, st.openConns0)
	}
	if s.EventsQueued != 0 {
		st.violate("stats", "Stats.EventsQueued %d when idle", s.EventsQueued)
	}
	var crashedEvents int64
	for _, w := range st.workers {
		for _, c := range w.calls {
			if c.db == "events" && c.why == "crashed" {
				crashedEvents += int64(len(c.keys))
			}
		}
	}
	if s.EventsFailed < crashedEvents {
		st.violate("stats", "Stats.EventsFailed %d < %d events whose InsertEvents returned a crash", s.EventsFailed, crashedEvents)
	}
	if s2.Crashes != st.doomedCrashes.Load() || s2.Stopped != st.doomedStops.Load() || s2.Restarts+s2.Stopped != s2.Crashes {
		st.violate("stats", "small-budget supervisor: Stats %+v; the storm caused %d crashes and saw %d connections stopped", s2, st.doomedCrashes.Load(), st.doomedStops.Load())
	}
	st.t.Logf("stats: %+v", s)
	st.t.Logf("stats of the small-budget supervisor: %+v", s2)
}

// verify reopens every database with a fresh supervisor and checks the ledger.
func (st *storm) verify(stats supervisor.Stats) {
	ctx := context.Background()
	s3, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		st.t.Fatal(err)
	}
	defer func() {
		if err := s3.Stop(ctx); err != nil {
			st.violate("verify", "stop: %v", err)
		}
	}()
	byDB := map[string][]*stormCall{}
	for _, w := range st.allWorkers() {
		for _, c := range w.calls {
			byDB[c.db] = append(byDB[c.db], c)
		}
	}
	for _, db := range append(stormNames(st.dbs), "p", "d", "dp") {
		c, err := s3.Open(ctx, st.dsn(db))
		if err == nil {
			err = stormRegister(ctx, c.CreateFunction)
		}
		if err != nil {
			st.violate("verify", "%s: open: %v", db, err)
			continue
		}
		if row, err := c.QueryRow(ctx, "PRAGMA integrity_check"); err != nil || row.Index(0) != "ok" {
			st.violate("verify", "%s: integrity_check: %v %v", db, row, err)
		}
		if row, err := c.QueryRow(ctx, "PRAGMA user_version"); err != nil || row.Index(0) != int64(0) {
			st.violate("multi-statement", "%s: user_version %v, %v: a refused statement's PRAGMA ran", db, row, err)
		}
		blobs, err := c.QueryAll(ctx, "SELECT id, b FROM blobs ORDER BY id")
		if err != nil || len(blobs) != stormBlobRows {
			st.violate("verify", "%s: blobs: %d rows, %v", db, len(blobs), err)
		}
		for _, r := range blobs {
			b, _ := r.Index(1).([]byte)
			if len(b) != stormBlobSize || bytes.Count(b, b[:1]) != len(b) {
				st.violate("blob", "%s: blob %v is not %d alike bytes", db, r.Index(0), stormBlobSize)
			}
		}
		rows, err := c.QueryAll(ctx, "SELECT k, v, call FROM t")
		if err != nil {
			st.violate("verify", "%s: reading t: %v", db, err)
			continue
		}
		present := make(map[int64]int64, len(rows))
		for _, r := range rows {
			k, _ := r.Index(0).(int64)
			v, _ := r.Index(1).(int64)
			call, _ := r.Index(2).(int64)
			if k != v {
				st.violate("ledger", "%s: row k=%d holds v=%d", db, k, v)
			}
			present[k] = call
		}
		st.checkLedger(db, byDB[db], present)
		if err := c.Close(ctx); err != nil {
			st.violate("verify", "%s: close: %v", db, err)
		}
	}
	// Events: each stored once at most, and as the ledger says.
	c, err := s3.Open(ctx, st.dsn("events"))
	if err != nil {
		st.violate("verify", "events: open: %v", err)
		return
	}
	defer c.Close(ctx)
	if row, err := c.QueryRow(ctx, "PRAGMA integrity_check"); err != nil || row.Index(0) != "ok" {
		st.violate("verify", "events: integrity_check: %v %v", row, err)
	}
	rows, err := c.QueryAll(ctx, "SELECT properties ->> 'k', properties ->> 'call' FROM events")
	if err != nil {
		st.violate("verify", "events: %v", err)
		return
	}
	if int64(len(rows)) != stats.EventsCommitted {
		st.violate("stats", "%d events stored, Stats.EventsCommitted %d", len(rows), stats.EventsCommitted)
	}
	present := make(map[int64]int64, len(rows))
	for _, r := range rows {
		k, _ := r.Index(0).(int64)
		call, _ := r.Index(1).(int64)
		if _, dup := present[k]; dup {
			st.violate("ledger", "event k=%d stored twice", k)
		}
		present[k] = call
	}
	st.checkLedger("events", byDB["events"], present)
}

// checkLedger checks a database's rows (key → call) against the calls that wrote to it.
func (st *storm) checkLedger(db string, calls []*stormCall, present map[int64]int64) {
	written := make(map[int64]bool, len(present))
	for _, c := range calls {
		n, firstAbsent, prefix := 0, -1, true
		for i, k := range c.keys {
			written[k] = true
			call, ok := present[k]
			if !ok {
				if firstAbsent < 0 {
					firstAbsent = i
				}
				continue
			}
			n++
			if firstAbsent >= 0 {
				prefix = false
			}
			if call != c.id {
				st.violate("ledger", "%s: key %d of call %d holds call %d", db, k, c.id, call)
			}
		}
		st.rowsVerified += int64(len(c.keys))
		ok := true
		switch c.out {
		case outAcked:
			ok = n == len(c.keys)
		case outClean:
			ok = n == 0
		case outExact:
			ok = n == c.exact && prefix
		case outUnknown:
			ok = prefix
			if !c.prefix {
				ok = n == 0 || n == len(c.keys)
			}
		}
		if !ok {
			st.violate("ledger", "%s: %s (call %d) %s (%s%s): %d of its %d keys present (%v)",
				db, c.kind, c.id, c.out, c.why, map[bool]string{true: ", statements commit one by one", false: ""}[c.prefix], n, len(c.keys), stormPresence(c.keys, present))
		}
	}
	for k, call := range present {
		if !written[k] {
			st.violate("ledger", "%s: key %d (call %d) present, but no call wrote it", db, k, call)
		}
	}
}

// stormPresence draws which keys are present: "+" present, "." absent.
func stormPresence(keys []int64, present map[int64]int64) string {
	b := make([]byte, len(keys))
	for i, k := range keys {
		b[i] = '.'
		if _, ok := present[k]; ok {
			b[i] = '+'
		}
	}
	return string(b)
}

func (st *storm) allWorkers() []*stormWorker {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append(append([]*stormWorker(nil), st.workers...), st.extra...)
}
