package supervisor_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/actorlite/actorlite/supervisor"
)

func ExampleStart() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "actorlite-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop(ctx)

	db, err := s.Open(ctx, filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	if err := db.ExecScript(ctx, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		log.Fatal(err)
	}
	res, err := db.Exec(ctx, "INSERT INTO users (name) VALUES (?)", "ada")
	if err != nil {
		log.Fatal(err)
	}
	row, err := db.QueryRow(ctx, "SELECT name FROM users WHERE id = ?", res.LastInsertID)
	if err != nil {
		log.Fatal(err)
	}
	name, _ := row.Get("name")
	fmt.Println(res.LastInsertID, name, s.Stats().OpenConns)
	// Output: 1 ada 1
}
