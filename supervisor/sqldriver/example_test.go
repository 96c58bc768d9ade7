package sqldriver_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

// Plain database/sql: sql.Open uses a process-wide supervisor, stopped by the last Close.
func Example() {
	dir, _ := os.MkdirTemp("", "sqldriver")
	defer os.RemoveAll(dir)
	db, err := sql.Open(sqldriver.DriverName, filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// Without arguments, one Exec may hold several statements.
	_, err = db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, joined DATETIME);
		CREATE INDEX users_name ON users (name);`)
	if err != nil {
		log.Fatal(err)
	}
	joined := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := db.Exec("INSERT INTO users (name, joined) VALUES (:name, :joined)",
		sql.Named("name", "ada"), sql.Named("joined", joined))
	if err != nil {
		log.Fatal(err)
	}
	id, _ := res.LastInsertId()

	// A read-then-write transaction holds the writer: it never fails with "database is locked".
	tx, err := db.Begin()
	if err != nil {
		log.Fatal(err)
	}
	var name string
	if err := tx.QueryRow("SELECT name FROM users WHERE id = ?", id).Scan(&name); err != nil {
		log.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE users SET name = ? WHERE id = ?", name+" lovelace", id); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	var at time.Time // DATETIME scans as time.Time
	if err := db.QueryRow("SELECT name, joined FROM users WHERE id = ?", id).Scan(&name, &at); err != nil {
		log.Fatal(err)
	}
	fmt.Println(id, name, at)
	// Output: 1 ada lovelace 2026-01-02 03:04:05 +0000 UTC
}

// A program with its own supervisor: its *sql.DB and its own pool on the same database share
// one writer, so a database/sql transaction and a Pool.Tx queue on the same lock.
func ExampleNewConnector() {
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop(ctx)
	dir, _ := os.MkdirTemp("", "sqldriver")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.db")

	ctr, err := sqldriver.NewConnector(s, path)
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	defer db.Close()
	pool, err := s.OpenPool(ctx, path, 2)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close(ctx)

	if _, err := db.Exec("CREATE TABLE hits (n INTEGER)"); err != nil {
		log.Fatal(err)
	}
	err = pool.Tx(ctx, func(c *actors.Conn) error {
		_, err := c.Exec(ctx, "INSERT INTO hits VALUES (1)")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM hits").Scan(&n); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 1
}

// sql.Conn.Raw reaches the actors underneath: here a user function, registered on every
// connection of the pool.
func ExampleConn_Pool() {
	dir, _ := os.MkdirTemp("", "sqldriver")
	defer os.RemoveAll(dir)
	db, err := sql.Open(sqldriver.DriverName, filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		return dc.(*sqldriver.Conn).Pool().CreateFunction(ctx, "shout", 1, func(args []any) (any, error) {
			return fmt.Sprint(args[0], "!"), nil
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	var s string
	if err := conn.QueryRowContext(ctx, "SELECT shout('hello')").Scan(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output: hello!
}
