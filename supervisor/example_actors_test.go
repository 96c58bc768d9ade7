package supervisor_test

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

// inventory is a program's own actor that keeps its data in a connection it opens by message.
// It never blocks its mailbox: each step continues when its reply comes (actors.Ask, or
// RequestFuture with ReenterAfter).
type inventory struct {
	sup     *actor.PID // the supervisor's
	db      *actor.PID // the connection's, once open
	changed int        // rows the change feed reported
	done    chan struct{}
}

const askTimeout = 5 * time.Second // each request's timeout, and so its Deadline

func (a *inventory) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		// Open by message: the connection lives until a Close message (or Stop).
		f := ctx.RequestFuture(a.sup, &supervisor.OpenConn{DSN: "file:/inventory?vfs=memdb", Name: "inventory"}, askTimeout)
		ctx.ReenterAfter(f, func(res any, err error) {
			if err == nil {
				err = res.(*supervisor.ConnOpened).Err
			}
			if err != nil {
				log.Fatal(err)
			}
			a.db = res.(*supervisor.ConnOpened).PID
			a.setUp(ctx)
		})
	case *messages.RowChanges: // the change feed: one message per commit
		a.changed += len(m.Changes)
	}
}

func (a *inventory) setUp(ctx actor.Context) {
	actors.Ask(ctx, a.db, &messages.SetUpdateHook{Subscriber: ctx.Self()}, askTimeout, func(_ *messages.Ack, err error) {
		must(err)
		actors.Ask(ctx, a.db, &messages.ExecScript{SQL: "CREATE TABLE fruit (name TEXT, price REAL)"}, askTimeout, func(_ *messages.ExecReply, err error) {
			must(err)
			rows := [][]any{{"apple", 0.5}, {"banana", 0.25}, {"cherry", 3.0}}
			actors.Ask(ctx, a.db, &messages.ExecMany{SQL: "INSERT INTO fruit VALUES (?, ?)", Args: rows}, askTimeout, func(r *messages.ExecReply, err error) {
				must(err)
				fmt.Println("inserted", r.Result.RowsAffected)
				a.query(ctx)
			})
		})
	})
}

// query reads the rows two at a time through a cursor.
func (a *inventory) query(ctx actor.Context) {
	var fetch func(r *messages.Rows, err error)
	fetch = func(r *messages.Rows, err error) {
		must(err)
		for _, row := range r.Rows {
			fmt.Println(" ", row.Index(0), row.Index(1))
		}
		if !r.Done {
			actors.Ask(ctx, a.db, &messages.Fetch{Cursor: r.Cursor, N: 2}, askTimeout, fetch)
			return
		}
		a.crash(ctx)
	}
	actors.Ask(ctx, a.db, &messages.Query{SQL: "SELECT name, price FROM fruit ORDER BY name", FetchSize: 2}, askTimeout, fetch)
}

// crash calls a function that panics: the connection answers the request that crashed it, and
// is restarted with its data and its change feed.
func (a *inventory) crash(ctx actor.Context) {
	boom := &messages.CreateFunction{Name: "boom", NArgs: 0, Fn: func([]any) (any, error) { panic("boom") }}
	actors.Ask(ctx, a.db, boom, askTimeout, func(_ *messages.Ack, err error) {
		must(err)
		actors.Ask(ctx, a.db, &messages.Exec{SQL: "SELECT boom()"}, askTimeout, func(_ *messages.ExecReply, err error) {
			fmt.Println("crashed:", errors.Is(err, messages.ErrCrashed))
			actors.Ask(ctx, a.db, &messages.Query{SQL: "SELECT count(*) FROM fruit", OneRow: true}, askTimeout, func(r *messages.Rows, err error) {
				must(err)
				fmt.Println("after the restart:", r.Rows[0].Index(0), "rows;", a.changed, "reported by the change feed")
				actors.Ask(ctx, a.db, &messages.Close{}, askTimeout, func(_ *messages.Ack, err error) {
					must(err)
					close(a.done)
				})
			})
		})
	})
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// A program's own actor opens a connection by message, subscribes to its change feed, writes,
// reads through a cursor, survives a crash it caused, and closes it: it never blocks, and never
// holds a handle.
func Example_fromYourOwnActors() {
	ctx := context.Background()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown()
	s, err := supervisor.Start(ctx, supervisor.Config{System: sys})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop(ctx)

	done := make(chan struct{})
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &inventory{sup: s.PID(), done: done} }))
	defer func() { sys.Root.StopFuture(pid).Wait() }()
	<-done
	// Output:
	// inserted 3
	//   apple 0.5
	//   banana 0.25
	//   cherry 3
	// crashed: true
	// after the restart: 3 rows; 3 reported by the change feed
}
