package supervisor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// The article's analytics application: events go in through InsertEvent, which returns once
// the event's batch committed, and come back out by name and by a JSON property.
func ExampleSupervisor_InsertEvent() {
	dir, err := os.MkdirTemp("", "actorlite-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "analytics.db")
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn}})
	if err != nil {
		panic(err)
	}
	defer s.Stop(ctx)

	at := time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)
	events := []messages.Event{
		{UserID: "ada", Name: "signup", Properties: json.RawMessage(`{"plan":"pro","ref":"newsletter"}`), Timestamp: at},
		{UserID: "alan", Name: "page_view", Properties: json.RawMessage(`{"page":"/pricing"}`), Timestamp: at.Add(time.Minute)},
		{UserID: "grace", Name: "signup", Properties: json.RawMessage(`{"plan":"free"}`), Timestamp: at.Add(2 * time.Minute)},
		{UserID: "alan", Name: "signup", Properties: json.RawMessage(`{"plan":"pro"}`), Timestamp: at.Add(3 * time.Minute)},
	}
	for _, ev := range events {
		if err := s.InsertEvent(ctx, ev); err != nil { // returns after the commit
			panic(err)
		}
	}

	c, err := s.Open(ctx, dsn) // any connection sees acknowledged events
	if err != nil {
		panic(err)
	}
	rows, err := c.Query(ctx, "SELECT user_id, timestamp FROM events WHERE name = ? ORDER BY timestamp", "signup")
	if err != nil {
		panic(err)
	}
	for row, err := range rows.All(ctx) {
		if err != nil {
			panic(err)
		}
		var user string
		var ts time.Time // DATETIME columns read back as time.Time
		if err := row.Scan(&user, &ts); err != nil {
			panic(err)
		}
		fmt.Println("signup:", user, ts.Format(time.Kitchen))
	}
	row, err := c.QueryRow(ctx, "SELECT count(*), group_concat(user_id ORDER BY user_id) FROM events WHERE json_extract(properties, '$.plan') = ?", "pro")
	if err != nil {
		panic(err)
	}
	fmt.Println("on the pro plan:", row.Index(0), row.Index(1))
	// Output:
	// signup: ada 9:26AM
	// signup: grace 9:28AM
	// signup: alan 9:29AM
	// on the pro plan: 2 ada,alan
}
