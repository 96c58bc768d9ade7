package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/actorlite/actorlite/bench/internal/drivername"
	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

// The contended-writers workload: database/sql programs whose goroutines all run read-then-
// write transactions on one database. With go-sqlite3's and mattn's drivers every
// database/sql connection is a SQLite connection, and a transaction that finds another
// writer sleeps in SQLite's busy handler (busy_timeout) until the lock is free; with
// actorlite's driver the transactions queue in order at the database's one writer actor.
// Each transaction: BEGIN, read a counter, write it back plus one, COMMIT; its latency is
// from BeginTx to the end of Commit. After each run the harness checks that the counters add
// up to the transactions committed (no lost update).

// sqlTxGroup is the -only name of the workload.
const sqlTxGroup = "sqltx"

// sqlTxSystem is one database/sql driver the workload measures.
type sqlTxSystem struct {
	id, title string
	// system is the -systems id that selects it.
	system string
	open   func(path string) (*sql.DB, error)
}

var sqlTxSystems = []sqlTxSystem{
	{id: "actorlite-sql", title: "actorlite database/sql", system: "actorlite", open: func(path string) (*sql.DB, error) {
		return sql.Open(sqldriver.DriverName, path)
	}},
	{id: "ncruces-sql", title: "ncruces database/sql", system: "ncruces-sql", open: func(path string) (*sql.DB, error) {
		return sql.Open(drivername.Ncruces, ncrucesDSN(path)+"&_txlock=immediate")
	}},
	{id: "mattn", title: "mattn database/sql (cgo)", system: "mattn", open: func(path string) (*sql.DB, error) {
		return sql.Open("sqlite3", mattnDSN(path)+"&_txlock=immediate")
	}},
}

// sqlTxSizes are the workload's sizes.
type sqlTxSizes struct {
	Goroutines int           `json:"goroutines"`
	Counters   int           `json:"counters"` // rows the transactions pick from
	For        time.Duration `json:"duration_ns"`
}

var (
	fullSQLTx  = sqlTxSizes{Goroutines: 16, Counters: 100, For: 3 * time.Second}
	quickSQLTx = sqlTxSizes{Goroutines: 16, Counters: 100, For: 300 * time.Millisecond}
)

// SQLTxResult is one driver's figures, over the runs.
type SQLTxResult struct {
	ID    string     `json:"id"`
	Title string     `json:"title"`
	Runs  []SQLTxRun `json:"runs,omitempty"`
	// The medians of the runs' figures, and the largest latency of them all.
	TxPerSec float64 `json:"tx_per_sec,omitempty"`
	P50ms    float64 `json:"p50_ms,omitempty"`
	P99ms    float64 `json:"p99_ms,omitempty"`
	MaxMs    float64 `json:"max_ms,omitempty"`
	Note     string  `json:"note,omitempty"` // "error: …" when a run failed
}

