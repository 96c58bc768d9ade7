package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/grid"
)

// serveCmd runs a grid member until SIGINT or SIGTERM.
func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "actorlite serve -data DIR -port N -peers HOST:PORT,... [flags]", `
Runs a member of a grid of tenant databases (package supervisor/grid): one SQLite database
per tenant, DIR/<tenant>.db, each owned by one member of the cluster, placed by rendezvous
hashing of its name over the members. Members find each other with protoactor's automanaged
provider: each serves a health endpoint on -port, and -peers lists every member's, its own
included. The member's remote (gRPC) listens on -remote-port (default: -port + 1).

Run the same command on every member, with the same -peers. Reach the tenants with
"actorlite exec -peers ... -tenant NAME SQL" or from Go with grid.Join.

On SIGINT or SIGTERM the member closes its databases and leaves the cluster (grid.Member.Stop):
its tenants are unavailable until it returns at the same address with the same DIR. With -handoff it first hands each
of its tenants' databases to its next owner (grid.Member.Leave).`, `
  actorlite serve -data /tmp/m1 -port 6331 -peers 127.0.0.1:6331,127.0.0.1:6341,127.0.0.1:6351
  actorlite serve -data /tmp/m2 -port 6341 -peers 127.0.0.1:6331,127.0.0.1:6341,127.0.0.1:6351
  actorlite serve -data /tmp/m3 -port 6351 -peers 127.0.0.1:6331,127.0.0.1:6341,127.0.0.1:6351`)
	data := fs.String("data", "", "directory of the tenant databases (created if missing)")
	port := fs.Int("port", 0, "this member's health port: its HOST:PORT in -peers")
	remotePort := fs.Int("remote-port", 0, "the remote (gRPC) port; 0: -port + 1")
	peers := fs.String("peers", "", "every member's health HOST:PORT, comma-separated")
	host := fs.String("host", "127.0.0.1", "the address remote listens on")
	advertise := fs.String("advertise", "", "the host other members reach this one at (default: -host)")
	idle := fs.Duration("idle", 5*time.Minute, "close a tenant idle this long")
	handoff := fs.Bool("handoff", false, "on exit, hand each tenant's database to its next owner")
	pos, err := parseFlags(fs, args, true, stdout, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return &usageError{cmd: "serve", msg: "unexpected arguments: " + strings.Join(pos, " ")}
	case *data == "":
		return &usageError{cmd: "serve", msg: "-data is required"}
	case *port <= 0 || *port > 65534:
		return &usageError{cmd: "serve", msg: "-port is required (1-65534)"}
	case *peers == "":
		return &usageError{cmd: "serve", msg: "-peers is required"}
	}
	if *remotePort == 0 {
		*remotePort = *port + 1
	}
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))
	m, err := grid.Join(ctx, s, grid.Config{DataDir: *data, Host: *host, AdvertisedHost: *advertise, Port: *remotePort,
		HealthPort: *port, Peers: splitList(*peers), IdleTimeout: *idle})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "member %s (health :%d), data %s\n", m.Address(), *port, *data)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		select {
		case <-tick.C:
			if view := strings.Join(m.Members(), " "); view != last {
				last = view
				fmt.Fprintf(stdout, "members: %s\n", view)
			}
			continue
		case <-ctx.Done():
		}
		break
	}
	lctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if *handoff {
		fmt.Fprintln(stdout, "handing tenants off, leaving")
		err = m.Leave(lctx)
	} else {
		fmt.Fprintln(stdout, "stopping: tenants stay here")
		err = m.Stop(lctx)
	}
	return errors.Join(err, s.Stop(context.Background()))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// isGridExec reports whether exec's arguments name a grid (-peers): it then runs on a tenant.
func isGridExec(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-peers" || a == "--peers" || strings.HasPrefix(a, "-peers=") || strings.HasPrefix(a, "--peers=") {
			return true
		}
	}
	return false
}

// gridExecCmd runs one statement on a tenant of a grid, as a client of the cluster.
func gridExecCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exec", "actorlite exec -peers HOST:PORT,... -tenant NAME [-create] [-format table|csv|json] [-text] SQL [ARGS...]", `
Runs one SQL statement on the tenant NAME of a grid (see "actorlite serve -h"), from a client
of the cluster that hosts no tenant, and prints the rows it returns. -peers lists every
member's health HOST:PORT, as serve's does (a client that sees only some members sends their
tenants to the wrong one, which answers "tenant unavailable"). -create creates the tenant
first (an error if it exists). ARGS bind as for a local exec. A statement that returns no rows
prints its changes and last_insert_id, as a local exec does. -timeout bounds the
statement: its deadline reaches the member, which interrupts it.`, `
  actorlite exec -peers 127.0.0.1:6331,127.0.0.1:6341,127.0.0.1:6351 -tenant acme -create "CREATE TABLE t (x)"
  actorlite exec -peers 127.0.0.1:6331,127.0.0.1:6341,127.0.0.1:6351 -tenant acme "INSERT INTO t VALUES (?)" 42
  actorlite exec -peers 127.0.0.1:6331,127.0.0.1:6341,127.0.0.1:6351 -tenant acme -format json "SELECT * FROM t"`)
	peers := fs.String("peers", "", "the members' health HOST:PORT, comma-separated")
	tenant := fs.String("tenant", "", "the tenant to run the statement on")
	create := fs.Bool("create", false, "create the tenant first")
	format := fs.String("format", formatTable, "output format: table, csv or json")
	text := fs.Bool("text", false, "bind every ARG as TEXT, as it is written")
	timeout := fs.Duration("timeout", time.Minute, "the statement's deadline")
	pos, err := parseFlags(fs, args, false, stdout, stderr)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return &usageError{cmd: "exec", msg: err.Error()}
	}
	if *peers == "" || *tenant == "" || len(pos) < 1 {
		return &usageError{cmd: "exec", msg: "want -peers, -tenant and SQL"}
	}
	sql := pos[0]
	var params []any
	if *text {
		for _, a := range pos[1:] {
			params = append(params, a)
		}
	} else {
		params = parseArgs(pos[1:])
	}
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))
	m, err := grid.Join(ctx, s, grid.Config{Client: true, Peers: splitList(*peers)})
	if err != nil {
		return err
	}
	defer m.Leave(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *create {
		if err := m.CreateTenant(ctx, *tenant); err != nil {
			return err
		}
	}
	t := m.Tenant(*tenant)
	cur, err := t.Query(ctx, sql, params...)
	if err != nil {
		return err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	cols := cur.Columns()
	if len(cols) == 0 {
		// It ran and returns no rows (INSERT, CREATE, ...): what it changed, as a local
		// exec prints it.
		res := cur.Result()
		cols = []messages.Column{{Name: "changes"}, {Name: "last_insert_id"}}
		b := messages.NewRowsBuilder(cols, 1)
		b.Int(res.RowsAffected)
		b.Int(res.LastInsertID)
		_, err := writeRows(stdout, *format, true, cols, func(yield func(messages.Row, error) bool) { yield(b.Rows()[0], nil) })
		return err
	}
	_, err = writeRows(stdout, *format, true, cols, cur.All(ctx))
	return err
}
