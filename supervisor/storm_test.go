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
// closes a half-computed window. Meanwhile actors (real ones, with a Receive, that never
// block) send the same kinds of requests by message to connection PIDs, with actors.Ask and
// with ctx.Request, with deadlines of their own (see "actors as callers"), a second supervisor
// with a budget of 2 restarts has connections and pool readers crashed to death under use
// (while an actor of its system messages them, their tombstones, then their buried PIDs), and
// floods of abandoned requests and events test that memory is bounded in bytes. A seed fixes
// every decision a worker or actor makes; the interleaving of the workers is the scheduler's,
// so a replay reproduces the storm's mix, not its exact schedule.
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
	// stormBusyTimeout is the storm's connections' busy_timeout (the default): a wait for a lock
	// ends with SQLITE_BUSY only after it.
	stormBusyTimeout = 5 * time.Second
	stormBlobSize    = 4096
	stormBlobRows    = 4
	stormInsert      = "INSERT INTO t (k, v, call) VALUES (?, maybe_boom(?, ?), ?)"
	stormSchema      = `CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL, call INTEGER NOT NULL);
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
//   - every request an actor sends is answered exactly once, with its ID and its kind's reply
//     type (an Ask within its timeout, a Request within stormBackground), none is left
//     waiting when the storm ends, and its answers follow the rules of a handle's calls (its
//     Deadline is its ctx; the ledger judges its writes the same way), plus: a request past
//     its deadline when sent has no effect, a deadline error only where there is a deadline
//     (never for a release sent by Request), ErrOverloaded only where a burst can pass the
//     bounds, and, with the connection held, exactly the requests past MaxPending and
//     MaxPendingBytes refused, at once; the PID of a connection stopped for good answers
//     ErrClosed with ErrCrashed until buried, then is a dead letter;
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
		for name, s := range map[string]*supervisor.Supervisor{"s (events, a pool, connections)": st.s, "s2 (small budget, pools)": st.s2, "sa (actors' connections)": st.sa} {
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
	sa      *supervisor.Supervisor // the actors' own connections: small MaxPending and MaxPendingBytes
	dbs     []string               // the shared file databases
	shared  map[string]*actors.Conn
	pool    *actors.Pool
	dsns    map[string]string
	ids     atomic.Int64 // call ids
	keys    atomic.Int64 // row and event keys
	done    chan struct{}
	stopped atomic.Bool
	stops   []*supervisor.Supervisor
	workers []*stormWorker // the storm's workers
	extra   []*stormWorker // the other goroutines and actors that call (the doomed cycles, the floods)
	actors  []*stormActor  // the actor senders (see "actors as callers")
	af      stormActorFigures

	mu        sync.Mutex
	viol      map[string]*stormViolations
	vorder    []string
	crashes   map[string]bool   // distinct crashes seen ("boom 12", "events 7", ...), but on sa
	crashesA  map[string]bool   // distinct crashes seen on sa's connections
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
	handleCalls   atomic.Int64 // calls through handles so far: the actors' requests follow them (see next)
	bgNs          atomic.Int64 // max latency of a call whose ctx never ends
	peakHeap      atomic.Uint64
	stallNs       atomic.Int64
	rowsVerified  int64
	openConns0    int64
}

func newStorm(t *testing.T, p stormParams) *storm {
	return &storm{t: t, p: p, dir: t.TempDir(), done: make(chan struct{}), viol: map[string]*stormViolations{},
		crashes: map[string]bool{}, crashesA: map[string]bool{}, lastCrash: map[string]string{}, shared: map[string]*actors.Conn{}, dsns: map[string]string{}}
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
	if st.actorConn(conn) {
		st.crashesA[what] = true
	} else {
		st.crashes[what] = true
	}
	if conn != "" {
		st.lastCrash[conn] = what
	}
}

// actorConn reports whether conn names an actor's own connection, on sa.
func (st *storm) actorConn(conn string) bool {
	for _, a := range st.actors {
		if a.name == conn {
			return true
		}
	}
	return false
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
	// The actors' own connections, in s's system: bounds small enough for bursts to pass.
	st.sa = st.startSupervisor(supervisor.Config{System: st.s.System(), MaxRestarts: 1 << 30, RestartWindow: time.Hour,
		MaxPending: stormActorPending, MaxPendingBytes: stormActorPendingBytes})

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
	// The warm-up's and setup's closes are done; what is open now stays open through the storm:
	// the pool's writer, its WAL checkpointer and its two readers, and each db's and worker's.
	st.waitFor("setup connections closed", func() bool { return st.s.Stats().OpenConns == int64(len(st.dbs)+4+stormWorkers) })
	st.openConns0 = st.s.Stats().OpenConns
	st.setupActors()
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
		for i := len(st.stops) - 1; i >= 0; i-- { // sa, which joined s's system, before s
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			st.stops[i].Stop(ctx) // idempotent: a no-op after the Stop below
			cancel()
		}
	}()
	st.setup()
	st.start = time.Now()
	var wg sync.WaitGroup
	for _, w := range st.workers {
		wg.Go(w.loop)
	}
	wg.Go(st.actorSenders)
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
	st.settle(func() bool { return st.sa.Stats().OpenConns == int64(len(st.actors)) })
	stats, stats2, statsA := st.s.Stats(), st.s2.Stats(), st.sa.Stats()
	st.checkStats(stats, stats2)
	st.checkActorStats(statsA)

	// Stop the supervisors (bounded; sa, which joined s's system, first), then reopen every
	// database with a fresh one.
	for i, sv := range []*supervisor.Supervisor{st.sa, st.s, st.s2} {
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
	t.Logf("storm figures: %v elapsed; %d crashes (%d seen by callers, %d on the small-budget supervisor, %d connections stopped there); %d calls (%d of them requests by actors); %d writes in the ledger; %d rows verified; max latency past a ctx's end %v, max latency without one %v; longest stall of a ticker %v; %d blob or cursor reads aborted by another caller's rollback; peak heap %.1f MiB",
		elapsed.Round(time.Millisecond), stats.Crashes, len(st.crashes), stats2.Crashes, stats2.Stopped, ncalls, st.af.sent.Load(), nledger, st.rowsVerified,
		time.Duration(st.pastNs.Load()).Round(time.Microsecond), time.Duration(st.bgNs.Load()).Round(time.Microsecond),
		time.Duration(st.stallNs.Load()).Round(time.Microsecond), st.aborted, float64(st.peakHeap.Load())/(1<<20))
	t.Logf("storm calls by kind:%s", b.String())
	af := &st.af
	t.Logf("storm actors: %d requests (%d by Ask, %d by Request), %d answered: %d ErrOverloaded, %d deadline errors, %d ErrClosed with ErrCrashed to doomed actors, %d dead letters; %d bounds checked exactly with the connection held; %d own connections closed by message (%d Close armed to crash) and reopened; their supervisor: %d crashes, %d restarts",
		af.sent.Load(), af.asks.Load(), af.sent.Load()-af.asks.Load(), af.answered.Load(), af.overloaded.Load(), af.deadlines.Load(), af.tombs.Load(), af.deadLetters.Load(),
		af.bounds.Load(), af.reopens.Load(), af.closeFaults.Load(), statsA.Crashes, statsA.Restarts)
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
	w.st.handleCalls.Add(1)
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
	w.note(fmt.Sprintf("%s on %s, ctx %s, took %v", kind, w.where, sc.kind(), time.Since(sc.start).Round(time.Microsecond)))
}

// note records a line among the worker's last calls.
func (w *stormWorker) note(line string) {
	w.trace.mu.Lock()
	w.trace.last[w.trace.n%len(w.trace.last)] = line
	w.trace.n++
	w.trace.mu.Unlock()
}

// execManyArgs returns the arguments of an ExecMany inserting c's keys: the row at boomAt (if
// not -1) crashes the connection, and the row at dupAt (if not -1) repeats the first key (a
// constraint error), which is then dropped from c.keys: it was never c's to write.
func (c *stormCall) execManyArgs(boomAt, dupAt int) [][]any {
	args := make([][]any, len(c.keys))
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
	return args
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
// ErrBusy is expected at once on a shared connection (another caller's cursor there holds a
// read snapshot, and a write through the same connection cannot upgrade a snapshot that
// another connection's commit made stale, SQLITE_BUSY_SNAPSHOT, nor wait for a lock while it
// reads): "at once" once its turn came, so within the busy timeout, for the call may have
// waited behind other callers' requests first (a Dump of a large database). It is expected
// too when the call's ctx ended while it waited for a lock (the wait is cut short with
// SQLITE_BUSY). Otherwise, and after waiting for a second or more, it means a lock or snapshot
// was leaked.
func (w *stormWorker) classify(conn, kind string, id int64, err error, expected ...error) stormClass {
	st := w.st
	if err == nil {
		return clOK
	}
	for _, e := range expected {
		if errors.Is(err, e) {
			if src, cid, ok := stormCrashOf(err); ok {
				st.sawCrash(conn, fmt.Sprint(src, " ", cid))
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
		if _, shared := st.shared[conn]; shared && w.lastTook < stormBusyTimeout {
			return clExpected
		}
		if w.lastCtxEnded && w.lastTook < time.Second {
			return clExpected // the ctx cut a wait for another connection's lock short
		}
		code := 0
		if se := (*messages.Error)(nil); errors.As(err, &se) {
			code = se.ExtendedCode
		}
		st.violate("busy", "%s (call %d) on %s after %v: %v (extended code %d; a leaked lock or snapshot?); worker %d's last calls:%s", kind, id, conn, w.lastTook, err, code, w.id, w.recent())
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
	args := c.execManyArgs(boomAt, dupAt)
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

// ---- actors as callers ----

// The actor-sender mode. stormActors actors of the storm's system (real actors, with a
// Receive, that never block) message connection PIDs with the requests of package messages,
// in two lanes each: one on the shared connections, which the workers use too, and one on a
// connection of the actor's own, opened on sa, whose MaxPending and MaxPendingBytes are small.
// A request goes with actors.Ask (a future, whose answer comes back through ReenterAfter) or
// with ctx.Request (the reply is a message, matched by its ID), with a deadline drawn like a
// worker's ctx: none, 0-3 ms, already past, or 20-300 ms. The actors crash connections as the
// workers' calls do (maybe_boom's token, and the fault hook, which finds its fault in the
// request's Ctx), write through the ledger, open cursors (a small FetchSize, then Fetch
// chained or pipelined, and CloseCursor), run transactions by message from one actor, in
// order (pipelined with Request, or chained with Ask), send bursts past MaxPending and
// MaxPendingBytes, hold their connection to count exactly what the bounds admit, insert
// events, and close their connection by message (sometimes crashing in Close). Their share of
// the storm is bounded: together they send no more requests than the handles made calls. And
// each doomed cycle has an actor of s2's system message its connection while it is crashed to
// death, then its tombstone, then its PID once buried.
//
// Checked for every actor's request, besides what classify and the ledger check for every
// call (the same rules as for a handle's: its deadline is its ctx): it is answered exactly
// once (an answer no request waits for is a violation, and so is a request still waiting
// when the storm ends), with its own ID and its kind's reply type, an Ask within its timeout
// and a Request within stormBackground; a request whose deadline was past when it was sent
// has no effect (it fails with its deadline's error, ErrOverloaded or ErrClosed; a release
// runs whatever its deadline); a deadline error only for a request that has a deadline, and
// never for a release sent by Request; ErrOverloaded only in a burst that can pass the bound,
// and, while the connection is held, exactly the requests past MaxPending (and past
// MaxPendingBytes) refused, at once, and the others served.

const (
	stormActors = 2
	// stormActorPending and stormActorPendingBytes are sa's MaxPending and MaxPendingBytes:
	// small, for the actors' bursts to pass them.
	stormActorPending      = 16
	stormActorPendingBytes = 1 << 20
	// stormActorLarge is a large request's argument: three fit in stormActorPendingBytes.
	stormActorLarge  = 300 << 10
	stormInsertLarge = "INSERT INTO t (k, v, call) VALUES (?, maybe_boom(?, ?) + 0 * length(?), ?)"
	// stormDoomedBursts is how many bursts a doomed actor sends before it waits for its
	// connection to be stopped for good.
	stormDoomedBursts = 12
)

// stormActorFigures counts what the actors did, for the report and Stats checks.
type stormActorFigures struct {
	sent, asks, answered, overloaded, deadlines, tombs, deadLetters atomic.Int64
	bounds, reopens, closeFaults                                    atomic.Int64
}

// stormDeadline is an actor's request's deadline.
type stormDeadline struct {
	at   time.Time // zero: none (a Request's; an Ask's is its timeout)
	none bool      // drawn as none: an Ask then times out after stormBackground
}

// deadline draws a request's deadline: none, 0-3 ms, already past, or 20-300 ms.
func (a *stormActor) deadline() stormDeadline {
	now := time.Now()
	switch r := a.w.rng.IntN(100); {
	case r < 34:
		return stormDeadline{none: true}
	case r < 62:
		return stormDeadline{at: now.Add(time.Duration(a.w.rng.IntN(3001)) * time.Microsecond)}
	case r < 70:
		return stormDeadline{at: now.Add(-time.Duration(1+a.w.rng.IntN(5000)) * time.Microsecond)}
	}
	return stormDeadline{at: now.Add(time.Duration(20+a.w.rng.IntN(281)) * time.Millisecond)}
}

// stormActorReq is a request an actor sent, waiting for its answer.
type stormActorReq struct {
	id    uint64
	kind  string // "Exec(actor)", ...
	conn  string // the connection's name: "a", "actor1", "d", "events"
	req   messages.Request
	ask   bool // sent with actors.Ask, else ctx.Request
	dl    stormDeadline
	pre   bool // its deadline was past when it was sent: it must have no effect
	sent  time.Time
	bound time.Time // an Ask's timeout; zero for a Request, bounded by stormBackground
	dead  bool      // a Request to a PID that is gone: a DeadLetterResponse (with no ID) answers it
	then  func(p *stormActorReq, r messages.Reply, err error)
}

func (p *stormActorReq) how() string {
	if p.ask {
		return "Ask"
	}
	return "Request"
}

func (p *stormActorReq) deadlineKind() string {
	switch {
	case p.dl.none && p.ask:
		return fmt.Sprint("none, a timeout of ", stormBackground)
	case p.dl.none:
		return "none"
	case p.pre:
		return fmt.Sprint("past by ", p.sent.Sub(p.dl.at).Round(time.Microsecond), " when sent")
	}
	return fmt.Sprint(p.dl.at.Sub(p.sent).Round(time.Microsecond), " after sending")
}

// stormAnswer is the answer to one request of several an actor sent at once.
type stormAnswer struct {
	p   *stormActorReq
	r   messages.Reply
	err error
}

// stormActorStep is a message an actor runs in its Receive.
type stormActorStep func(ctx actor.Context)

// stormTgt is where an actor sends a request.
type stormTgt struct {
	name string // the connection's name, for classify and reports
	db   string // its database, for the ledger
	pid  *actor.PID
}

// stormSendOpt is how an actor sends one request.
type stormSendOpt struct {
	ask      bool
	dl       stormDeadline
	large    bool    // a stormActorLarge argument: it counts against MaxPendingBytes
	calm     bool    // no crash
	expected []error // what it may get besides what every request may
}

// stormHold holds an actor's own connection (in storm_hold()) until release is closed.
type stormHold struct {
	entered func() // tells the actor that the connection holds
	release chan struct{}
}

type stormActor struct {
	st   *storm
	w    *stormWorker // its rng, ledger entries, counts and last calls
	name string
	idx  int
	sys  *actor.ActorSystem
	ref  *actor.PID // for its spawner
	pid  *actor.PID // set in Started

	own     *actors.Conn // its own connection (on sa); nil for a doomed actor
	db      string       // its own connection's database
	old     []*actors.Conn
	hold    atomic.Pointer[stormHold] // set while an op holds its own connection
	drained chan struct{}             // closed once every lane ended and every request was answered

	// actor only
	lanes    []string
	live     int             // lanes still running
	finals   map[string]bool // lanes that began their final op
	ids      uint64
	pending  map[uint64]*stormActorReq
	closed   bool // drained is closed
	stopping bool // a doomed actor was told to stop
	target   *actor.PID
	bursts   int
	parked   bool // the doomed lane waits to be told to stop
	buryBy   bool // a doomed actor buries the tombstone with a Close of its own
}

func newStormActor(st *storm, w *stormWorker, name string, idx int, sys *actor.ActorSystem, lanes ...string) *stormActor {
	return &stormActor{st: st, w: w, name: name, idx: idx, sys: sys, lanes: lanes, finals: map[string]bool{},
		pending: map[uint64]*stormActorReq{}, drained: make(chan struct{})}
}

func (a *stormActor) spawn() {
	a.ref = a.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return a }))
}

// tell runs fn in the actor's Receive.
func (a *stormActor) tell(fn stormActorStep) { a.sys.Root.Send(a.ref, fn) }

func (a *stormActor) stop() {
	if err := a.sys.Root.StopFuture(a.ref).Wait(); err != nil {
		a.st.violate("actor", "%s: stopping it: %v", a.name, err)
	}
}

// wait waits for ch, at most stormBackground plus stormSlack; then reports what the actor
// still waits for.
func (a *stormActor) wait(what string, ch <-chan struct{}) bool {
	t := time.NewTimer(stormBackground + stormSlack)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	}
	list := make(chan string, 1)
	a.tell(func(actor.Context) { list <- a.pendingList() })
	select {
	case l := <-list:
		a.st.violate("actor-answered", "%s: %s not done %v after it was due; waiting for:%s", a.name, what, stormBackground+stormSlack, l)
	case <-time.After(stormSlack):
		a.st.violate("actor-answered", "%s: %s not done %v after it was due, and its Receive does not run", a.name, what, stormBackground+stormSlack)
	}
	return false
}

func (a *stormActor) pendingList() string {
	ps := make([]*stormActorReq, 0, len(a.pending))
	for _, p := range a.pending {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n\t\t%s, sent %v ago", a.describe(p), time.Since(p.sent).Round(time.Millisecond))
	}
	return b.String()
}

func (a *stormActor) describe(p *stormActorReq) string {
	return fmt.Sprintf("%s (request %d) by %s on %s (%s, deadline %s)", p.kind, p.id, a.name, p.conn, p.how(), p.deadlineKind())
}

// safely runs fn, turning a panic of the storm's own code into a violation: the actor must
// go on answering for the storm's end to be judged.
func (a *stormActor) safely(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			a.st.violate("actor-panic", "%s: %v\n%s", a.name, r, buf)
		}
	}()
	fn()
}

func (a *stormActor) Receive(ctx actor.Context) {
	a.safely(func() {
		switch m := ctx.Message().(type) {
		case *actor.Started:
			if a.pid != nil {
				return // restarted after a panic of its own: its lanes run on
			}
			a.pid = ctx.Self()
			a.live = len(a.lanes)
			for _, lane := range a.lanes {
				a.next(ctx, lane)
			}
		case stormActorStep:
			m(ctx)
		case messages.Reply:
			a.answer(idOf(m), m, m.ReplyErr(), false)
		case *actor.DeadLetterResponse:
			a.deadLetter()
		}
	})
}

// next starts a lane's next op, or its final one once the storm stopped, or ends it.
func (a *stormActor) next(ctx actor.Context, lane string) {
	if lane == "own" && a.own == nil {
		a.endLane() // its connection could not be reopened (a violation already)
		return
	}
	// A doomed actor's lane ends when its cycle says so; the others' when the storm stops.
	if a.stopping || (lane != "doomed" && a.st.stopped.Load()) {
		if !a.finals[lane] {
			a.finals[lane] = true
			switch lane {
			case "own":
				a.w.doing(a.name + ": the final bound check")
				a.opBound(ctx, a.then(ctx, lane))
				return
			case "doomed":
				a.w.doing(a.name + ": probing the tombstone")
				a.opTombstone(ctx, a.then(ctx, lane))
				return
			}
		}
		a.endLane()
		return
	}
	// The actors' share of the storm is bounded: together they send no more requests than the
	// handles made calls, or, as the tables grow and the workers' calls get slower while
	// theirs do not, they would take the storm over. A lane ahead starts its op a moment later.
	if lane != "doomed" && a.st.af.sent.Load() > a.st.handleCalls.Load() {
		self := ctx.Self()
		time.AfterFunc(time.Millisecond, func() { a.sys.Root.Send(self, stormActorStep(func(ctx actor.Context) { a.next(ctx, lane) })) })
		return
	}
	type op struct {
		weight int
		name   string
		fn     func(actor.Context, func())
	}
	var ops []op
	switch lane {
	case "shared":
		ops = []op{
			{6, "burst", func(ctx actor.Context, done func()) {
				a.opBurst(ctx, a.sharedTgt(), 1+a.w.rng.IntN(8), stormSendOpt{}, done)
			}},
			{4, "cursor", func(ctx actor.Context, done func()) { a.opCursor(ctx, a.sharedTgt(), done) }},
			{1, "events", a.opEvents},
		}
	case "own":
		ops = []op{
			{4, "burst", func(ctx actor.Context, done func()) {
				a.opBurst(ctx, a.ownTgt(), 1+a.w.rng.IntN(8), stormSendOpt{}, done)
			}},
			{2, "overload", func(ctx actor.Context, done func()) {
				a.opBurst(ctx, a.ownTgt(), stormActorPending+1+a.w.rng.IntN(stormActorPending), stormSendOpt{expected: []error{messages.ErrOverloaded}}, done)
			}},
			{3, "cursor", func(ctx actor.Context, done func()) { a.opCursor(ctx, a.ownTgt(), done) }},
			{4, "pipelined tx", a.opTxPipelined},
			{4, "chained tx", a.opTxChained},
			{1, "bound", a.opBound},
			{1, "close", a.opCloseReopen},
		}
	case "doomed":
		if a.bursts >= stormDoomedBursts {
			a.parked = true // until told to stop
			return
		}
		ops = []op{{1, "burst", a.opDoomedBurst}}
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	r := a.w.rng.IntN(total)
	for _, o := range ops {
		if r < o.weight {
			a.w.doing(fmt.Sprintf("%s, lane %s: %s", a.name, lane, o.name))
			o.fn(ctx, a.then(ctx, lane))
			return
		}
		r -= o.weight
	}
}

// then returns what an op of lane calls once every request of it was answered: the lane's
// next op, as a message of its own.
func (a *stormActor) then(ctx actor.Context, lane string) func() {
	return func() { ctx.Send(ctx.Self(), stormActorStep(func(ctx actor.Context) { a.next(ctx, lane) })) }
}

func (a *stormActor) endLane() {
	a.live--
	a.maybeDrained()
}

func (a *stormActor) maybeDrained() {
	if a.live == 0 && len(a.pending) == 0 && !a.closed {
		a.closed = true
		close(a.drained)
	}
}

func (a *stormActor) newID() uint64 {
	a.ids++
	return uint64(a.idx+1)<<40 | a.ids
}

func (a *stormActor) sharedTgt() stormTgt {
	db := a.st.dbs[a.w.rng.IntN(len(a.st.dbs))]
	return stormTgt{name: db, db: db, pid: a.st.shared[db].PID()}
}

func (a *stormActor) ownTgt() stormTgt { return stormTgt{name: a.name, db: a.db, pid: a.own.PID()} }

// stormFaultCtx is the Ctx of a request that carries f for the fault hook (nil: none).
func stormFaultCtx(f *stormFault) context.Context {
	if f == nil {
		return nil
	}
	return context.WithValue(context.Background(), stormFaultKey{}, f)
}

// stormReleases reports whether req releases what the connection holds: it runs whatever its
// deadline (see Conn's docs).
func stormReleases(req messages.Request) bool {
	switch req.(type) {
	case *messages.CloseCursor, *messages.CloseBlob, *messages.Rollback, *messages.Close:
		return true
	}
	return false
}

// stormReplyFits reports whether r is the reply type of req's kind.
func stormReplyFits(req messages.Request, r messages.Reply) bool {
	var ok bool
	switch req.(type) {
	case *messages.Exec, *messages.ExecMany, *messages.ExecScript:
		_, ok = r.(*messages.ExecReply)
	case *messages.Query, *messages.Fetch:
		_, ok = r.(*messages.Rows)
	case *messages.TxStatus:
		_, ok = r.(*messages.TxStatusReply)
	case *messages.InsertEvents:
		_, ok = r.(*messages.EventsAck)
	default:
		_, ok = r.(*messages.Ack)
	}
	return ok
}

// stormAsk is actors.Ask with the reply type of req's kind.
func stormAsk(ctx actor.Context, pid *actor.PID, req messages.Request, timeout time.Duration, then func(messages.Reply, error)) {
	switch req.(type) {
	case *messages.Exec, *messages.ExecMany, *messages.ExecScript:
		stormAskAs[*messages.ExecReply](ctx, pid, req, timeout, then)
	case *messages.Query, *messages.Fetch:
		stormAskAs[*messages.Rows](ctx, pid, req, timeout, then)
	case *messages.TxStatus:
		stormAskAs[*messages.TxStatusReply](ctx, pid, req, timeout, then)
	case *messages.InsertEvents:
		stormAskAs[*messages.EventsAck](ctx, pid, req, timeout, then)
	default:
		stormAskAs[*messages.Ack](ctx, pid, req, timeout, then)
	}
}

func stormAskAs[R interface {
	messages.Reply
	comparable
}](ctx actor.Context, pid *actor.PID, req messages.Request, timeout time.Duration, then func(messages.Reply, error)) {
	actors.Ask(ctx, pid, req, timeout, func(r R, err error) {
		var zero R
		if r == zero {
			then(nil, err)
			return
		}
		then(r, err)
	})
}

// send sends req (its ID set) to tg, with Ask or Request, with deadline dl, and has then
// called with its answer.
func (a *stormActor) send(ctx actor.Context, tg stormTgt, kind string, req messages.Request, ask bool, dl stormDeadline,
	then func(p *stormActorReq, r messages.Reply, err error)) *stormActorReq {
	now := time.Now()
	p := &stormActorReq{id: messages.RequestID(req), kind: kind, conn: tg.name, req: req, ask: ask, dl: dl, sent: now, then: then}
	if ask && dl.none {
		p.dl.at = now.Add(stormBackground)
	}
	if !p.dl.at.IsZero() {
		messages.SetDeadline(req, p.dl.at)
		p.pre = !p.dl.at.After(now)
	}
	if _, dup := a.pending[p.id]; dup || p.id == 0 {
		panic(fmt.Sprintf("storm: %s sends request %d twice", a.name, p.id))
	}
	a.pending[p.id] = p
	a.st.af.sent.Add(1)
	a.w.kinds[kind]++
	if !ask {
		ctx.Request(tg.pid, req)
		return p
	}
	a.st.af.asks.Add(1)
	timeout := p.dl.at.Sub(now)
	if timeout <= 0 {
		timeout = stormBackground // its Deadline, already past, stays: the connection refuses it
	}
	p.bound = now.Add(timeout)
	id := p.id
	stormAsk(ctx, tg.pid, req, timeout, func(r messages.Reply, err error) { a.safely(func() { a.answer(id, r, err, true) }) })
	return p
}

// answer takes the answer to request id: a reply to a Request, or what Ask's then got.
func (a *stormActor) answer(id uint64, r messages.Reply, err error, viaAsk bool) {
	st := a.st
	p := a.pending[id]
	if p == nil || p.ask != viaAsk {
		st.violate("actor-answered", "%s: an answer (%T: %v, by Ask %v) with ID %d, which no request of its waits for: a second answer, or a wrong ID",
			a.name, r, err, viaAsk, id)
		return
	}
	delete(a.pending, id)
	st.af.answered.Add(1)
	now := time.Now()
	if r != nil {
		if got := idOf(r); got != id {
			st.violate("actor-id", "%s: answered with ID %d (%T: %v)", a.describe(p), got, r, err)
		}
		if !stormReplyFits(p.req, r) {
			st.violate("actor-reply", "%s: answered with a %T (%v)", a.describe(p), r, err)
		}
	}
	switch {
	case errors.Is(err, messages.ErrOverloaded):
		st.af.overloaded.Add(1)
	case errors.Is(err, context.DeadlineExceeded):
		st.af.deadlines.Add(1)
	}
	w := a.w
	w.where = p.conn
	w.lastTook = now.Sub(p.sent)
	w.lastCtxEnded = !p.dl.at.IsZero() && !now.Before(p.dl.at)
	w.note(fmt.Sprintf("%s answered after %v: %v", a.describe(p), w.lastTook.Round(time.Microsecond), err))
	st.latency(a.describe(p), p.sent, p.bound, w.recent)
	p.then(p, r, err)
	a.maybeDrained()
}

// errStormDeadLetter is what a Request answered by a DeadLetterResponse gets.
var errStormDeadLetter = errors.New("storm: a DeadLetterResponse")

// deadLetter takes a DeadLetterResponse, which carries no ID: the answer to the oldest Request
// sent to a PID that is gone.
func (a *stormActor) deadLetter() {
	var p *stormActorReq
	for _, q := range a.pending {
		if q.dead && (p == nil || q.id < p.id) {
			p = q
		}
	}
	if p == nil {
		a.st.violate("actor-answered", "%s: a DeadLetterResponse (it has no ID), but no request of its went to a PID that is gone; waiting for:%s", a.name, a.pendingList())
		return
	}
	a.st.af.deadLetters.Add(1)
	a.answer(p.id, nil, errStormDeadLetter, false)
}

// check records what no answer to an actor may be, and reports whether it recorded one: a
// request whose deadline was past when it was sent ran (but a release, which runs whatever
// its deadline); context.Canceled (nothing of an actor's is ever cancelled); a deadline error
// for a request that has none (for an Ask: no answer within stormBackground), or for a
// release sent by Request.
func (a *stormActor) check(p *stormActorReq, err error) bool {
	deadline := errors.Is(err, context.DeadlineExceeded)
	var why string
	switch {
	case p.pre && !stormReleases(p.req) && err == nil:
		why = "succeeded, though its deadline was past when it was sent"
	case p.pre && !stormReleases(p.req) && !deadline && !errors.Is(err, messages.ErrOverloaded) && !errors.Is(err, messages.ErrClosed):
		why = "ran (its error is not its deadline's), though its deadline was past when it was sent"
	case errors.Is(err, context.Canceled):
		why = "context.Canceled: nothing of an actor's is ever cancelled"
	case deadline && p.dl.none && p.ask:
		why = fmt.Sprintf("no answer within %v", stormBackground)
	case deadline && p.dl.none:
		why = "a deadline error, but it has no deadline"
	case deadline && !p.ask && stormReleases(p.req):
		why = "a deadline error for a release, which runs whatever its deadline"
	default:
		return false
	}
	a.st.violate("actor-deadline", "%s: %s: %v", a.describe(p), why, err)
	return true
}

// classify is the worker's classify for an actor's answer, after check.
func (a *stormActor) classify(p *stormActorReq, id int64, err error, expected ...error) stormClass {
	if a.check(p, err) {
		return clOther
	}
	return a.w.classify(p.conn, p.kind, id, err, expected...)
}

// exec sends an INSERT of one key.
func (a *stormActor) exec(ctx actor.Context, tg stormTgt, o stormSendOpt, then func(error)) {
	const kind = "Exec(actor)"
	c := a.w.newCall(kind, tg.db, 1)
	var tok int64
	var f *stormFault
	if !o.calm {
		switch a.w.crashHow() {
		case 1:
			tok = c.id
		case 2:
			f = &stormFault{id: c.id, kind: "Exec"}
		}
	}
	req := &messages.Exec{ID: a.newID(), Ctx: stormFaultCtx(f), SQL: stormInsert, Args: []any{c.keys[0], c.keys[0], tok, c.id}}
	if o.large {
		req.SQL, req.Args = stormInsertLarge, []any{c.keys[0], c.keys[0], tok, make([]byte, stormActorLarge), c.id}
	}
	a.send(ctx, tg, kind, req, o.ask, o.dl, func(p *stormActorReq, _ messages.Reply, err error) {
		writeOutcome(c, &stormCtx{pre: p.pre}, a.classify(p, c.id, err, o.expected...))
		then(err)
	})
}

// execMany sends an ExecMany of two to eight keys, maybe with a duplicate (a constraint
// error: nothing of it is kept).
func (a *stormActor) execMany(ctx actor.Context, tg stormTgt, o stormSendOpt, then func(error)) {
	const kind = "ExecMany(actor)"
	w := a.w
	n := 2 + w.rng.IntN(7)
	c := w.newCall(kind, tg.db, n)
	var f *stormFault
	boomAt, dupAt := -1, -1
	switch how := w.crashHow(); {
	case o.calm:
	case how == 1:
		boomAt = w.rng.IntN(n)
	case how == 2:
		f = &stormFault{id: c.id, kind: "ExecMany"}
	case w.rng.IntN(10) == 0:
		dupAt = 1 + w.rng.IntN(n-1)
	}
	args := c.execManyArgs(boomAt, dupAt)
	expected := o.expected
	if dupAt >= 0 {
		expected = append(expected[:len(expected):len(expected)], messages.ErrConstraint)
	}
	req := &messages.ExecMany{ID: a.newID(), Ctx: stormFaultCtx(f), SQL: stormInsert, Args: args}
	a.send(ctx, tg, kind, req, o.ask, o.dl, func(p *stormActorReq, _ messages.Reply, err error) {
		cl := a.classify(p, c.id, err, expected...)
		if cl == clOK && dupAt >= 0 {
			a.st.violate("constraint", "%s inserted a duplicate key without an error", a.describe(p))
		}
		writeOutcome(c, &stormCtx{pre: p.pre}, cl)
		then(err)
	})
}

// queryCount sends a one-row query: every row of a range of t has v = k. (A range: a count of
// the whole table would cost more as the storm goes on.)
func (a *stormActor) queryCount(ctx actor.Context, tg stormTgt, o stormSendOpt, then func(error)) {
	id := a.st.ids.Add(1)
	lo := 1 + a.w.rng.Int64N(a.st.keys.Load()+1)
	var tok int64
	var f *stormFault
	if !o.calm {
		switch a.w.crashHow() {
		case 1:
			tok = id
		case 2:
			f = &stormFault{id: id, kind: "Query"}
		}
	}
	req := &messages.Query{ID: a.newID(), Ctx: stormFaultCtx(f), Args: []any{tok, lo}, OneRow: true,
		SQL: "SELECT maybe_boom(count(*), ?), count(*) FILTER (WHERE v = k) FROM (SELECT k, v FROM t WHERE k >= ? ORDER BY k LIMIT 64)"}
	a.send(ctx, tg, "Query(actor, one row)", req, o.ask, o.dl, func(p *stormActorReq, r messages.Reply, err error) {
		if a.classify(p, id, err, o.expected...) == clOK {
			rows := r.(*messages.Rows)
			switch {
			case len(rows.Rows) != 1 || !rows.Done || rows.Cursor != 0:
				a.st.violate("read", "%s: %d rows, done %v, cursor %d; want one row, done, no cursor", a.describe(p), len(rows.Rows), rows.Done, rows.Cursor)
			case rows.Rows[0].Index(0) != rows.Rows[0].Index(1):
				a.st.violate("read", "%s: %v rows, %v with v = k", a.describe(p), rows.Rows[0].Index(0), rows.Rows[0].Index(1))
			}
		}
		then(err)
	})
}

// queryRange sends a query of every row of a range of keys at once (FetchSize -1).
func (a *stormActor) queryRange(ctx actor.Context, tg stormTgt, o stormSendOpt, then func(error)) {
	st, w := a.st, a.w
	id := st.ids.Add(1)
	lo := 1 + w.rng.Int64N(st.keys.Load()+1)
	lim := 1 + w.rng.IntN(20)
	crashK := int64(-1)
	var f *stormFault
	if !o.calm {
		switch w.crashHow() {
		case 1:
			crashK = lo + w.rng.Int64N(int64(lim))
		case 2:
			f = &stormFault{id: id, kind: "Query"}
		}
	}
	req := &messages.Query{ID: a.newID(), Ctx: stormFaultCtx(f), FetchSize: -1, Args: []any{crashK, id, lo, lim},
		SQL: "SELECT k, maybe_boom(v, CASE WHEN k = ? THEN ? ELSE 0 END) AS v FROM t WHERE k >= ? ORDER BY k LIMIT ?"}
	a.send(ctx, tg, "Query(actor, all rows)", req, o.ask, o.dl, func(p *stormActorReq, r messages.Reply, err error) {
		if a.classify(p, id, err, o.expected...) == clOK {
			rows := r.(*messages.Rows)
			if !rows.Done || rows.Cursor != 0 {
				st.violate("read", "%s: FetchSize -1, yet done %v with cursor %d", a.describe(p), rows.Done, rows.Cursor)
			}
			next := lo
			w.checkRows(a.describe(p), rows.Rows, &next)
		}
		then(err)
	})
}

// opBurst sends n requests to tg at once, each with its own way and deadline.
func (a *stormActor) opBurst(ctx actor.Context, tg stormTgt, n int, o stormSendOpt, done func()) {
	w := a.w
	left := n
	fin := func(error) {
		if left--; left == 0 {
			done()
		}
	}
	for range n {
		o := o
		o.ask = w.rng.IntN(2) == 0
		o.dl = a.deadline()
		switch r := w.rng.IntN(100); {
		case r < 40:
			o.large = o.expected != nil && w.rng.IntN(6) == 0 // only where ErrOverloaded is expected
			a.exec(ctx, tg, o, fin)
		case r < 60:
			a.execMany(ctx, tg, o, fin)
		case r < 80:
			a.queryCount(ctx, tg, o, fin)
		default:
			a.queryRange(ctx, tg, o, fin)
		}
	}
}

// opCursor opens a cursor (a small FetchSize), fetches from it (one Fetch after the other,
// or several at once), and closes it, whatever happened.
func (a *stormActor) opCursor(ctx actor.Context, tg stormTgt, done func()) {
	st, w := a.st, a.w
	id := st.ids.Add(1)
	lo := 1 + w.rng.Int64N(st.keys.Load()+1)
	lim := 1 + w.rng.IntN(40)
	crashK := int64(-1)
	var f *stormFault
	switch w.crashHow() {
	case 1:
		crashK = lo + w.rng.Int64N(int64(lim))
	case 2:
		f = &stormFault{id: id, kind: []string{"Query", "Fetch", "Fetch", "CloseCursor"}[w.rng.IntN(4)]}
	}
	fctx := stormFaultCtx(f)
	req := &messages.Query{ID: a.newID(), Ctx: fctx, FetchSize: 1 + w.rng.IntN(4), Args: []any{crashK, id, lo, lim},
		SQL: "SELECT k, maybe_boom(v, CASE WHEN k = ? THEN ? ELSE 0 END) AS v FROM t WHERE k >= ? ORDER BY k LIMIT ?"}
	// An Ask that times out after its Query ran leaves a cursor open whose id its actor never
	// learns: an actor opens cursors with Request (its reply always comes), or with an Ask
	// without a deadline.
	ask := w.rng.IntN(3) == 0
	dl := stormDeadline{none: true}
	if !ask {
		dl = a.deadline()
	}
	next := lo
	a.send(ctx, tg, "Query(actor, cursor)", req, ask, dl, func(p *stormActorReq, r messages.Reply, err error) {
		where := a.describe(p)
		if a.classify(p, id, err) != clOK {
			done()
			return
		}
		rows := r.(*messages.Rows)
		w.checkRows(where, rows.Rows, &next)
		if rows.Done {
			if rows.Cursor != 0 {
				st.violate("read", "%s: done, with cursor %d", where, rows.Cursor)
			}
			done()
			return
		}
		if rows.Cursor == 0 {
			st.violate("read", "%s: not done, but no cursor", where)
			done()
			return
		}
		cur := rows.Cursor
		closeCursor := func() {
			ask := w.rng.IntN(2) == 0
			req := &messages.CloseCursor{ID: a.newID(), Ctx: fctx, Cursor: cur}
			a.send(ctx, tg, "CloseCursor(actor)", req, ask, a.deadline(), func(p *stormActorReq, _ messages.Reply, err error) {
				a.classify(p, id, err)
				done()
			})
		}
		steps := 1 + w.rng.IntN(4)
		if w.rng.IntN(2) == 0 {
			a.fetchChained(ctx, tg, id, fctx, cur, &next, steps, closeCursor)
		} else {
			a.fetchPipelined(ctx, tg, id, fctx, cur, &next, steps, closeCursor)
		}
	})
}

func (a *stormActor) fetchReq(fctx context.Context, cur messages.CursorID) *messages.Fetch {
	n := 1 + a.w.rng.IntN(5)
	if a.w.rng.IntN(8) == 0 {
		n = 0 // every row left
	}
	return &messages.Fetch{ID: a.newID(), Ctx: fctx, Cursor: cur, N: n}
}

// fetchRows checks a Fetch's rows, and reports whether the cursor is done.
func (a *stormActor) fetchRows(p *stormActorReq, r messages.Reply, cur messages.CursorID, next *int64) (done bool) {
	rows, _ := r.(*messages.Rows)
	if rows == nil {
		return false
	}
	if rows.Cursor != cur {
		a.st.violate("read", "%s: the reply of cursor %d", a.describe(p), rows.Cursor)
	}
	a.w.checkRows(a.describe(p), rows.Rows, next)
	return rows.Done
}

// fetchChained fetches steps times from cur, each Fetch sent once the previous one is
// answered, until an error or the end.
func (a *stormActor) fetchChained(ctx actor.Context, tg stormTgt, id int64, fctx context.Context, cur messages.CursorID, next *int64, steps int, then func()) {
	ask := a.w.rng.IntN(2) == 0
	a.send(ctx, tg, "Fetch(actor)", a.fetchReq(fctx, cur), ask, a.deadline(), func(p *stormActorReq, r messages.Reply, err error) {
		done := a.fetchRows(p, r, cur, next)
		if a.classify(p, id, err, messages.ErrCursorClosed) != clOK || done || steps == 1 {
			then()
			return
		}
		a.fetchChained(ctx, tg, id, fctx, cur, next, steps-1, then)
	})
}

// fetchPipelined sends steps Fetches of cur at once: answered in order, and once one says the
// cursor is done, no later one has rows.
func (a *stormActor) fetchPipelined(ctx actor.Context, tg stormTgt, id int64, fctx context.Context, cur messages.CursorID, next *int64, steps int, then func()) {
	got := make([]stormAnswer, steps)
	left := steps
	for i := range steps {
		ask := a.w.rng.IntN(2) == 0
		a.send(ctx, tg, "Fetch(actor, pipelined)", a.fetchReq(fctx, cur), ask, a.deadline(), func(p *stormActorReq, r messages.Reply, err error) {
			got[i] = stormAnswer{p, r, err}
			if left--; left > 0 {
				return
			}
			ended := ""
			for _, g := range got {
				if rows, _ := g.r.(*messages.Rows); rows != nil && len(rows.Rows) > 0 && ended != "" {
					a.st.violate("read", "%s: %d rows after %s", a.describe(g.p), len(rows.Rows), ended)
				}
				if a.fetchRows(g.p, g.r, cur, next) && ended == "" {
					ended = fmt.Sprintf("request %d said the cursor was done (%v)", g.p.id, g.err)
				}
				a.classify(g.p, id, g.err, messages.ErrCursorClosed)
			}
			then()
		})
	}
}

// txRequests builds a transaction's requests: Begin, a statement per call (an Exec, or an
// ExecMany for several keys; one key crashes at boomAt), then Commit or Rollback, each with
// fctx. Rows record tx as their call.
func (a *stormActor) txRequests(tx int64, calls []*stormCall, boomAt int, fctx context.Context, commit bool) (reqs []messages.Request, kinds []string) {
	modes := []string{"", messages.Deferred, messages.Immediate}
	reqs = append(reqs, &messages.Begin{ID: a.newID(), Ctx: fctx, Mode: modes[a.w.rng.IntN(len(modes))]})
	kinds = append(kinds, "Begin(actor)")
	j := 0
	for _, c := range calls {
		args := make([][]any, len(c.keys))
		for i, k := range c.keys {
			var tok int64
			if j == boomAt {
				tok = tx
			}
			args[i] = []any{k, k, tok, tx}
			j++
		}
		if len(args) == 1 {
			reqs = append(reqs, &messages.Exec{ID: a.newID(), Ctx: fctx, SQL: stormInsert, Args: args[0]})
			kinds = append(kinds, "Exec(actor, tx)")
		} else {
			reqs = append(reqs, &messages.ExecMany{ID: a.newID(), Ctx: fctx, SQL: stormInsert, Args: args})
			kinds = append(kinds, "ExecMany(actor, tx)")
		}
	}
	if commit {
		reqs = append(reqs, &messages.Commit{ID: a.newID(), Ctx: fctx})
		kinds = append(kinds, "Commit(actor)")
	} else {
		reqs = append(reqs, &messages.Rollback{ID: a.newID(), Ctx: fctx})
		kinds = append(kinds, "Rollback(actor)")
	}
	return reqs, kinds
}

// txCrash draws how a transaction crashes: a key whose statement crashes (maybe_boom), or a
// request kind the fault hook crashes.
func (a *stormActor) txCrash(tx int64, keys int) (boomAt int, f *stormFault) {
	switch a.w.crashHow() {
	case 1:
		return a.w.rng.IntN(keys), nil
	case 2:
		return -1, &stormFault{id: tx, kind: []string{"Begin", "Exec", "ExecMany", "Commit", "Rollback"}[a.w.rng.IntN(5)]}
	}
	return -1, nil
}

// settle ends whatever transaction the actor's own connection may have open, with a
// Rollback, and reports whether there was one (or one a crash lost) to roll back.
func (a *stormActor) settle(ctx actor.Context, id int64, then func(rolledBack bool)) {
	ask := a.w.rng.IntN(2) == 0
	a.send(ctx, a.ownTgt(), "Rollback(actor, settle)", &messages.Rollback{ID: a.newID()}, ask, stormDeadline{none: true},
		func(p *stormActorReq, _ messages.Reply, err error) {
			switch {
			case err == nil:
				then(true)
			case errors.Is(err, messages.ErrNoTransaction):
				then(false)
			default:
				a.classify(p, id, err)
				then(false)
			}
		})
}

// opTxPipelined sends a transaction on its own connection all at once, by Request, with one
// deadline: Begin, one to four statements, Commit (or Rollback), then settles. Served in order,
// and a deadline past for one is past for those behind it; but when Begin fails (a crash, its
// deadline) the statements behind it run on their own, in autocommit: each is then judged
// alone, else the transaction as a whole.
func (a *stormActor) opTxPipelined(ctx actor.Context, done func()) {
	st, w := a.st, a.w
	tx := st.ids.Add(1)
	calls := make([]*stormCall, 1+w.rng.IntN(4))
	keys := 0
	for i := range calls {
		size := 1
		if w.rng.IntN(3) == 0 {
			size = 2 + w.rng.IntN(3)
		}
		calls[i] = w.newCall("Tx(actor, pipelined)", a.db, size)
		calls[i].id = tx // its rows record the transaction
		keys += size
	}
	boomAt, f := a.txCrash(tx, keys)
	commit := w.rng.IntN(5) != 0
	reqs, kinds := a.txRequests(tx, calls, boomAt, stormFaultCtx(f), commit)
	dl := a.deadline()
	got := make([]stormAnswer, len(reqs))
	left := len(reqs)
	for i, req := range reqs {
		a.send(ctx, a.ownTgt(), kinds[i], req, false, dl, func(p *stormActorReq, r messages.Reply, err error) {
			got[i] = stormAnswer{p, r, err}
			if left--; left == 0 {
				a.judgeTxPipelined(ctx, tx, calls, got, commit, done)
			}
		})
	}
}

func (a *stormActor) judgeTxPipelined(ctx actor.Context, tx int64, calls []*stormCall, got []stormAnswer, commit bool, done func()) {
	st := a.st
	last := len(got) - 1
	beginOK := got[0].err == nil
	crashed := false // a request of the transaction crashed the connection: it is lost
	cls := make([]stormClass, len(got))
	for i, g := range got {
		var expected []error
		if beginOK && crashed {
			expected = append(expected, messages.ErrTransactionLost)
		}
		if i == last && !beginOK {
			expected = append(expected, messages.ErrNoTransaction)
		}
		cls[i] = a.classify(g.p, tx, g.err, expected...)
		if cls[i] == clCrash {
			crashed = true
		}
	}
	a.settle(ctx, tx, func(rolledBack bool) {
		end := got[last]
		if !beginOK {
			if rolledBack {
				st.violate("actor-tx", "%s failed (%v), yet a transaction was open after the requests behind it", a.describe(got[0].p), got[0].err)
			}
			for i, c := range calls {
				writeOutcome(c, &stormCtx{pre: got[i+1].p.pre}, cls[i+1])
				c.why = "Begin failed, so in autocommit: " + c.why
			}
			done()
			return
		}
		// One transaction: its keys all in calls[0].
		c := calls[0]
		for _, o := range calls[1:] {
			c.keys = append(c.keys, o.keys...)
			o.keys = nil
		}
		switch cl := cls[last]; {
		case commit && end.err == nil:
			c.out, c.why = outAcked, "committed"
			for i := 1; i < last; i++ {
				if got[i].err != nil {
					st.violate("actor-tx", "%s succeeded after %s failed: %v", a.describe(end.p), a.describe(got[i].p), got[i].err)
				}
			}
			if rolledBack {
				st.violate("actor-tx", "%s succeeded, yet a transaction was left open", a.describe(end.p))
			}
		case !commit && (end.err == nil || cl == clCrash):
			c.out, c.why = outClean, "rolled back"
			if rolledBack {
				st.violate("actor-tx", "%s answered %v, yet a transaction was left open", a.describe(end.p), end.err)
			}
		case cl == clCrash || cl == clExpected:
			c.out, c.why = outClean, "crashed: its transaction died"
		case cl == clCtx:
			if rolledBack || end.p.pre {
				c.out, c.why = outClean, "Commit did not run: rolled back"
			} else {
				c.out, c.why = outUnknown, "Commit's deadline passed and no transaction was left"
			}
		default:
			c.out, c.why = outUnknown, "Commit: unexpected error"
		}
		done()
	})
}

// opTxChained runs a transaction on its own connection with Ask, each request sent once the
// previous one is answered, all with one deadline, as a worker's opTx does: any failure ends
// it with a Rollback at once.
func (a *stormActor) opTxChained(ctx actor.Context, done func()) {
	st, w := a.st, a.w
	var sizes []int
	keys := 0
	for range 1 + w.rng.IntN(4) {
		size := 1
		if w.rng.IntN(3) == 0 {
			size = 2 + w.rng.IntN(3)
		}
		sizes = append(sizes, size)
		keys += size
	}
	c := w.newCall("Tx(actor, chained)", a.db, keys)
	c.out, c.why = outClean, "not committed"
	calls := make([]*stormCall, len(sizes)) // views of c's keys, one per statement
	at := 0
	for i, size := range sizes {
		calls[i] = &stormCall{keys: c.keys[at : at+size]}
		at += size
	}
	boomAt, f := a.txCrash(c.id, keys)
	commit := w.rng.IntN(5) != 0
	reqs, kinds := a.txRequests(c.id, calls, boomAt, stormFaultCtx(f), commit)
	dl := a.deadline()
	var step func(i int)
	step = func(i int) {
		a.send(ctx, a.ownTgt(), kinds[i], reqs[i], true, dl, func(p *stormActorReq, _ messages.Reply, err error) {
			cl := a.classify(p, c.id, err)
			last := i == len(reqs)-1
			if cl == clOK && !last {
				step(i + 1)
				return
			}
			a.settle(ctx, c.id, func(rolledBack bool) {
				switch {
				case !last, !commit:
				case cl == clOK:
					c.out, c.why = outAcked, "committed"
					if rolledBack {
						st.violate("actor-tx", "%s succeeded, yet a transaction was left open", a.describe(p))
					}
				case cl == clCrash || cl == clLost:
					c.why = "Commit crashed: the transaction died"
				case rolledBack || p.pre:
					c.why = "Commit did not run: rolled back"
				default:
					c.out, c.why = outUnknown, "Commit's answer did not come in time and no transaction was left"
				}
				done()
			})
		})
	}
	step(0)
}

// opBound holds the actor's own connection (one of its MaxPending slots), then sends large
// requests and twice MaxPending small ones at once: exactly those past the bounds must be
// refused, at once (while the connection still holds), and the others served once it lets
// go. A slot or byte that a crash, a deadline or a refusal failed to give back shows here.
func (a *stormActor) opBound(ctx actor.Context, done func()) {
	st, w := a.st, a.w
	st.af.bounds.Add(1)
	tg := a.ownTgt()
	nLarge, nSmall := 1+w.rng.IntN(5), stormActorPending+4
	wantLarge := min(nLarge, stormActorPendingBytes/stormActorLarge)
	wantSmall := stormActorPending - 1 - wantLarge
	var okLarge, okSmall, refusedLarge, refusedSmall int
	released, burst := false, false
	left := 1 + nLarge + nSmall
	finish := func() {
		if left--; left > 0 {
			return
		}
		if okLarge != wantLarge || okSmall != wantSmall {
			st.violate("actor-bound", "%s: its connection held, %d of %d large requests and %d of %d small ones were served, want %d and %d (MaxPending %d, MaxPendingBytes %d, large requests of %d KiB)",
				a.name, okLarge, nLarge, okSmall, nSmall, wantLarge, wantSmall, stormActorPending, stormActorPendingBytes, stormActorLarge>>10)
		}
		done()
	}
	count := func(large bool) func(error) {
		return func(err error) {
			overloaded := errors.Is(err, messages.ErrOverloaded)
			switch {
			case err == nil && !released:
				st.violate("actor-bound", "%s: a request was served while its connection was held", a.name)
			case overloaded && released:
				st.violate("actor-bound", "%s: ErrOverloaded answered after its connection let go: not at once", a.name)
			case err == nil && large:
				okLarge++
			case err == nil:
				okSmall++
			case overloaded && large:
				refusedLarge++
			case overloaded:
				refusedSmall++
			}
			finish()
		}
	}
	h := &stormHold{release: make(chan struct{})}
	var entered stormActorStep = func(ctx actor.Context) {
		burst = true
		o := stormSendOpt{dl: stormDeadline{none: true}, calm: true, expected: []error{messages.ErrOverloaded}}
		for range nLarge {
			o := o
			o.large = true
			a.exec(ctx, tg, o, count(true))
		}
		for range nSmall {
			a.exec(ctx, tg, o, count(false))
		}
		// The refusals were answered at once, on this goroutine: they are ahead of this in the
		// mailbox.
		ctx.Send(ctx.Self(), stormActorStep(func(actor.Context) {
			if refusedLarge != nLarge-wantLarge || refusedSmall != nSmall-wantSmall {
				st.violate("actor-bound", "%s: its connection held, %d of %d large requests and %d of %d small ones were refused at once, want %d and %d (MaxPending %d, MaxPendingBytes %d, large requests of %d KiB)",
					a.name, refusedLarge, nLarge, refusedSmall, nSmall, nLarge-wantLarge, nSmall-wantSmall, stormActorPending, stormActorPendingBytes, stormActorLarge>>10)
			}
			released = true
			a.hold.Store(nil)
			close(h.release)
		}))
	}
	h.entered = func() { a.sys.Root.Send(a.pid, entered) }
	a.hold.Store(h)
	req := &messages.Query{ID: a.newID(), SQL: "SELECT storm_hold()", OneRow: true}
	a.send(ctx, tg, "Query(actor, hold)", req, false, stormDeadline{none: true}, func(p *stormActorReq, _ messages.Reply, err error) {
		if err != nil || !burst {
			st.violate("actor-bound", "%s: %v (the connection held: %v)", a.describe(p), err, burst)
		}
		if !burst {
			a.hold.Store(nil)
			done()
			return
		}
		finish()
	})
}

// holdFn is storm_hold() on an actor's own connection: it holds the connection while the
// actor's hold is set. It reaches the actor, and through it the storm and the connection's
// handle, whose cleanup holds the connection's state: once the connection stopped, nothing of
// it may keep them reachable (the collection and heap checks at the end; see
// TestStormReproFunctionKeepsItsConn).
func (a *stormActor) holdFn([]any) (any, error) {
	h := a.hold.Load()
	if h == nil {
		return int64(0), nil
	}
	h.entered()
	<-h.release
	return int64(1), nil
}

// open opens the actor's own connection, on sa.
func (a *stormActor) open(ctx context.Context, fetch int) (*actors.Conn, error) {
	c, err := a.st.sa.Open(ctx, a.st.dsn(a.db), a.st.connOptions(fetch)...)
	if err != nil {
		return nil, err
	}
	if err = stormRegister(ctx, c.CreateFunction); err == nil {
		err = c.CreateFunction(ctx, "storm_hold", 0, a.holdFn)
	}
	if err != nil {
		c.Close(ctx)
		return nil, err
	}
	return c, nil
}

// opCloseReopen closes the actor's own connection by message (its Close sometimes armed to
// crash), with writes sent before it and behind it at once: those behind it are refused with
// ErrClosed and have no effect. Then it closes the handle and opens a new connection, on a
// goroutine of its own (an actor never blocks), which tells the actor when done.
func (a *stormActor) opCloseReopen(ctx actor.Context, done func()) {
	st, w := a.st, a.w
	tg := a.ownTgt()
	old := a.own
	id := st.ids.Add(1)
	var f *stormFault
	if w.rng.IntN(4) == 0 {
		f = &stormFault{id: id, kind: "Close"}
		st.af.closeFaults.Add(1)
	}
	nBefore, nBehind := w.rng.IntN(3), 1+w.rng.IntN(3)
	left := nBefore + 1 + nBehind
	fetch := 1 + w.rng.IntN(4)
	finish := func() {
		if left--; left > 0 {
			return
		}
		self := ctx.Self()
		go func() {
			bg := context.Background()
			cerr := old.Close(bg)
			c, oerr := a.open(bg, fetch)
			a.sys.Root.Send(self, stormActorStep(func(actor.Context) {
				if cerr != nil {
					st.violate("actor-close", "%s: Close of the handle of a connection it closed by message: %v", a.name, cerr)
				}
				select {
				case <-old.Done():
				default:
					st.violate("actor-close", "%s: its connection closed by message has not stopped once its handle's Close returned", a.name)
				}
				if oerr != nil {
					st.violate("actor-close", "%s: reopening its connection: %v", a.name, oerr)
				}
				a.old = append(a.old, old)
				a.own = c // nil: the lane ends
				st.af.reopens.Add(1)
				done()
			}))
		}()
	}
	for range nBefore {
		ask := w.rng.IntN(2) == 0
		a.exec(ctx, tg, stormSendOpt{ask: ask, dl: a.deadline()}, func(error) { finish() })
	}
	ask := w.rng.IntN(2) == 0
	a.send(ctx, tg, "Close(actor)", &messages.Close{ID: a.newID(), Ctx: stormFaultCtx(f)}, ask, a.deadline(), func(p *stormActorReq, _ messages.Reply, err error) {
		switch {
		case a.check(p, err):
		case err == nil:
		case f != nil && errors.Is(err, messages.ErrCrashed):
			if src, cid, ok := stormCrashOf(err); !ok || src != "fault" || cid != id {
				st.violate("crash-misattributed", "%s got a crash it did not cause: %v", a.describe(p), err)
			}
			st.sawCrash(a.name, fmt.Sprint("fault ", id))
		case p.ask && errors.Is(err, context.DeadlineExceeded):
		default:
			st.violate("actor-close", "%s: %v", a.describe(p), err)
		}
		finish()
	})
	// Behind the Close: by Ask, which a dead letter answers too (the connection may be gone).
	for range nBehind {
		o := stormSendOpt{ask: true, dl: a.deadline(), expected: []error{messages.ErrClosed}}
		a.exec(ctx, tg, o, func(err error) {
			if !errors.Is(err, messages.ErrClosed) && !errors.Is(err, context.DeadlineExceeded) {
				st.violate("actor-close", "%s: an Exec sent behind a Close: %v, want ErrClosed", a.name, err)
			}
			finish()
		})
	}
}

// opEvents sends InsertEvents to the supervisor's PID: one to eight events (keyed by
// properties.k), sometimes a bad one (the whole call is refused).
func (a *stormActor) opEvents(ctx actor.Context, done func()) {
	st, w := a.st, a.w
	n := 1 + w.rng.IntN(8)
	c := w.newCall("InsertEvents(actor)", "events", n)
	bad := -1
	if w.rng.IntN(30) == 0 {
		bad = w.rng.IntN(n)
	}
	evs := make([]messages.Event, n)
	for i, k := range c.keys {
		evs[i] = messages.Event{UserID: a.name, Name: "storm", Properties: json.RawMessage(fmt.Sprintf(`{"k":%d,"call":%d}`, k, c.id))}
		if i == bad {
			evs[i].UserID = ""
		}
	}
	ask := w.rng.IntN(2) == 0
	tg := stormTgt{name: "events", db: "events", pid: st.s.PID()}
	a.send(ctx, tg, "InsertEvents(actor)", &messages.InsertEvents{ID: a.newID(), Events: evs}, ask, a.deadline(), func(p *stormActorReq, _ messages.Reply, err error) {
		var cl stormClass
		switch {
		case a.check(p, err):
			cl = clOther
		case err == nil:
			cl = clOK
		case errors.Is(err, messages.ErrBadEvent) && bad >= 0:
			cl = clExpected
		case errors.Is(err, messages.ErrCrashed):
			if src, cid, ok := stormCrashOf(err); ok {
				st.sawCrash("events", fmt.Sprint(src, " ", cid))
				if src != "events" {
					st.violate("crash-misattributed", "%s: %v", a.describe(p), err)
				}
			}
			cl = clCrash
		default:
			cl = w.classify("events", p.kind, c.id, err)
		}
		if cl == clOK && bad >= 0 {
			st.violate("events", "%s accepted a bad event", a.describe(p))
		}
		writeOutcome(c, &stormCtx{pre: p.pre}, cl)
		if cl == clCrash {
			c.why = "crashed"
		}
		done()
	})
}

// actorSenders spawns the storm's actors and, once the storm stopped, waits for each to end
// its lanes with every request answered.
func (st *storm) actorSenders() {
	st.mu.Lock()
	list := st.actors
	st.mu.Unlock()
	for _, a := range list {
		a.spawn()
	}
	<-st.done
	for _, a := range list {
		a.wait("its lanes' last ops", a.drained)
		a.w.cur.Store(nil)
		a.stop()
	}
}

// setupActors opens the actors' own connections, on sa (before the storm starts: an actor's
// lanes begin at once).
func (st *storm) setupActors() {
	for i := range stormActors {
		w := st.extraWorker(fmt.Sprint("actor ", i), 1000+i)
		a := newStormActor(st, w, fmt.Sprint("actor", i), i, st.s.System(), "shared", "own")
		a.db = st.dbs[i%len(st.dbs)]
		c, err := a.open(context.Background(), 1+w.rng.IntN(4))
		if err != nil {
			st.t.Fatalf("%s: opening its connection: %v", a.name, err)
		}
		a.own = c
		st.actors = append(st.actors, a)
	}
}

// ---- an actor of the small-budget supervisor's system ----

// spawnDoomedActor spawns, in s2's system, an actor that messages c (of a doomed cycle) in
// bursts while it is crashed to death: every answer is a success, its deadline's error, or
// ErrClosed with ErrCrashed (behind the last crash, or from the tombstone).
func (st *storm) spawnDoomedActor(c *actors.Conn, cycle int) *stormActor {
	w := st.extraWorker(fmt.Sprint("doomed actor ", cycle), 1<<20+cycle)
	a := newStormActor(st, w, fmt.Sprint("doomed actor ", cycle), 0, st.s2.System(), "doomed")
	a.target, a.buryBy = c.PID(), cycle%2 == 1
	a.spawn()
	return a
}

func (a *stormActor) doomedTgt() stormTgt { return stormTgt{name: "d", db: "d", pid: a.target} }

// doomedCheck sorts an answer from a connection being crashed to death.
func (a *stormActor) doomedCheck(p *stormActorReq, err error) stormClass {
	switch {
	case a.check(p, err):
		return clOther
	case err == nil:
		return clOK
	case errors.Is(err, messages.ErrClosed) && errors.Is(err, messages.ErrCrashed):
		a.st.af.tombs.Add(1)
		return clExpected
	case errors.Is(err, context.DeadlineExceeded):
		return clCtx
	}
	a.st.violate("doomed-actor", "%s: %v (want a success, its deadline's error, or ErrClosed with ErrCrashed)", a.describe(p), err)
	return clOther
}

// opDoomedBurst sends one to four writes and reads to the doomed connection at once.
func (a *stormActor) opDoomedBurst(ctx actor.Context, done func()) {
	w := a.w
	a.bursts++
	n := 1 + w.rng.IntN(4)
	left := n
	fin := func() {
		if left--; left == 0 {
			done()
		}
	}
	for range n {
		ask := w.rng.IntN(2) == 0
		if w.rng.IntN(2) == 0 {
			c := w.newCall("Exec(doomed actor)", "d", 1)
			req := &messages.Exec{ID: a.newID(), SQL: stormInsert, Args: []any{c.keys[0], c.keys[0], 0, c.id}}
			a.send(ctx, a.doomedTgt(), c.kind, req, ask, a.deadline(), func(p *stormActorReq, _ messages.Reply, err error) {
				cl := a.doomedCheck(p, err)
				writeOutcome(c, &stormCtx{pre: p.pre}, cl)
				if cl == clExpected {
					c.why = "refused: stopped for good"
				}
				fin()
			})
			continue
		}
		req := &messages.Query{ID: a.newID(), SQL: "SELECT count(*) FROM (SELECT k FROM t WHERE k >= ? ORDER BY k LIMIT 64)",
			Args: []any{1 + w.rng.Int64N(a.st.keys.Load()+1)}, OneRow: true}
		a.send(ctx, a.doomedTgt(), "Query(doomed actor)", req, ask, a.deadline(), func(p *stormActorReq, _ messages.Reply, err error) {
			a.doomedCheck(p, err)
			fin()
		})
	}
}

// opTombstone is a doomed actor's final op, once its connection was stopped for good: every
// kind of request, by Request and by Ask, gets ErrClosed with ErrCrashed at once; then (every
// other cycle) a Close of its own buries the tombstone, answered with success.
func (a *stormActor) opTombstone(ctx actor.Context, done func()) {
	st := a.st
	reqs := func() []messages.Request {
		return []messages.Request{
			&messages.Exec{ID: a.newID(), SQL: "SELECT 1"}, &messages.Query{ID: a.newID(), SQL: "SELECT 1"},
			&messages.Begin{ID: a.newID()}, &messages.Commit{ID: a.newID()}, &messages.Rollback{ID: a.newID()},
			&messages.TxStatus{ID: a.newID()}, &messages.Fetch{ID: a.newID(), Cursor: 1}, &messages.CloseCursor{ID: a.newID(), Cursor: 1},
		}
	}
	all := append(reqs(), reqs()...)
	left := len(all)
	for i, req := range all {
		kind := fmt.Sprintf("%s(tombstone)", strings.TrimPrefix(fmt.Sprintf("%T", req), "*messages."))
		a.send(ctx, a.doomedTgt(), kind, req, i >= len(all)/2, stormDeadline{none: true}, func(p *stormActorReq, _ messages.Reply, err error) {
			if !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
				st.violate("doomed-actor", "%s on the PID of a connection stopped for good: %v, want ErrClosed and ErrCrashed", a.describe(p), err)
			} else {
				st.af.tombs.Add(1)
			}
			if left--; left > 0 {
				return
			}
			if !a.buryBy {
				done()
				return
			}
			a.send(ctx, a.doomedTgt(), "Close(tombstone)", &messages.Close{ID: a.newID()}, false, stormDeadline{none: true}, func(p *stormActorReq, _ messages.Reply, err error) {
				if err != nil {
					st.violate("doomed-actor", "%s, which buries the tombstone: %v, want success", a.describe(p), err)
				}
				done()
			})
		})
	}
}

// afterBurial sends, once the tombstone is buried (by the handle's Close, or a Close
// message), a Query by Ask (ErrClosed alone: a dead letter) and one by Request (a
// DeadLetterResponse), and closes fin once both are answered.
func (a *stormActor) afterBurial(ctx actor.Context, fin chan struct{}) {
	st := a.st
	left := 2
	done := func() {
		if left--; left == 0 {
			close(fin)
		}
	}
	a.send(ctx, a.doomedTgt(), "Query(buried)", &messages.Query{ID: a.newID(), SQL: "SELECT 1"}, true, stormDeadline{none: true}, func(p *stormActorReq, _ messages.Reply, err error) {
		if !errors.Is(err, messages.ErrClosed) || errors.Is(err, messages.ErrCrashed) {
			st.violate("doomed-actor", "%s, to a buried PID: %v, want ErrClosed alone (a dead letter)", a.describe(p), err)
		}
		done()
	})
	p := a.send(ctx, a.doomedTgt(), "Query(buried)", &messages.Query{ID: a.newID(), SQL: "SELECT 1"}, false, stormDeadline{none: true}, func(p *stormActorReq, r messages.Reply, err error) {
		if err != errStormDeadLetter {
			st.violate("doomed-actor", "%s, to a buried PID: %T %v, want a DeadLetterResponse", a.describe(p), r, err)
		}
		done()
	})
	p.dead = true
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

	// An actor messages it too, while it is crashed to death and after.
	da := st.spawnDoomedActor(c, cycle)

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
	// The doomed actor ends its bursts, then probes the tombstone at the PID (and, every other
	// cycle, buries it with a Close of its own).
	da.tell(func(ctx actor.Context) {
		da.stopping = true
		if da.parked {
			da.parked = false
			da.next(ctx, "doomed")
		}
	})
	da.wait("its probe of the tombstone", da.drained)
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
	// Buried: the PID is gone, as any stopped actor's.
	buried := make(chan struct{})
	da.tell(func(ctx actor.Context) { da.afterBurial(ctx, buried) })
	da.wait("its requests to the buried PID", buried)
	da.w.cur.Store(nil)
	da.stop()
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
	for _, a := range st.actors {
		if a.own == nil {
			continue
		}
		if in, err := a.own.InTransaction(ctx); err != nil || in {
			st.violate("idle", "%s's own connection after the storm: in transaction %v, %v", a.name, in, err)
		}
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
	for _, a := range st.actors {
		old = append(old, a.old...)
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

// checkActorStats checks the Stats of sa, whose connections only the actors use: every
// crash restarts but those in a Close, none is stopped for good, and each actor has its own
// connection open.
func (st *storm) checkActorStats(s supervisor.Stats) {
	if seen := int64(len(st.crashesA)); s.Crashes < seen {
		st.violate("stats", "the actors' supervisor: Stats.Crashes %d < %d distinct crashes the actors saw", s.Crashes, seen)
	}
	if s.Stopped != 0 {
		st.violate("stats", "the actors' supervisor: Stats.Stopped %d with a budget of 2^30 restarts", s.Stopped)
	}
	if s.Restarts > s.Crashes || s.Crashes > s.Restarts+st.af.closeFaults.Load() {
		st.violate("stats", "the actors' supervisor: Stats.Restarts %d, Crashes %d: every crash restarts (but those in a Close, %d armed)", s.Restarts, s.Crashes, st.af.closeFaults.Load())
	}
	open := int64(0)
	for _, a := range st.actors {
		if a.own != nil {
			open++
		}
	}
	if s.OpenConns != open {
		st.violate("stats", "the actors' supervisor: Stats.OpenConns %d after the storm, %d actors' connections open", s.OpenConns, open)
	}
	st.t.Logf("stats of the actors' supervisor: %+v", s)
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
