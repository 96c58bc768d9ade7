// Command bench measures actorlite side by side with its peers and prints a Markdown table:
// one row per workload, one column per system, each with its ratio to actorlite, all from one
// run. See README.md.
//
//	cd bench && go run . [-quick] [-only LIST] [-systems LIST] [-runs N] [-json FILE] [-cpuprofile FILE]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	mattn "github.com/mattn/go-sqlite3"
	"github.com/ncruces/go-sqlite3"
)

// options are the command's flags.
type options struct {
	quick      bool
	only       []string // workload groups or row ids; empty: all
	systems    []string // system ids; empty: all
	runs       int
	python     string
	jsonFile   string
	cpuprofile string
	progress   io.Writer
}

func main() {
	var o options
	var only, syss string
	flag.BoolVar(&o.quick, "quick", false, "small sizes: the whole suite in seconds (CI)")
	flag.StringVar(&only, "only", "", "comma-separated workloads to run: autocommit, bulk, point, scan, concurrent, ingest, open, memory, sqltx, or row ids such as ingest-8-batch")
	flag.StringVar(&syss, "systems", "", "comma-separated systems to run: "+strings.Join(systemIDs(), ", "))
	flag.IntVar(&o.runs, "runs", 3, "runs per cell; the table shows their median")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "the Python that runs aiosqlite (Debian's python3-aiosqlite)")
	flag.StringVar(&o.jsonFile, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the measurements to this file (read it with go tool pprof -top)")
	memChild := flag.String("memchild", "", "internal: measure memory per idle connection of this system")
	memDB := flag.String("memdb", "", "internal: the database of -memchild")
	memConns := flag.Int("memconns", 100, "internal: the connections of -memchild")
	flag.Parse()
	ctx := context.Background()

	if *memChild != "" {
		if err := memoryChild(ctx, *memChild, *memDB, *memConns); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	o.only, o.systems = splitList(only), splitList(syss)
	if o.runs < 1 {
		o.runs = 1
	}
	o.progress = os.Stderr
	rep, err := run(ctx, o)
	if err != nil {
		fatal(err)
	}
	rep.writeMarkdown(os.Stdout)
	if o.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(o.jsonFile, append(b, '\n'), 0o644)
		}
		if err != nil {
			fatal(err)
		}
	}
	if failed := rep.failures(); failed > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d measurement(s) failed\n", failed)
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func systemIDs() []string {
	ids := make([]string, len(systems))
	for i, s := range systems {
		ids[i] = s.id
	}
	return ids
}

func systemByID(id string) (system, bool) {
	for _, s := range systems {
		if s.id == id {
			return s, true
		}
	}
	return system{}, false
}

// selectWorkloads returns the workloads named by only (groups or row ids), in the table's
// order; all of them when only is empty.
func selectWorkloads(all []workload, only []string) ([]workload, error) {
	if len(only) == 0 {
		return all, nil
	}
	for _, name := range only {
		if !slices.ContainsFunc(all, func(w workload) bool { return w.Group == name || w.ID == name }) {
			return nil, fmt.Errorf("-only: unknown workload %q", name)
		}
	}
	var out []workload
	for _, w := range all {
		if slices.Contains(only, w.Group) || slices.Contains(only, w.ID) {
			out = append(out, w)
		}
	}
	return out, nil
}

func selectSystems(ids []string) ([]system, error) {
	if len(ids) == 0 {
		return systems, nil
	}
	for _, id := range ids {
		if _, ok := systemByID(id); !ok {
			return nil, fmt.Errorf("-systems: unknown system %q (known: %s)", id, strings.Join(systemIDs(), ", "))
		}
	}
	var out []system
	for _, s := range systems { // in the table's order
		if slices.Contains(ids, s.id) {
			out = append(out, s)
		}
	}
	return out, nil
}