// SQLTxRun is one run's figures.
type SQLTxRun struct {
	Tx       int     `json:"tx"`
	Secs     float64 `json:"seconds"`
	TxPerSec float64 `json:"tx_per_sec"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// selectSQLTx returns the drivers selected by -systems (all when ids is empty).
func selectSQLTx(ids []string) []sqlTxSystem {
	var out []sqlTxSystem
	for _, s := range sqlTxSystems {
		if len(ids) == 0 || slices.Contains(ids, s.system) {
			out = append(out, s)
		}
	}
	return out
}

// runSQLTx measures each selected driver runs times, taking turns in an order rotated from run
// to run.
func runSQLTx(ctx context.Context, dir string, sz sqlTxSizes, runs int, syss []sqlTxSystem, progress io.Writer) []SQLTxResult {
	res := make([]SQLTxResult, len(syss))
	for i, s := range syss {
		res[i] = SQLTxResult{ID: s.id, Title: s.title}
	}
	for r := range runs {
		for k := range syss {
			i := (k + r) % len(syss)
			if res[i].Note != "" {
				continue
			}
			path := filepath.Join(dir, fmt.Sprintf("sqltx-%s-%d.db", syss[i].id, r))
			run, err := sqlTxOnce(ctx, syss[i], path, sz)
			if err != nil {
				res[i].Note = "error: " + err.Error()
				fmt.Fprintf(progress, "[sqltx] %-22s run %d/%d: error: %v\n", syss[i].id, r+1, runs, err)
				continue
			}
			res[i].Runs = append(res[i].Runs, run)
			fmt.Fprintf(progress, "[sqltx] %-22s run %d/%d: %s tx/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms\n",
				syss[i].id, r+1, runs, formatValue(run.TxPerSec), run.P50ms, run.P99ms, run.MaxMs)
		}
	}
	for i := range res {
		if len(res[i].Runs) == 0 {
			continue
		}
		var tps, p50, p99 []float64
		for _, r := range res[i].Runs {
			tps, p50, p99 = append(tps, r.TxPerSec), append(p50, r.P50ms), append(p99, r.P99ms)
			res[i].MaxMs = max(res[i].MaxMs, r.MaxMs)
		}
		res[i].TxPerSec, res[i].P50ms, res[i].P99ms = median(tps), median(p50), median(p99)
	}
	return res
}

// sqlTxOnce runs the workload once on a fresh database.
func sqlTxOnce(ctx context.Context, s sqlTxSystem, path string, sz sqlTxSizes) (SQLTxRun, error) {
	db, err := s.open(path)
	if err != nil {
		return SQLTxRun{}, err
	}
	defer db.Close()
	// As a careful program does: keep a connection per goroutine, rather than database/sql's
	// default of 2 idle ones, which would close and reopen SQLite connections all along.
	db.SetMaxIdleConns(sz.Goroutines)
	if _, err := db.ExecContext(ctx, "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"); err != nil {
		return SQLTxRun{}, err
	}
	if _, err := db.ExecContext(ctx, "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < ?) INSERT INTO counter SELECT i, 0 FROM c", sz.Counters); err != nil {
		return SQLTxRun{}, err
	}
	// Warm the pool's connections (untimed): every system starts with its connections open.
	var warm sync.WaitGroup
	for range sz.Goroutines {
		warm.Go(func() { db.PingContext(ctx) })
	}
	warm.Wait()

	lats := make([][]time.Duration, sz.Goroutines)
	errs := make([]error, sz.Goroutines)
	start := time.Now()
	stop := start.Add(sz.For)
	var wg sync.WaitGroup
	for g := range sz.Goroutines {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				id := (g*7919 + i*104729) % sz.Counters
				t0 := time.Now()
				if err := readThenWrite(ctx, db, id); err != nil {
					errs[g] = err
					return
				}
				lats[g] = append(lats[g], time.Since(t0))
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if err := errors.Join(errs...); err != nil {
		return SQLTxRun{}, err
	}
	all := slices.Concat(lats...)
	var sum int64
	if err := db.QueryRowContext(ctx, "SELECT sum(n) FROM counter").Scan(&sum); err != nil {
		return SQLTxRun{}, err
	}
	if sum != int64(len(all)) {
		return SQLTxRun{}, fmt.Errorf("counters add up to %d after %d committed transactions: updates were lost", sum, len(all))
	}
	if len(all) == 0 {
		return SQLTxRun{}, errors.New("no transaction committed")
	}
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return SQLTxRun{
		Tx: len(all), Secs: secs, TxPerSec: float64(len(all)) / secs,
		P50ms: ms(quantile(all, 0.50)), P99ms: ms(quantile(all, 0.99)), MaxMs: ms(all[len(all)-1]),
	}, nil
}

// quantile returns the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// readThenWrite is one transaction: read a counter, write it back plus one.
func readThenWrite(ctx context.Context, db *sql.DB, id int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT n FROM counter WHERE id = ?", id).Scan(&n); err != nil {
		tx.Rollback()
		return fmt.Errorf("select: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE counter SET n = ? WHERE id = ?", n+1, id); err != nil {
		tx.Rollback()
		return fmt.Errorf("update: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// sqlTxTargets are the acceptance ratios, against go-sqlite3's driver.
func (rep *Report) checkSQLTx() {
	var al, nc *SQLTxResult
	for i := range rep.SQLTx {
		switch rep.SQLTx[i].ID {
		case "actorlite-sql":
			al = &rep.SQLTx[i]
		case "ncruces-sql":
			nc = &rep.SQLTx[i]
		}
	}
	if al == nil || nc == nil {
		return
	}
	ok := al.Note == "" && nc.Note == "" && al.TxPerSec > 0 && nc.TxPerSec > 0
	tput := TargetResult{target: target{Row: sqlTxGroup, System: al.ID, Against: nc.ID, Kind: minSpeed, Limit: 0.9,
		Text: "contended writers: actorlite driver tx/s ÷ go-sqlite3 driver"}}
	p99 := TargetResult{target: target{Row: sqlTxGroup, System: al.ID, Against: nc.ID, Kind: maxCost, Limit: 0.2,
		Text: "contended writers: actorlite driver p99 ÷ go-sqlite3 driver"}}
	if !ok {
		tput.Status, p99.Status = "not measured", "not measured"
	} else {
		tput.Measured = al.TxPerSec / nc.TxPerSec
		tput.Met = tput.Measured >= tput.Limit
		tput.Status = statusText(tput.Met, ratio(tput.Measured), "≥ "+ratio(tput.Limit), percent(1-tput.Measured/tput.Limit)+" short")
		p99.Measured = al.P99ms / nc.P99ms
		p99.Met = p99.Measured <= p99.Limit
		p99.Status = statusText(p99.Met, ratio(p99.Measured), "≤ "+ratio(p99.Limit), percent(p99.Measured/p99.Limit-1)+" over")
	}
	rep.Targets = append(rep.Targets, tput, p99)
}

// writeSQLTx prints the workload's table.
func (rep *Report) writeSQLTx(w io.Writer) {
	if len(rep.SQLTx) == 0 {
		return
	}
	sz := rep.Meta.SQLTx
	fmt.Fprintf(w, "\nContended writers through database/sql: %d goroutines, each running read-then-write transactions "+
		"(BEGIN, SELECT a counter, UPDATE it, COMMIT) for %s, %d counters; latency from BeginTx to the end of Commit. "+
		"Medians of %d run%s; max is the largest of all runs.\n\n", sz.Goroutines, sz.For, sz.Counters, rep.Meta.Runs, plural(rep.Meta.Runs))
	fmt.Fprintf(w, "| driver | tx/s ↑ | p50 ms ↓ | p99 ms ↓ | max ms ↓ |\n|---|--:|--:|--:|--:|\n")
	for _, r := range rep.SQLTx {
		if r.Note != "" {
			fmt.Fprintf(w, "| %s | %s | | | |\n", r.Title, strings.SplitN(r.Note, ":", 2)[0])
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %.2f | %.2f | %.1f |\n", r.Title, formatValue(r.TxPerSec), r.P50ms, r.P99ms, r.MaxMs)
	}
	for _, r := range rep.SQLTx {
		if r.Note != "" {
			fmt.Fprintf(w, "\n- %s: %s\n", r.Title, r.Note)
		}
	}
}
