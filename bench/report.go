package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// Report is one run of the suite: what the table shows and -json writes.
type Report struct {
	Meta    Meta           `json:"meta"`
	Systems []SystemInfo   `json:"systems"`
	Rows    []Row          `json:"rows"`
	SQLTx   []SQLTxResult  `json:"sqltx,omitempty"` // the contended-writers workload (sqltx.go)
	Targets []TargetResult `json:"targets"`
}

// Meta says what was measured, where and how.
type Meta struct {
	Command    string            `json:"command"`
	Date       string            `json:"date"`
	Go         string            `json:"go"`
	Platform   string            `json:"platform"`
	CPU        string            `json:"cpu"`
	CPUs       int               `json:"cpus"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	Versions   map[string]string `json:"versions"`
	Quick      bool              `json:"quick"`
	Runs       int               `json:"runs"`
	Sizes      sizes             `json:"sizes"`
	SQLTx      sqlTxSizes        `json:"sqltx_sizes"`
	LoadBefore string            `json:"loadavg_before"` // /proc/loadavg when the suite started
	LoadAfter  string            `json:"loadavg_after"`
	// OtherCPUs is how many CPUs other processes kept busy, on average, while the suite
	// measured (from /proc/stat and getrusage); -1: unknown. Well above 0, the numbers are
	// disturbed.
	OtherCPUs float64 `json:"other_cpus"`
}

// SystemInfo is one column.
type SystemInfo struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	NotRun string `json:"not_run,omitempty"` // why the whole system could not run
}

// Row is one workload's results.
type Row struct {
	workload
	Cells map[string]*Cell `json:"cells"` // by system id
}

// Cell is one system's result on one workload.
type Cell struct {
	Value float64   `json:"value,omitempty"` // the median of Runs, in the row's unit
	Runs  []float64 `json:"runs,omitempty"`
	// Cost is the cell's cost relative to the row's base: its time (or memory) ÷ the base's,
	// or the base's throughput ÷ its own. Above 1 it costs more than the base. 0: no ratio.
	Cost float64 `json:"cost_vs_base,omitempty"`
	Note string  `json:"note,omitempty"` // why there is no value: "—" (not applicable), "not run: …", "error: …"
}

func (c *Cell) ok() bool { return c != nil && c.Note == "" && c.Value > 0 }

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// speedup returns how many times faster (or leaner) system value a is than system value b on
// a row where lower is better or not: above 1, a is ahead.
func speedup(lower bool, a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if lower {
		return b / a
	}
	return a / b
}

// finish computes the medians and the ratios to each row's base.
func (r *Row) finish() {
	for _, c := range r.Cells {
		if c.Note == "" {
			c.Value = median(c.Runs)
		}
	}
	base := r.Cells[r.Base]
	for _, c := range r.Cells {
		if c.ok() && base.ok() {
			c.Cost = speedup(r.Lower, base.Value, c.Value)
		}
	}
}

// A target is one of the acceptance ratios.
type target struct {
	Row     string  `json:"row"`
	System  string  `json:"system"`
	Against string  `json:"against"`
	Kind    string  `json:"kind"` // maxCost, minSpeed, or maxExtra (KiB)
	Limit   float64 `json:"limit"`
	Text    string  `json:"text"`
}

const (
	maxCost  = "maxCost"  // system's cost ÷ against's ≤ Limit
	minSpeed = "minSpeed" // system's speed ÷ against's ≥ Limit
	maxExtra = "maxExtra" // system's value − against's ≤ Limit (KiB)
)

// TargetResult is a target checked against a report.
type TargetResult struct {
	target
	Measured float64 `json:"measured"`
	Met      bool    `json:"met"`
	Status   string  `json:"status"`
}

func targets(ws []workload) []target {
	ts := []target{
		{Row: "point", System: "actorlite", Against: "ncruces", Kind: maxCost, Limit: 1.15, Text: "point selects: actorlite time ÷ direct"},
		{Row: "scan", System: "actorlite", Against: "ncruces", Kind: maxCost, Limit: 1.10, Text: "full scan: actorlite time ÷ direct"},
		{Row: "bulk", System: "actorlite", Against: "ncruces", Kind: maxCost, Limit: 1.05, Text: "bulk insert: actorlite time ÷ direct"},
		{Row: "autocommit", System: "actorlite", Against: "ncruces", Kind: maxCost, Limit: 1.10, Text: "autocommit inserts: actorlite time ÷ direct"},
		{Row: "ingest-target", System: "actorlite-events", Against: "ncruces", Kind: minSpeed, Limit: 0.85,
			Text: "ingest, 64 producers each acked after its commit: events API events/s ÷ direct, all events in one transaction, back to back"},
		{Row: "open", System: "actorlite", Against: "ncruces", Kind: maxCost, Limit: 1.3, Text: "open + first query: actorlite time ÷ direct"},
		{Row: "memory", System: "actorlite", Against: "ncruces", Kind: maxExtra, Limit: 64, Text: "memory per idle connection: actorlite − direct (KiB)"},
		{Row: "concurrent", System: "actorlite-pool", Against: "ncruces", Kind: minSpeed, Limit: 0.8, Text: "concurrent point selects: actorlite pool selects/s ÷ direct"},
	}
	// ≥ 10× aiosqlite, in either idiom, on the per-call workloads and on event ingest.
	for _, py := range []struct{ id, name string }{{"aiosqlite", "aiosqlite"}, {"aiosqlite-article", "aiosqlite article idiom"}} {
		for _, w := range []struct{ row, text string }{
			{"autocommit", "autocommit inserts"}, {"point", "point selects"}, {"concurrent", "concurrent point selects"},
		} {
			ts = append(ts, target{Row: w.row, System: "actorlite", Against: py.id, Kind: minSpeed, Limit: 10,
				Text: fmt.Sprintf("%s: actorlite speed ÷ %s", w.text, py.name)})
		}
		for _, w := range ws {
			if w.Group == "ingest" && w.py != nil && w.ID != "ingest-1-tx" { // the bound, not a way to write
				ts = append(ts, target{Row: w.ID, System: "actorlite-events", Against: py.id, Kind: minSpeed, Limit: 10,
					Text: fmt.Sprintf("%s: events API speed ÷ %s", w.ID, py.name)})
			}
		}
	}
	return ts
}

// check evaluates the targets whose rows the report holds.
func (rep *Report) check(ts []target) {
	rows := make(map[string]*Row)
	for i := range rep.Rows {
		rows[rep.Rows[i].ID] = &rep.Rows[i]
	}
	for _, t := range ts {
		row := rows[t.Row]
		if row == nil {
			continue // the workload was not selected
		}
		res := TargetResult{target: t}
		a, b := row.Cells[t.System], row.Cells[t.Against]
		if a == nil || b == nil {
			continue // a system was not selected
		}
		switch {
		case !a.ok() || !b.ok():
			res.Status = "not measured"
		case t.Kind == maxExtra:
			res.Measured = a.Value - b.Value
			res.Met = res.Measured <= t.Limit
			res.Status = statusText(res.Met, fmt.Sprintf("%+.0f KiB", res.Measured), fmt.Sprintf("%+.0f KiB", t.Limit),
				fmt.Sprintf("%.0f KiB over", res.Measured-t.Limit))
		case t.Kind == maxCost:
			res.Measured = 1 / speedup(row.Lower, a.Value, b.Value)
			res.Met = res.Measured <= t.Limit
			res.Status = statusText(res.Met, ratio(res.Measured), "≤ "+ratio(t.Limit),
				percent(res.Measured/t.Limit-1)+" over")
		default:
			res.Measured = speedup(row.Lower, a.Value, b.Value)
			res.Met = res.Measured >= t.Limit
			res.Status = statusText(res.Met, ratio(res.Measured), "≥ "+ratio(t.Limit),
				percent(1-res.Measured/t.Limit)+" short")
		}
		rep.Targets = append(rep.Targets, res)
	}
}

func statusText(met bool, measured, limit, miss string) string {
	if met {
		return fmt.Sprintf("met (%s, target %s)", measured, limit)
	}
	return fmt.Sprintf("MISSED (%s, target %s: %s)", measured, limit, miss)
}

// percent formats a fraction as a percentage, with a decimal below 10%.
func percent(f float64) string {
	if f < 0.1 {
		return fmt.Sprintf("%.1f%%", f*100)
	}
	return fmt.Sprintf("%.0f%%", f*100)
}

func ratio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// formatValue prints v with three or four significant digits and thousands separators.
func formatValue(v float64) string {
	switch {
	case v >= 1000:
		return count(int(math.Round(v)))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// writeMarkdown prints the report: the table, its legend, the targets, and the notes.
func (rep *Report) writeMarkdown(w io.Writer) {
	m := rep.Meta
	fmt.Fprintf(w, "`%s` — %s, %s, %s (%d CPUs, GOMAXPROCS %d), median of %d run%s\n\n",
		m.Command, m.Date, m.Go, m.CPU, m.CPUs, m.GOMAXPROCS, m.Runs, plural(m.Runs))
	var notes []string
	if len(rep.Rows) > 0 {
		notes = rep.writeTable(w)
	}
	rep.writeSQLTx(w)
	if len(rep.Targets) > 0 {
		fmt.Fprintf(w, "\n| target | result |\n|---|---|\n")
		for _, t := range rep.Targets {
			fmt.Fprintf(w, "| %s | %s |\n", t.Text, t.Status)
		}
	}
	for _, s := range rep.Systems {
		if s.NotRun != "" {
			notes = append(notes, fmt.Sprintf("%s not run: %s", s.Title, s.NotRun))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	var vs []string
	for _, k := range slices.Sorted(maps.Keys(m.Versions)) {
		vs = append(vs, k+" "+m.Versions[k])
	}
	fmt.Fprintf(w, "\nVersions: %s.\n", strings.Join(vs, ", "))
	other := "unknown"
	if m.OtherCPUs >= 0 {
		other = fmt.Sprintf("%.2f of %d CPUs", m.OtherCPUs, m.CPUs)
	}
	fmt.Fprintf(w, "\nLoad: other processes kept %s busy on average while this ran (load average before %s, after %s).\n",
		other, m.LoadBefore, m.LoadAfter)
}

// writeTable prints the workloads' table and its legend, and returns the notes of its cells.
func (rep *Report) writeTable(w io.Writer) (notes []string) {
	m := rep.Meta
	head := []string{"workload", "unit"}
	align := []string{"---", "---"}
	for _, s := range rep.Systems {
		head = append(head, s.Title)
		align = append(align, "--:")
	}
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
	for _, r := range rep.Rows {
		arrow := "↑"
		if r.Lower {
			arrow = "↓"
		}
		line := []string{r.Title, r.Unit + " " + arrow}
		for _, s := range rep.Systems {
			c := r.Cells[s.ID]
			switch {
			case c == nil:
				line = append(line, "")
			case c.Note == "—":
				line = append(line, "—")
			case c.Note != "":
				note := c.Note
				if s.NotRun != "" {
					note = "not run"
				} else {
					notes = append(notes, fmt.Sprintf("%s, %s: %s", r.ID, s.Title, c.Note))
					note = strings.SplitN(note, ":", 2)[0]
				}
				line = append(line, note)
			case s.ID == r.Base:
				line = append(line, "**"+formatValue(c.Value)+"**")
			case c.Cost > 0:
				line = append(line, fmt.Sprintf("%s (%s)", formatValue(c.Value), ratio(c.Cost)))
			default:
				line = append(line, formatValue(c.Value))
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(line, " | "))
	}
	fmt.Fprintf(w, "\nEach cell is the median of %d run%s; the bold cell is the row's base (actorlite; the events "+
		"API for the ingest rows; ncruces direct for the events target). In brackets, the cell's cost relative to "+
		"the base: its time or memory ÷ the base's, or the base's throughput ÷ its own, so above 1× it costs more "+
		"than the base and below 1× less. "+
		"↓: lower is better; ↑: higher is better.\n", m.Runs, plural(m.Runs))
	return notes
}
