//go:build !race

package grid_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/grid"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
)

// A member of a cluster (here alone, over protoactor's in-memory test provider; in
// production, automanaged over Peers): create a tenant, write with an idempotency key, read,
// and see a missing tenant fail closed.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "grid-example")
	defer os.RemoveAll(dir)

	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Stop(ctx)
	m, err := grid.Join(ctx, s, grid.Config{DataDir: dir, Provider: test.NewTestProvider(test.NewInMemAgent())})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Leave(ctx)

	if err := m.CreateTenant(ctx, "acme"); err != nil {
		fmt.Println(err)
		return
	}
	acme := m.Tenant("acme")
	if err := acme.ExecScript(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)"); err != nil {
		fmt.Println(err)
		return
	}
	// A retry with the same key returns the first result and inserts nothing.
	kctx := grid.WithIdempotencyKey(ctx, "order-1")
	for range 2 {
		res, err := acme.Exec(kctx, "INSERT INTO orders (item) VALUES (?)", "anvil")
		fmt.Println(res.LastInsertID, err)
	}
	row, err := acme.QueryRow(ctx, "SELECT count(*) FROM orders")
	fmt.Println(row.Index(0), err)

	_, err = m.Tenant("globex").QueryRow(ctx, "SELECT 1")
	fmt.Println(errors.Is(err, grid.ErrTenantUnavailable))
	_, err = acme.QueryRow(ctx, "SELECT item FROM orders WHERE id = 2")
	fmt.Println(errors.Is(err, messages.ErrNoRows))
	// Output:
	// 1 <nil>
	// 1 <nil>
	// 1 <nil>
	// true
	// true
}
