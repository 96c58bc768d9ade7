package actors_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"slices"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// xExample starts a supervisor and opens an in-memory database; stop the supervisor when done.
func xExample(ctx context.Context, opts ...actors.Option) (*supervisor.Supervisor, *actors.Conn) {
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := s.Open(ctx, ":memory:", opts...)
	if err != nil {
		log.Fatal(err)
	}
	return s, conn
}

// median is an aggregate: the median of a group's numbers.
type median struct{ xs []float64 }

func (m *median) Step(args []any) error {
	switch v := args[0].(type) {
	case int64:
		m.xs = append(m.xs, float64(v))
	case float64:
		m.xs = append(m.xs, v)
	case nil: // NULLs do not count, as in avg()
	default:
		return fmt.Errorf("median of a %T", v)
	}
	return nil
}

func (m *median) Final() (any, error) {
	if len(m.xs) == 0 {
		return nil, nil
	}
	slices.Sort(m.xs)
	n := len(m.xs)
	if n%2 == 1 {
		return m.xs[n/2], nil
	}
	return (m.xs[n/2-1] + m.xs[n/2]) / 2, nil
}

func ExampleConn_CreateAggregate() {
	ctx := context.Background()
	s, conn := xExample(ctx)
	defer s.Stop(ctx)
	err := conn.CreateAggregate(ctx, "median", 1, func() actors.Aggregate { return &median{} }, actors.Deterministic())
	if err != nil {
		log.Fatal(err)
	}
	err = conn.ExecScript(ctx, `CREATE TABLE latency (endpoint TEXT, ms INTEGER);
		INSERT INTO latency VALUES ('/login', 12), ('/login', 30), ('/login', 14),
			('/search', 80), ('/search', 20), ('/search', 45), ('/search', 50)`)
	if err != nil {
		log.Fatal(err)
	}
	rows, err := conn.QueryAll(ctx, "SELECT endpoint, median(ms) FROM latency GROUP BY endpoint ORDER BY endpoint")
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		fmt.Println(row.Index(0), row.Index(1))
	}
	// Output:
	// /login 14
	// /search 47.5
}

// movingAvg is a window function: the average of the integers in the window frame.
type movingAvg struct{ sum, n int64 }

func (m *movingAvg) Step(args []any) error    { m.sum += args[0].(int64); m.n++; return nil }
func (m *movingAvg) Inverse(args []any) error { m.sum -= args[0].(int64); m.n--; return nil }
func (m *movingAvg) Value() (any, error)      { return float64(m.sum) / float64(m.n), nil }
func (m *movingAvg) Final() (any, error)      { return m.Value() }

func ExampleConn_CreateWindowFunction() {
	ctx := context.Background()
	s, conn := xExample(ctx)
	defer s.Stop(ctx)
	err := conn.CreateWindowFunction(ctx, "moving_avg", 1, func() actors.WindowAggregate { return &movingAvg{} })
	if err != nil {
		log.Fatal(err)
	}
	rows, err := conn.QueryAll(ctx, `SELECT day, signups,
			moving_avg(signups) OVER (ORDER BY day ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
		FROM (SELECT value AS day, value * value % 7 AS signups FROM generate_series(1, 6))`)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		fmt.Printf("day %d: %d signups, 3-day average %.2f\n", row.Index(0), row.Index(1), row.Index(2))
	}
	// Output:
	// day 1: 1 signups, 3-day average 1.00
	// day 2: 4 signups, 3-day average 2.50
	// day 3: 2 signups, 3-day average 2.33
	// day 4: 2 signups, 3-day average 2.67
	// day 5: 4 signups, 3-day average 2.67
	// day 6: 1 signups, 3-day average 2.33
}

// changeFeed is an actor that receives a connection's committed changes: one message per
// commit.
type changeFeed struct{ commits chan<- *messages.RowChanges }

func (f *changeFeed) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*messages.RowChanges); ok {
		f.commits <- m
	}
}

func ExampleConn_SetUpdateHook() {
	ctx := context.Background()
	s, conn := xExample(ctx)
	defer s.Stop(ctx)
	commits := make(chan *messages.RowChanges, 16)
	root := s.System().Root
	feed := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &changeFeed{commits: commits} }))
	defer func() { root.StopFuture(feed).Wait() }()

	if _, err := conn.Exec(ctx, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"); err != nil {
		log.Fatal(err)
	}
	if err := conn.SetUpdateHook(ctx, feed); err != nil {
		log.Fatal(err)
	}
	// Committed: sent, one message per commit. Rolled back: never sent.
	err := conn.ExecScript(ctx, `INSERT INTO users (name) VALUES ('ann'), ('bob');
		BEGIN; DELETE FROM users; ROLLBACK;
		UPDATE users SET name = 'Bob' WHERE id = 2;
		DELETE FROM users WHERE id = 1`)
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		m := <-commits
		fmt.Printf("%s committed %d:\n", m.DSN, len(m.Changes))
		for _, rc := range m.Changes {
			fmt.Println(" ", rc.Op, rc.Table, rc.RowID)
		}
	}
	// Output:
	// :memory: committed 2:
	//   INSERT users 1
	//   INSERT users 2
	// :memory: committed 1:
	//   UPDATE users 2
	// :memory: committed 1:
	//   DELETE users 1
}

