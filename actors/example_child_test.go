package actors_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// dbParent is a program's own supervising actor: it spawns a connection actor as its child,
// under its own strategy, with no actorlite supervisor at all.
type dbParent struct {
	child   *actors.Child
	spawned chan *actor.PID
}

func (p *dbParent) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		p.spawned <- ctx.Spawn(p.child.Props())
	}
}

// A program that builds its own supervision tree spawns a connection actor under its own
// parent. The connection answers the request that crashes it whatever the strategy above it;
// here the strategy restarts it, and the handle keeps working.
func ExampleNewChild() {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	decided := make(chan any, 1)
	restarts := actor.NewOneForOneStrategy(3, time.Minute, func(reason any) actor.Directive {
		decided <- reason // an *actors.Crash, already answered
		return actor.RestartDirective
	})
	child := actors.NewChild(actors.ChildConfig{System: sys}, filepath.Join(dir, "app.db"))
	p := &dbParent{child: child, spawned: make(chan *actor.PID, 1)}
	parent := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }, actor.WithSupervisor(restarts)))
	defer func() { sys.Root.StopFuture(parent).Wait() }()
	child.Bind(<-p.spawned)
	conn := child.NewHandle()
	ctx := context.Background()
	defer conn.Close(ctx)

	if err := conn.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("boom") }); err != nil {
		log.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELECT boom()")
	fmt.Println("crashed:", errors.Is(err, messages.ErrCrashed))
	row, err := conn.QueryRow(ctx, "SELECT 'restarted'")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(row.Index(0))
	fmt.Println("the parent restarted it after:", (<-decided).(*actors.Crash).Err.Panic)
	// Output:
	// crashed: true
	// restarted
	// the parent restarted it after: boom
}