// run runs the suite and returns its report.
func run(ctx context.Context, o options) (*Report, error) {
	sz := fullSizes
	if o.quick {
		sz = quickSizes
	}
	sqltxSz := fullSQLTx
	if o.quick {
		sqltxSz = quickSQLTx
	}
	// The contended-writers workload (sqltx) has a table of its own.
	only := slices.DeleteFunc(slices.Clone(o.only), func(n string) bool { return n == sqlTxGroup })
	withSQLTx := len(o.only) == 0 || len(only) < len(o.only)
	ws, err := selectWorkloads(workloads(sz), only)
	if err != nil {
		return nil, err
	}
	if len(o.only) > 0 && len(only) == 0 {
		ws = nil // -only sqltx
	}
	syss, err := selectSystems(o.systems)
	if err != nil {
		return nil, err
	}
	progress := o.progress
	if progress == nil {
		progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "actorlite-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	e := &env{dir: dir, sz: sz, memChild: runMemoryChild}

	rep := &Report{Meta: meta(o, sz)}
	if withSQLTx {
		rep.Meta.SQLTx = sqltxSz
	}
	var py *python
	for _, s := range syss {
		info := SystemInfo{ID: s.id, Title: s.title}
		if s.start == nil {
			if py == nil {
				py = newPython(ctx, o.python, dir)
				maps.Copy(rep.Meta.Versions, py.versions)
				if py.notRun != "" {
					fmt.Fprintf(progress, "bench: aiosqlite not run: %s\n", py.notRun)
				}
			}
			info.NotRun = py.notRun
		}
		rep.Systems = append(rep.Systems, info)
	}
	if slices.ContainsFunc(ws, func(w workload) bool { return w.seeded }) {
		e.seeded = filepath.Join(dir, "seeded.db")
		fmt.Fprintf(progress, "bench: seeding %s rows for the read workloads\n", count(sz.SeedRows))
		if err := seedDB(e.seeded, sz.SeedRows); err != nil {
			return nil, fmt.Errorf("seeding: %w", err)
		}
	}

	cpu0 := takeCPUSnapshot()
	if o.cpuprofile != "" { // after the seeding: the profile holds the measurements only
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	t0 := time.Now()
	pyNotRun := ""
	if py != nil {
		pyNotRun = py.notRun
	}
	rows := make([]Row, len(ws))
	turns := make([][]system, len(ws))
	for i, w := range ws {
		rows[i], turns[i] = newRow(w, syss, pyNotRun)
	}
	// Every Go measurement of the suite first (and the contended writers, Go only), then the
	// Python ones: a Go measurement right after a Python run read slower, a two-core scan by up
	// to a quarter (bench/README.md, "Fifth round").
	for _, python := range []bool{false, true} {
		if python && withSQLTx {
			rep.SQLTx = runSQLTx(ctx, dir, sqltxSz, o.runs, selectSQLTx(o.systems), progress)
		}
		for i := range ws {
			w, row := &ws[i], &rows[i]
			for r := range o.runs {
				record := func(s system, smp sample, err error) {
					c := row.Cells[s.id]
					if err != nil {
						c.Note = "error: " + err.Error()
						fmt.Fprintf(progress, "[%2d/%d] %-16s %-16s run %d/%d: error: %v\n", i+1, len(ws), w.ID, s.id, r+1, o.runs, err)
						return
					}
					v := w.value(smp)
					c.Runs = append(c.Runs, v)
					fmt.Fprintf(progress, "[%2d/%d] %-16s %-16s run %d/%d: %s %s\n", i+1, len(ws), w.ID, s.id, r+1, o.runs, formatValue(v), w.Unit)
				}
				order := slices.DeleteFunc(turnOrder(turns[i], r), func(s system) bool {
					// this pass's systems, less those that failed in an earlier run
					return (s.start == nil) != python || row.Cells[s.id].Note != ""
				})
				if !python && w.together != nil && len(order) > 0 { // the Go systems at once
					runtime.GC()
					smps, err := w.together(ctx, e, order)
					for j, s := range order {
						if err != nil {
							record(s, sample{}, err)
						} else {
							record(s, smps[j], nil)
						}
					}
					continue
				}
				for _, s := range order {
					runtime.GC()
					smp, err := measure(ctx, e, w, s, py)
					record(s, smp, err)
				}
			}
		}
	}
	for i := range rows {
		rows[i].finish()
	}
	rep.Rows = rows
	fmt.Fprintf(progress, "bench: measured in %s\n", time.Since(t0).Round(time.Millisecond))
	rep.Meta.LoadAfter = loadAvg()
	rep.Meta.OtherCPUs = otherCPUs(cpu0, takeCPUSnapshot())
	rep.check(targets(ws))
	rep.checkSQLTx()
	return rep, nil
}

// newRow returns w's row with a cell for each of syss, and the systems that take turns in it:
// those that run w (a workload such as the scan skips the events and pool systems) and could
// start (Python could not, when pyNotRun says why).
func newRow(w workload, syss []system, pyNotRun string) (Row, []system) {
	row := Row{workload: w, Cells: make(map[string]*Cell, len(syss))}
	var turns []system
	for _, s := range syss {
		switch {
		case !w.has(s):
			row.Cells[s.id] = &Cell{Note: "—"}
		case s.start == nil && pyNotRun != "":
			row.Cells[s.id] = &Cell{Note: "not run: " + pyNotRun}
		default:
			row.Cells[s.id] = &Cell{}
			turns = append(turns, s)
		}
	}
	return row, turns
}

// turnOrder returns the systems in the order they take their turns in run r: the in-process
// systems rotated by r, then the Python ones rotated by r (run measures each group in a pass
// of its own). Rotating, each system takes the first and the last turn equally often. syss are
// the systems that take turns in the row (newRow): rotating systems that sit a workload out
// would leave the others unevenly rotated.
func turnOrder(syss []system, r int) []system {
	var inProc, py []system
	for _, s := range syss {
		if s.start != nil {
			inProc = append(inProc, s)
		} else {
			py = append(py, s)
		}
	}
	order := make([]system, 0, len(syss))
	for _, group := range [][]system{inProc, py} {
		for k := range group {
			order = append(order, group[(k+r)%len(group)])
		}
	}
	return order
}

// measure runs w once on s.
func measure(ctx context.Context, e *env, w *workload, s system, py *python) (sample, error) {
	if s.start != nil {
		return w.run(ctx, e, s)
	}
	path := e.seeded
	if !w.seeded {
		var err error
		if path, err = e.fresh(); err != nil {
			return sample{}, err
		}
	}
	smp, err := py.measure(ctx, w, path, s.idiom)
	if err == nil && w.rows > 0 {
		err = checkCount(path, w.rows)
	}
	return smp, err
}

// failures counts the cells that failed (not those of a system that could not run at all).
func (rep *Report) failures() int {
	n := 0
	for _, r := range rep.Rows {
		for _, c := range r.Cells {
			if strings.HasPrefix(c.Note, "error:") {
				n++
			}
		}
	}
	for _, r := range rep.SQLTx {
		if r.Note != "" {
			n++
		}
	}
	return n
}

func meta(o options, sz sizes) Meta {
	m := Meta{
		Command:  strings.TrimSpace("go run . " + strings.Join(os.Args[1:], " ")),
		Date:     time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
		CPU:      cpuModel(), CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Versions: make(map[string]string),
		Quick:    o.quick, Runs: o.runs, Sizes: sz,
		LoadBefore: loadAvg(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/ncruces/go-sqlite3", "github.com/mattn/go-sqlite3", "github.com/asynkron/protoactor-go":
				m.Versions[d.Path] = d.Version
			}
		}
	}
	if db, err := sqlite3.Open(":memory:"); err == nil {
		if s, _, err := db.Prepare("SELECT sqlite_version()"); err == nil {
			if s.Step() {
				m.Versions["SQLite (ncruces)"] = s.ColumnText(0)
			}
			s.Close()
		}
		db.Close()
	}
	v, _, _ := mattn.Version()
	m.Versions["SQLite (mattn)"] = v
	return m
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