func ExampleConn_OpenBlob() {
	ctx := context.Background()
	s, conn := xExample(ctx)
	defer s.Stop(ctx)
	// A blob cannot grow: make room with zeroblob, then write into it.
	if _, err := conn.Exec(ctx, "CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB)"); err != nil {
		log.Fatal(err)
	}
	res, err := conn.Exec(ctx, "INSERT INTO files (data) VALUES (zeroblob(11))")
	if err != nil {
		log.Fatal(err)
	}
	blob, err := conn.OpenBlob(ctx, "files", "data", res.LastInsertID, true)
	if err != nil {
		log.Fatal(err)
	}
	defer blob.Close()
	if _, err := io.WriteString(blob, "hello world"); err != nil {
		log.Fatal(err)
	}
	if _, err := blob.Seek(6, io.SeekStart); err != nil {
		log.Fatal(err)
	}
	word, err := io.ReadAll(blob)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(blob.Size(), string(word))
	// Output:
	// 11 world
}

func ExampleConn_Dump() {
	ctx := context.Background()
	s, conn := xExample(ctx)
	defer s.Stop(ctx)
	err := conn.ExecScript(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, data BLOB);
		INSERT INTO notes (body, data) VALUES ('it''s done', x'cafe'), (NULL, NULL);
		CREATE INDEX notes_body ON notes (body);
		CREATE VIEW bodies AS SELECT body FROM notes`)
	if err != nil {
		log.Fatal(err)
	}
	if err := conn.Dump(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// PRAGMA foreign_keys=OFF;
	// BEGIN TRANSACTION;
	// CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, data BLOB);
	// INSERT INTO "notes"("id","body","data") VALUES(1,'it''s done',X'CAFE');
	// INSERT INTO "notes"("id","body","data") VALUES(2,NULL,NULL);
	// CREATE INDEX notes_body ON notes (body);
	// CREATE VIEW bodies AS SELECT body FROM notes;
	// COMMIT;
}

// Full-text search over event names with FTS5.
func ExampleWithFTS5() {
	ctx := context.Background()
	s, conn := xExample(ctx, actors.WithFTS5())
	defer s.Stop(ctx)
	err := conn.ExecScript(ctx, `CREATE TABLE events (id INTEGER PRIMARY KEY, user_id TEXT, name TEXT);
		INSERT INTO events (user_id, name) VALUES
			('u1', 'signup completed'), ('u2', 'checkout started'), ('u1', 'checkout completed'),
			('u3', 'password reset'), ('u2', 'checkout abandoned');
		-- an index of the names that reads their text from events itself
		CREATE VIRTUAL TABLE event_names USING fts5(name, content='events', content_rowid='id');
		INSERT INTO event_names (event_names) VALUES ('rebuild')`)
	if err != nil {
		log.Fatal(err)
	}
	for _, q := range []string{"checkout", "completed NOT signup", "pass*"} {
		rows, err := conn.QueryAll(ctx, `SELECT e.user_id, e.name FROM event_names
			JOIN events e ON e.id = event_names.rowid
			WHERE event_names MATCH ? ORDER BY e.id`, q)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s:", q)
		for _, row := range rows {
			fmt.Printf(" %s(%s)", row.Index(1), row.Index(0))
		}
		fmt.Println()
	}
	// Output:
	// checkout: checkout started(u2) checkout completed(u1) checkout abandoned(u2)
	// completed NOT signup: checkout completed(u1)
	// pass*: password reset(u3)
}

// Spatial lookups with an R*Tree index.
func ExampleWithRTree() {
	ctx := context.Background()
	s, conn := xExample(ctx, actors.WithRTree())
	defer s.Stop(ctx)
	err := conn.ExecScript(ctx, `CREATE VIRTUAL TABLE zones USING rtree(id, min_x, max_x, min_y, max_y);
		INSERT INTO zones VALUES (1, 0, 10, 0, 10), (2, 5, 15, 5, 15), (3, 20, 30, 0, 5)`)
	if err != nil {
		log.Fatal(err)
	}
	// The zones containing the point (7, 8).
	rows, err := conn.QueryAll(ctx, `SELECT id FROM zones
		WHERE min_x <= ?1 AND max_x >= ?1 AND min_y <= ?2 AND max_y >= ?2 ORDER BY id`, 7, 8)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		fmt.Println("zone", row.Index(0))
	}
	// Output:
	// zone 1
	// zone 2
}

// SQLite's math functions are built in: no option needed.
func Example_mathFunctions() {
	ctx := context.Background()
	s, conn := xExample(ctx)
	defer s.Stop(ctx)
	row, err := conn.QueryRow(ctx, "SELECT sqrt(2), pow(2, 10), log10(1000), ceil(1.2), round(pi(), 4)")
	if err != nil {
		log.Fatal(err)
	}
	var sqrt2, pow, log10, ceil, pi float64
	if err := row.Scan(&sqrt2, &pow, &log10, &ceil, &pi); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sqrt(2)=%.6f pow(2,10)=%g log10(1000)=%g ceil(1.2)=%g pi=%g\n", sqrt2, pow, log10, ceil, pi)
	// Output:
	// sqrt(2)=1.414214 pow(2,10)=1024 log10(1000)=3 ceil(1.2)=2 pi=3.1416
}
