package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "actorlite demo [-db FILE] [-producers N] [-events N]", `
Walks through the aiosqlite article with actorlite, on a database in a new temporary
directory (removed afterwards) unless -db is given: a supervisor whose events writer creates
the events table; events inserted with InsertEvent from concurrent producers, group-committed;
queries by user and by a JSON property, rows read by column name, the cursor's description;
a user function that panics, the crash answered and the connection restarted with its
committed rows intact; the supervisor's stats.`, `
  actorlite demo
  go run ./cmd/actorlite demo
  actorlite demo -db demo.db -producers 64 -events 500`)
	dbPath := fs.String("db", "", "database file (default: one in a new temporary directory)")
	producers := fs.Int("producers", 8, "concurrent producers")
	perProducer := fs.Int("events", 2000, "events per producer")
	pos, err := parseFlags(fs, args, true, stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{cmd: "demo", msg: "no arguments expected (use -db FILE)"}
	}
	if *producers < 1 || *perProducer < 1 {
		return &usageError{cmd: "demo", msg: "-producers and -events must be at least 1"}
	}
	if *dbPath == "" {
		dir, err := os.MkdirTemp("", "actorlite-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "demo.db")
	}
	return demo(ctx, stdout, *dbPath, *producers, *perProducer)
}

func demo(ctx context.Context, out io.Writer, path string, producers, perProducer int) error {
	step := func(format string, args ...any) { fmt.Fprintf(out, "\n== "+format+"\n", args...) }

	step("1. Start a supervisor, with its events writer on %s", path)
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: path}})
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))
	db, err := s.Open(ctx, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connection actor %s (WAL, synchronous=NORMAL, busy_timeout=5s)\n", db.PID().Id)

	step("2. The events table (the events writer created it)")
	row, err := db.QueryRow(ctx, "SELECT sql FROM sqlite_schema WHERE name = 'events'")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n", row.Index(0))

	total := producers * perProducer
	step("3. Insert %s events from %d concurrent producers with s.InsertEvent (each waits for its commit)", commas(int64(total)), producers)
	names := []string{"page_view", "signup", "purchase", "logout"}
	plans := []string{"free", "pro"}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perProducer {
				ev := messages.Event{
					UserID:     fmt.Sprintf("user-%d", p),
					Name:       names[i%len(names)],
					Properties: json.RawMessage(fmt.Sprintf(`{"plan":%q,"amount":%d}`, plans[i%2], i%100)),
					Timestamp:  time.Now(),
				}
				if err := s.InsertEvent(ctx, ev); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	elapsed := time.Since(t0)
	st := s.Stats()
	fmt.Fprintf(out, "%s events committed in %v (%s events/s) in %s transactions: the events writer group-commits,\n",
		commas(int64(total)), elapsed.Round(time.Millisecond), commas(int64(float64(total)/elapsed.Seconds())), commas(st.EventBatches))
	fmt.Fprintf(out, "%.1f events per commit on average, and acknowledges each event once its transaction committed\n",
		float64(st.EventsCommitted)/float64(max(st.EventBatches, 1)))

	step("4. Query by user, then by a JSON property; rows by column name")
	cur, err := db.Query(ctx, "SELECT id, user_id, name, properties, timestamp FROM events WHERE user_id = ? ORDER BY id LIMIT 3", "user-1")
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "cursor.description:")
	for _, c := range cur.Columns() {
		fmt.Fprintf(out, "  %-10s %s\n", c.Name, c.DeclType)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tuser_id\tname\tproperties\ttimestamp (time.Time)")
	for row, err := range cur.All(ctx) {
		if err != nil {
			return err
		}
		id, _ := row.Get("id")
		user, _ := row.Get("user_id")
		name, _ := row.Get("name")
		props, _ := row.Get("properties")
		ts, _ := row.Get("timestamp")
		tsText := fmt.Sprint(ts)
		if t, ok := ts.(time.Time); ok {
			tsText = t.Format("2006-01-02T15:04:05.000Z07:00")
		}
		fmt.Fprintf(tw, "%v\t%v\t%v\t%s\t%s\n", id, user, name, props, tsText)
	}
	tw.Flush()
	row, err = db.QueryRow(ctx, "SELECT count(*), sum(properties ->> '$.amount') FROM events WHERE properties ->> '$.plan' = ?", "pro")
	if err != nil {
		return err
	}
	var n, amount int64
	if err := row.Scan(&n, &amount); err != nil {
		return err
	}
	fmt.Fprintf(out, "events with properties.plan = \"pro\": %s (amount total %s)\n", commas(n), commas(amount))

	step("5. A user function that panics crashes the connection actor")
	err = db.CreateFunction(ctx, "explode", 0, func([]any) (any, error) { panic("explode() was called") })
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, "SELECT explode()")
	fmt.Fprintf(out, "the crashing call returned at once: %v\n", err)
	fmt.Fprintf(out, "errors.Is(err, messages.ErrCrashed) = %v\n", errors.Is(err, messages.ErrCrashed))
	row, err = db.QueryRow(ctx, "SELECT count(*) FROM events")
	if err != nil {
		return err
	}
	var count int64
	if err := row.Scan(&count); err != nil {
		return err
	}
	fmt.Fprintf(out, "the supervisor restarted it; the same handle still works: %s events, all committed rows intact\n", commas(count))

	step("6. Supervisor stats")
	st = s.Stats()
	fmt.Fprintf(out, "crashes=%d restarts=%d open_conns=%d opened=%d events_committed=%d event_batches=%d\n",
		st.Crashes, st.Restarts, st.OpenConns, st.Opened, st.EventsCommitted, st.EventBatches)
	if err := s.Stop(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "stopped: every connection closed, every event flushed")
	return nil
}
