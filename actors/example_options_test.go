package actors_test

import (
	"context"
	"fmt"
	"log"

	"github.com/actorlite/actorlite/actors"
)

// Full-text search over event names with FTS5.
func ExampleWithFTS5() {
	ctx := context.Background()
	s, conn := startExample(ctx, actors.WithFTS5())
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
	s, conn := startExample(ctx, actors.WithRTree())
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
	s, conn := startExample(ctx)
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
