package supervisor_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// The package doc's first example, run as it is written (TestPackageDocExample keeps the two
// in step): an event through the events writer, a row through a connection, both read back.
func Example() {
	dir, err := os.MkdirTemp("", "actorlite-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "app.db")
	ctx := context.Background()

	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop(ctx)
	err = s.InsertEvent(ctx, messages.Event{UserID: "u1", Name: "signup"})
	if err != nil {
		log.Fatal(err)
	}
	db, err := s.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	_, err = db.Exec(ctx, "INSERT INTO events (user_id, name, timestamp) VALUES (?, ?, ?)", "u2", "signup", time.Now())
	if err != nil {
		log.Fatal(err)
	}
	cur, err := db.Query(ctx, "SELECT * FROM events WHERE name = ?", "signup")
	if err != nil {
		log.Fatal(err)
	}
	rows, err := cur.FetchAll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		user, _ := row.Get("user_id")
		fmt.Println(user)
	}
	// Output:
	// u1
	// u2
}
