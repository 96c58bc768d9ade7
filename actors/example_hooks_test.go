package actors_test

import (
	"context"
	"fmt"
	"log"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

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
	s, conn := startExample(ctx)
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
