package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "", "database file (default: one in a new temporary directory)")
	producers := fs.Int("producers", 8, "concurrent producers")
	perProducer := fs.Int("events", 2000, "events per producer")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: actorlite demo [-db FILE] [-producers N] [-events N]")
		fmt.Fprintln(stderr, "\nWalks through the aiosqlite article with actorlite: events table, concurrent inserts,")
		fmt.Fprintln(stderr, "queries by user and JSON property, rows by column name, a crash survived.")
		fmt.Fprintln(stderr, "\nExample:\n  actorlite demo\n  actorlite demo -db demo.db -producers 64")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
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

	step("1. Start a supervisor and open %s (one connection = one actor)", path)
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))
	db, err := s.Open(ctx, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connection actor %s (WAL, synchronous=NORMAL, busy_timeout=5s)\n", db.PID().Id)

	step("2. Create the events table")
	err = db.ExecScript(ctx, `CREATE TABLE IF NOT EXISTS events (
		id INTEGER PRIMARY KEY,
		user_id TEXT NOT NULL,
		name TEXT NOT NULL,
		properties JSON,
		timestamp DATETIME NOT NULL);
	CREATE INDEX IF NOT EXISTS events_user_ts ON events (user_id, timestamp);`)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "events(id, user_id, name, properties JSON, timestamp DATETIME)")

	step("3. Insert %d events from %d concurrent producers (goroutines; each batch of 100 is one message)", producers*perProducer, producers)
	names := []string{"page_view", "signup", "purchase", "logout"}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := make([][]any, 0, 100)
			flush := func() error {
				_, err := db.ExecMany(ctx, "INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)", rows)
				rows = rows[:0]
				return err
			}
			for i := range perProducer {
				props := json.RawMessage(fmt.Sprintf(`{"plan":%q,"amount":%d}`, []string{"free", "pro"}[i%2], i%100))
				rows = append(rows, []any{fmt.Sprintf("user-%d", p), names[i%len(names)], props, time.Now()})
				if len(rows) == cap(rows) {
					if err := flush(); err != nil {
						errs <- err
						return
					}
				}
			}
			if len(rows) > 0 {
				if err := flush(); err != nil {
					errs <- err
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
	fmt.Fprintf(out, "%d events committed in %v (%.0f events/s, ExecMany batches of 100)\n",
		producers*perProducer, elapsed.Round(time.Millisecond), float64(producers*perProducer)/elapsed.Seconds())

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
		fmt.Fprintf(tw, "%v\t%v\t%v\t%s\t%s\n", id, user, name, props, ts.(time.Time).Format(time.RFC3339))
	}
	tw.Flush()
	row, err := db.QueryRow(ctx, "SELECT count(*), sum(json_extract(properties, '$.amount')) FROM events WHERE json_extract(properties, '$.plan') = ?", "pro")
	if err != nil {
		return err
	}
	var n, total int64
	if err := row.Scan(&n, &total); err != nil {
		return err
	}
	fmt.Fprintf(out, "events with properties.plan = \"pro\": %d (amount total %d)\n", n, total)

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
	fmt.Fprintf(out, "the supervisor restarted it; the same handle still works: %v events, all committed rows intact\n", row.Index(0))

	step("6. Supervisor stats")
	st := s.Stats()
	fmt.Fprintf(out, "%s\n", strings.TrimSpace(fmt.Sprintf("crashes=%d restarts=%d open_conns=%d opened=%d",
		st.Crashes, st.Restarts, st.OpenConns, st.Opened)))
	if err := s.Stop(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "stopped: every connection closed")
	return nil
}
