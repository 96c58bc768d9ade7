package actors_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// startExample starts a supervisor and opens an in-memory database; stop the supervisor when done.
func startExample(ctx context.Context, opts ...actors.Option) (*supervisor.Supervisor, *actors.Conn) {
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

// openExample is startExample with a small table of fruit.
func openExample(ctx context.Context, opts ...actors.Option) (*supervisor.Supervisor, *actors.Conn) {
	s, conn := startExample(ctx, opts...)
	err := conn.ExecScript(ctx, `
		CREATE TABLE fruit (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);
		INSERT INTO fruit (name, price) VALUES ('apple', 0.5), ('banana', 0.25), ('cherry', 3), ('date', 2.5);`)
	if err != nil {
		log.Fatal(err)
	}
	return s, conn
}

func ExampleConn_Exec() {
	ctx := context.Background()
	s, conn := openExample(ctx)
	defer s.Stop(ctx)

	res, err := conn.Exec(ctx, "INSERT INTO fruit (name, price) VALUES (?, ?)", "elderberry", 4.0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("inserted id", res.LastInsertID)

	res, err = conn.Exec(ctx, "UPDATE fruit SET price = price * 2 WHERE price < ?", 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("updated", res.RowsAffected, "rows")
	// Output:
	// inserted id 5
	// updated 2 rows
}

func ExampleConn_Query() {
	ctx := context.Background()
	s, conn := openExample(ctx)
	defer s.Stop(ctx)

	cur, err := conn.Query(ctx, "SELECT name, price FROM fruit WHERE price > ? ORDER BY price", 0.3)
	if err != nil {
		log.Fatal(err)
	}
	defer cur.Close(ctx)
	for _, col := range cur.Columns() {
		fmt.Printf("%s %s\n", col.Name, col.DeclType)
	}
	rows, err := cur.FetchAll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		var name string
		var price float64
		if err := row.Scan(&name, &price); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-6s %.2f\n", name, price)
	}
	// Output:
	// name TEXT
	// price REAL
	// apple  0.50
	// date   2.50
	// cherry 3.00
}

func ExampleConn_QueryRow() {
	ctx := context.Background()
	s, conn := openExample(ctx)
	defer s.Stop(ctx)

	row, err := conn.QueryRow(ctx, "SELECT name, price FROM fruit WHERE id = ?", 2)
	if err != nil {
		log.Fatal(err)
	}
	name, _ := row.Get("name")
	fmt.Println(name, row.Map()["price"])

	_, err = conn.QueryRow(ctx, "SELECT name FROM fruit WHERE id = ?", 42)
	fmt.Println(errors.Is(err, messages.ErrNoRows))
	// Output:
	// banana 0.25
	// true
}

func ExampleCursor_All() {
	ctx := context.Background()
	// A fetch size of 2: the cursor fetches the rows two at a time as the loop reads them.
	s, conn := openExample(ctx, actors.WithFetchSize(2))
	defer s.Stop(ctx)

	cur, err := conn.Query(ctx, "SELECT id, name FROM fruit ORDER BY id")
	if err != nil {
		log.Fatal(err)
	}
	for row, err := range cur.All(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(row.Values()...)
		if name, _ := row.Get("name"); name == "cherry" {
			break // closes the cursor
		}
	}
	// Output:
	// 1 apple
	// 2 banana
	// 3 cherry
}

func ExampleCursor_FetchMany() {
	ctx := context.Background()
	s, conn := openExample(ctx)
	defer s.Stop(ctx)

	cur, err := conn.Query(ctx, "SELECT name FROM fruit ORDER BY name")
	if err != nil {
		log.Fatal(err)
	}
	for {
		rows, err := cur.FetchMany(ctx, 3)
		if err != nil {
			log.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		fmt.Println(rows)
	}
	// Output:
	// [("apple") ("banana") ("cherry")]
	// [("date")]
}

// reporter is an actor that queries a connection by message. It asks with RequestFuture and
// continues with ReenterAfter, so its mailbox is never blocked while the connection works.
type reporter struct {
	conn *actor.PID
	done chan struct{}
}

func (r *reporter) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case string: // a SQL query to report on
		f := ctx.RequestFuture(r.conn, &messages.Query{SQL: m}, 5*time.Second)
		ctx.ReenterAfter(f, func(res any, err error) {
			defer close(r.done)
			if err != nil {
				fmt.Println("no reply:", err)
				return
			}
			rows := res.(*messages.Rows)
			if rows.Err != nil {
				fmt.Println("query failed:", rows.Err)
				return
			}
			for _, row := range rows.Rows {
				fmt.Println(row.Index(0), row.Index(1))
			}
			if !rows.Done { // more rows than the first chunk: free the cursor
				ctx.Send(r.conn, &messages.CloseCursor{Cursor: rows.Cursor})
			}
		})
	}
}

// An actor of the program's own actor system queries a connection with messages.
func Example_actorQuery() {
	ctx := context.Background()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown() // after s.Stop: the supervisor leaves a system it did not create running
	s, err := supervisor.Start(ctx, supervisor.Config{System: sys})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop(ctx)
	conn, err := s.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx) // keep the handle while actors use its PID: a collected Conn is closed
	if err := conn.ExecScript(ctx, `CREATE TABLE fruit (name TEXT, price REAL);
		INSERT INTO fruit VALUES ('apple', 0.5), ('banana', 0.25);`); err != nil {
		log.Fatal(err)
	}

	done := make(chan struct{})
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &reporter{conn: conn.PID(), done: done}
	}))
	defer func() { sys.Root.StopFuture(pid).Wait() }()
	sys.Root.Send(pid, "SELECT name, price FROM fruit ORDER BY name")
	<-done
	// Output:
	// apple 0.5
	// banana 0.25
}
