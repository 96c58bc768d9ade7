// Command commitkill inserts rows through actorlite forever, printing each row's id once its
// INSERT returned (committed). The kill test runs it, kills it with SIGKILL mid-stream, and
// checks that every printed id is in the database.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/actorlite/actorlite/supervisor"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: commitkill DB")
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		fail(err)
	}
	c, err := s.Open(ctx, os.Args[1])
	if err != nil {
		fail(err)
	}
	if err := c.ExecScript(ctx, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		fail(err)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if i%10 == 0 { // also kill inside open transactions
			if err := c.Begin(ctx); err != nil {
				fail(err)
			}
			for j := range 5 {
				if _, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (?)", fmt.Sprint("tx-", i, "-", j)); err != nil {
					fail(err)
				}
			}
			if err := c.Commit(ctx); err != nil {
				fail(err)
			}
			continue
		}
		res, err := c.Exec(ctx, "INSERT INTO t (v) VALUES (?)", fmt.Sprint("row-", i))
		if err != nil {
			fail(err)
		}
		fmt.Fprintln(out, res.LastInsertID)
		out.Flush()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
