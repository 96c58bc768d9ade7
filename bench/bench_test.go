package main

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/bench/internal/drivername"
)

func TestBothDriversRegistered(t *testing.T) {
	drivers := sql.Drivers()
	for _, name := range []string{"sqlite3", drivername.Ncruces} {
		if !slices.Contains(drivers, name) {
			t.Errorf("database/sql drivers %v lack %q", drivers, name)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPercent(t *testing.T) {
	for f, want := range map[float64]string{0.004: "0.4%", 0.083: "8.3%", 0.1: "10%", 0.325: "32%"} {
		if got := percent(f); got != want {
			t.Errorf("percent(%v) = %q, want %q", f, got, want)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRatios(t *testing.T) {
	// A time row: actorlite 10 µs, direct 5 µs, aiosqlite 80 µs.
	timeRow := Row{workload: workload{ID: "point", Lower: true, Base: "actorlite"}, Cells: map[string]*Cell{
		"actorlite": {Runs: []float64{12, 10, 9}},
		"ncruces":   {Runs: []float64{5}},
		"aiosqlite": {Runs: []float64{80, 80}},
		"mattn":     {Note: "error: boom"},
	}}
	timeRow.finish()
	// A throughput row: actorlite 800k rows/s, direct 1M rows/s.
	rateRow := Row{workload: workload{ID: "scan", Base: "actorlite"}, Cells: map[string]*Cell{
		"actorlite": {Runs: []float64{800_000}},
		"ncruces":   {Runs: []float64{1_000_000}},
	}}
	rateRow.finish()
	memRow := Row{workload: workload{ID: "memory", Lower: true, Base: "actorlite"}, Cells: map[string]*Cell{
		"actorlite": {Runs: []float64{400}},
		"ncruces":   {Runs: []float64{300}},
	}}
	memRow.finish()

	for _, tc := range []struct {
		row       *Row
		sys       string
		cost, val float64
	}{
		{&timeRow, "actorlite", 1, 10},
		{&timeRow, "ncruces", 0.5, 5},   // costs half of actorlite's time
		{&timeRow, "aiosqlite", 8, 80},  // costs 8× actorlite's time
		{&rateRow, "ncruces", 0.8, 1e6}, // faster: 800k/1M of actorlite's cost
		{&memRow, "ncruces", 0.75, 300},
	} {
		c := tc.row.Cells[tc.sys]
		if !near(c.Cost, tc.cost) || !near(c.Value, tc.val) {
			t.Errorf("%s/%s: value %v cost %v, want %v and %v", tc.row.ID, tc.sys, c.Value, c.Cost, tc.val, tc.cost)
		}
	}
	if c := timeRow.Cells["mattn"]; c.Cost != 0 || c.Value != 0 {
		t.Errorf("a failed cell got value %v cost %v", c.Value, c.Cost)
	}

	// The events target compares two systems of its own row.
	evRow := Row{workload: workload{ID: "ingest-target", Base: "ncruces"}, Cells: map[string]*Cell{
		"actorlite-events": {Runs: []float64{90_000}},
		"ncruces":          {Runs: []float64{100_000}},
	}}
	evRow.finish()

	rep := &Report{Rows: []Row{timeRow, rateRow, memRow, evRow}}
	rep.check(targets(nil))
	got := make(map[string]TargetResult)
	for _, r := range rep.Targets {
		got[r.Row+"/"+r.Against] = r
	}
	for _, tc := range []struct {
		key      string
		measured float64
		met      bool
		status   string
	}{
		{"point/ncruces", 2, false, "MISSED (2.00×, target ≤ 1.15×: 74% over)"},
		{"point/aiosqlite", 8, false, "MISSED (8.00×, target ≥ 10×: 20% short)"},
		{"scan/ncruces", 1.25, false, "MISSED (1.25×, target ≤ 1.10×: 14% over)"},
		{"ingest-target/ncruces", 0.9, true, "met (0.90×, target ≥ 0.85×)"},
		{"memory/ncruces", 100, false, "MISSED (+100 KiB, target +64 KiB: 36 KiB over)"},
	} {
		r, ok := got[tc.key]
		if !ok {
			t.Errorf("target %s not checked", tc.key)
			continue
		}
		if !near(r.Measured, tc.measured) || r.Met != tc.met || r.Status != tc.status {
			t.Errorf("target %s: measured %v met %v %q; want %v %v %q", tc.key, r.Measured, r.Met, r.Status, tc.measured, tc.met, tc.status)
		}
	}
	if _, ok := got["bulk/ncruces"]; ok {
		t.Error("a target was checked for a workload that did not run")
	}
}

func TestSelect(t *testing.T) {
	ws, err := selectWorkloads(workloads(quickSizes), []string{"open", "ingest", "point"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.ID)
	}
	want := []string{"point", "ingest-1-each", "ingest-1-batch", "ingest-8-each", "ingest-8-batch",
		"ingest-64-each", "ingest-64-batch", "ingest-1-tx", "ingest-target", "open"}
	if !slices.Equal(ids, want) {
		t.Errorf("-only open,ingest,point selected %v, want %v (in the table's order)", ids, want)
	}
	if _, err := selectWorkloads(workloads(quickSizes), []string{"nope"}); err == nil {
		t.Error("-only nope: no error")
	}
	if _, err := selectSystems([]string{"mattn", "nope"}); err == nil {
		t.Error("-systems nope: no error")
	}
}

// TestQuickPoint runs -quick over one workload and checks the table's rows and columns.
func TestQuickPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workload")
	}
	rep, err := run(t.Context(), options{quick: true, runs: 1, only: []string{"point"},
		systems: []string{"actorlite", "ncruces", "aiosqlite"}, python: "/nonexistent/python3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].ID != "point" {
		t.Fatalf("rows: %+v", rep.Rows)
	}
	row := rep.Rows[0]
	for _, id := range []string{"actorlite", "ncruces"} {
		if c := row.Cells[id]; !c.ok() || c.Cost <= 0 {
			t.Errorf("%s: %+v", id, c)
		}
	}
	if c := row.Cells["actorlite"]; c.Cost != 1 {
		t.Errorf("the base's cost ratio is %v, want 1", c.Cost)
	}
	if c := row.Cells["aiosqlite"]; !strings.HasPrefix(c.Note, "not run: /nonexistent/python3 not found") {
		t.Errorf("aiosqlite without Python: %+v", c)
	}
	if rep.failures() != 0 {
		t.Errorf("%d failures", rep.failures())
	}

	var b strings.Builder
	rep.writeMarkdown(&b)
	md := b.String()
	lines := strings.Split(md, "\n")
	var table []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| target") && !strings.Contains(l, " ÷ ") {
			table = append(table, l)
		}
	}
	if len(table) != 2 {
		t.Fatalf("want a header and one row, got:\n%s", md)
	}
	if want := "| workload | unit | actorlite | ncruces direct | aiosqlite (Python) |"; table[0] != want {
		t.Errorf("header %q, want %q", table[0], want)
	}
	cells := strings.Split(strings.Trim(table[1], "| "), " | ")
	if len(cells) != 5 || !strings.HasPrefix(cells[0], "3. point selects") || !strings.HasPrefix(cells[2], "**") ||
		!strings.HasSuffix(cells[3], "×)") || cells[4] != "not run" {
		t.Errorf("row cells %q", cells)
	}
	for _, want := range []string{"| point selects: actorlite time ÷ direct | ", "aiosqlite (Python) not run: /nonexistent/python3 not found"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

// TestQuickSQLTx runs the contended-writers workload briefly and checks its table and targets.
func TestQuickSQLTx(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workload")
	}
	rep, err := run(t.Context(), options{quick: true, runs: 1, only: []string{sqlTxGroup},
		systems: []string{"actorlite", "ncruces-sql"}, python: "/nonexistent/python3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 0 {
		t.Errorf("-only sqltx ran %d other workloads", len(rep.Rows))
	}
	if len(rep.SQLTx) != 2 || rep.SQLTx[0].ID != "actorlite-sql" || rep.SQLTx[1].ID != "ncruces-sql" {
		t.Fatalf("sqltx results: %+v", rep.SQLTx)
	}
	for _, r := range rep.SQLTx {
		if r.Note != "" || r.TxPerSec <= 0 || r.P50ms <= 0 || r.P99ms < r.P50ms || r.MaxMs < r.P99ms || len(r.Runs) != 1 {
			t.Errorf("%s: %+v", r.ID, r)
		}
	}
	if len(rep.Targets) != 2 || !strings.HasPrefix(rep.Targets[0].Text, "contended writers") || rep.Targets[0].Status == "not measured" {
		t.Errorf("targets: %+v", rep.Targets)
	}
	var b strings.Builder
	rep.writeMarkdown(&b)
	md := b.String()
	for _, want := range []string{"| driver | tx/s ↑ | p50 ms ↓ | p99 ms ↓ | max ms ↓ |", "| actorlite database/sql | ", "| ncruces database/sql | "} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| workload | unit |") {
		t.Errorf("the workloads' table printed without workloads:\n%s", md)
	}
}

func TestQuantile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {0.1, 1}, {0, 1}, {1, 10}} {
		if got := quantile(d, tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

// Within a run no in-process system takes its turn right after a Python one, every system
// takes exactly one turn, and across runs each in-process system comes first (after the
// previous run's Python turns) at most once in as many runs as there are of them.
func TestTurnOrderKeepsPythonLast(t *testing.T) {
	for _, w := range workloads(quickSizes) {
		_, turns := newRow(w, systems, "")
		for _, s := range systems {
			if w.has(s) != slices.ContainsFunc(turns, func(u system) bool { return u.id == s.id }) {
				t.Errorf("%s: %s takes turns: %v, runs the workload: %v", w.ID, s.id, !w.has(s), w.has(s))
			}
		}
		var inProc []string
		for _, s := range turns {
			if s.start != nil {
				inProc = append(inProc, s.id)
			}
		}
		// Over as many runs as there are in-process systems, each of them comes first once
		// (after the last Python run of the run before) and last once.
		firsts, lasts := map[string]int{}, map[string]int{}
		for r := range len(inProc) {
			order := turnOrder(turns, r)
			if len(order) != len(turns) {
				t.Fatalf("%s run %d: %d turns for %d systems", w.ID, r, len(order), len(turns))
			}
			seen := map[string]bool{}
			for i, s := range order {
				if seen[s.id] {
					t.Fatalf("%s run %d: %s takes two turns", w.ID, r, s.id)
				}
				seen[s.id] = true
				if i > 0 && s.start != nil && order[i-1].start == nil {
					t.Errorf("%s run %d: %s follows the Python system %s", w.ID, r, s.id, order[i-1].id)
				}
			}
			firsts[order[0].id]++
			lasts[order[len(inProc)-1].id]++
		}
		for _, id := range inProc {
			if firsts[id] != 1 || lasts[id] != 1 {
				t.Errorf("%s: %s comes first in %d and last in %d of %d runs, want 1 and 1", w.ID, id, firsts[id], lasts[id], len(inProc))
			}
		}
	}
}

// TestNewRowSkipsPythonNotRun checks that a Python system that could not start has its reason
// in its cell and takes no turns.
func TestNewRowSkipsPythonNotRun(t *testing.T) {
	w := workloads(quickSizes)[0]
	row, turns := newRow(w, systems, "no python3")
	checked := 0
	for _, s := range systems {
		if s.start != nil || !s.runs(w.Group) {
			continue
		}
		checked++
		if got := row.Cells[s.id].Note; got != "not run: no python3" {
			t.Errorf("%s: note %q", s.id, got)
		}
		if slices.ContainsFunc(turns, func(u system) bool { return u.id == s.id }) {
			t.Errorf("%s takes turns", s.id)
		}
	}
	if checked == 0 {
		t.Fatalf("%s: no Python system runs it", w.ID)
	}
}

// TestTogether measures point selects, autocommit inserts, bulk inserts, scans and opens of
// three systems interleaved, mattn listed first: for the point selects, on one database, its
// connection must still open after those on go-sqlite3 (openOrder), or theirs fail with
// SQLITE_PROTOCOL. Each system gets a sample of every operation; each table written holds
// every event (checked by writeTogether), the bulk insert's transaction committed across its
// turns.
func TestTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workloads")
	}
	e := &env{dir: t.TempDir(), sz: quickSizes}
	e.seeded = filepath.Join(e.dir, "seeded.db")
	if err := seedDB(e.seeded, e.sz.SeedRows); err != nil {
		t.Fatal(err)
	}
	var syss []system
	for _, id := range []string{"mattn", "ncruces", "actorlite"} {
		s, ok := systemByID(id)
		if !ok {
			t.Fatal(id)
		}
		syss = append(syss, s)
	}
	if got := openOrder(syss); !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("openOrder = %v, want [2 1 0]", got)
	}
	for _, w := range []struct {
		name string
		n    int
		run  func(context.Context, *env, []system) ([]sample, error)
	}{
		{"point", e.sz.Points, runPointTogether},
		{"autocommit", e.sz.Autocommit, runAutocommitTogether},
		{"bulk", e.sz.Bulk, runBulkTogether},
		{"open", e.sz.Opens, runOpenTogether},
		{"scan", scansPerRun * e.sz.SeedRows, runScanTogether},
	} {
		smps, err := w.run(t.Context(), e, syss)
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		for i, smp := range smps {
			if smp.N != float64(w.n) || smp.Secs <= 0 {
				t.Errorf("%s, %s: %+v", w.name, syss[i].id, smp)
			}
		}
	}
}

// TestIngestTarget measures the events target's two systems taking turns: each gets a sample
// of every event, and each table then holds them all (checked by runIngestTarget). Its row has
// a cell for those two systems only, and no target compares it with aiosqlite.
func TestIngestTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workload")
	}
	e := &env{dir: t.TempDir(), sz: quickSizes}
	var w workload
	for _, x := range workloads(e.sz) {
		if x.ID == "ingest-target" {
			w = x
		}
	}
	if w.together == nil {
		t.Fatal("no ingest-target row taken in turns")
	}
	_, turns := newRow(w, systems, "")
	var ids []string
	for _, s := range turns {
		ids = append(ids, s.id)
	}
	if !slices.Equal(ids, []string{"actorlite-events", "ncruces"}) {
		t.Fatalf("ingest-target's systems: %v", ids)
	}
	for r := range 2 { // each system first once
		order := turnOrder(turns, r)
		smps, err := w.together(t.Context(), e, order)
		if err != nil {
			t.Fatalf("run %d: %v", r, err)
		}
		for i, smp := range smps {
			if smp.N != float64(e.sz.IngestBound) || smp.Secs <= 0 {
				t.Errorf("run %d, %s: %+v", r, order[i].id, smp)
			}
		}
	}
	for _, tg := range targets(workloads(e.sz)) {
		if tg.Row == "ingest-target" && tg.Against != "ncruces" {
			t.Errorf("target %q compares ingest-target with %s", tg.Text, tg.Against)
		}
	}
}

// TestIngestSharedConn runs the ingest rows' producers on one shared connection of each Go
// system, each event committed and in batches by hand: every table must hold every event
// (runIngest checks), and under -race no two producers may touch a connection's state at once
// (a *sql.Tx kept on the shared database/sql connection once made them commit each other's).
func TestIngestSharedConn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workloads")
	}
	e := &env{dir: t.TempDir(), sz: quickSizes}
	for _, id := range []string{"actorlite", "actorlite-events", "ncruces", "ncruces-sql", "mattn"} {
		sys, ok := systemByID(id)
		if !ok {
			t.Fatal(id)
		}
		for _, size := range []int{0, 10} {
			smp, err := runIngest(t.Context(), e, sys, 400, 8, size)
			if err != nil {
				t.Fatalf("%s, batches of %d: %v", id, size, err)
			}
			if smp.N != 400 || smp.Secs <= 0 {
				t.Errorf("%s, batches of %d: %+v", id, size, smp)
			}
		}
	}
}
