// Package grid spreads tenant databases over a protoactor-go cluster: one SQLite database per
// tenant (a customer, a workspace), each owned by one member at a time, as a virtual actor
// (Cloudflare Durable Objects' shape): addressable by name, activated on first use on the
// member that owns it, single-threaded, closed when idle. The engine is protoactor's own:
// remote (gRPC) carries the requests, cluster with the disthash identity lookup (rendezvous
// hashing of the tenant's name over the members' addresses) places the tenants, and a cluster
// provider finds the members (automanaged, which needs no external service, by default; the
// test provider runs several members in one process).
//
//	s, _ := supervisor.Start(ctx, supervisor.Config{})
//	m, err := grid.Join(ctx, s, grid.Config{DataDir: "data", Port: 7001, HealthPort: 6331,
//		Peers: []string{"10.0.0.1:6331", "10.0.0.2:6331", "10.0.0.3:6331"}})
//	err = m.CreateTenant(ctx, "acme")
//	acme := m.Tenant("acme")
//	_, err = acme.Exec(grid.WithIdempotencyKey(ctx, "order-17"), "INSERT INTO orders (id) VALUES (?)", 17)
//	rows, err := acme.QueryAll(ctx, "SELECT * FROM orders")
//	defer m.Leave(ctx)
//
// A member is stopped with Leave (hand its tenants to the other members) or Stop (keep them,
// to return at the same address), before its supervisor's Stop. A Config.Client member
// reaches every tenant but hosts none (a command-line tool, a front end).
//
// With automanaged, every member serves a health endpoint on HealthPort, on all interfaces
// (protoactor binds it to 0.0.0.0), and polls every peer's each second; Peers must list every
// member, the same on each: a member or client that sees only some members sends their
// tenants to the wrong one, which answers ErrTenantUnavailable. Traffic between members is
// plaintext gRPC: run them on a private network.
//
// Only importers of this package pay for gRPC (and about 5 MB of binary): the root packages
// never import remote or cluster.
//
// # A tenant
//
// A tenant's database is DataDir/<name>.db on its owner, opened through the member's
// supervisor (a supervised connection, with Config.Options) on the tenant's first request,
// and closed (with its cursors and events writer) after IdleTimeout without requests. The
// activation itself stays (an actor with no goroutine: its mailbox and a small struct) until
// the tenant moves or its member stops or leaves, because protoactor silently drops the
// messages left in a stopping actor's mailbox: a request racing an idle stop would be lost.
// A member's memory therefore grows with the number of tenants it activated. Its requests
// run one at a time, in arrival order. Names are [A-Za-z0-9_-][A-Za-z0-9._-]{0,127};
// any other name is ErrInvalidTenant and never reaches the file system. A tenant exists once
// CreateTenant made its file; a member that has no file for a tenant it owns answers
// ErrTenantUnavailable and never creates one (the database is opened with mode=rw).
//
// Values and errors survive the wire: arguments as actors.Conn binds them, rows as a local
// query returns them (DATETIME as time.Time, BOOLEAN as bool, JSON as json.RawMessage), and
// errors.Is holds on the caller's side for package messages' sentinels (ErrConstraint,
// ErrNoRows, ...), for context.DeadlineExceeded and for this package's errors. errors.As for
// typed errors does not (the text is kept).
//
// The ctx's deadline crosses the wire (as an instant: members' clocks are assumed in sync):
// the tenant skips a request whose deadline passed and interrupts a running statement when it
// passes. A ctx cancelled without a deadline ends the caller's wait only; the remote
// statement runs on, until its end or a minute: a call whose ctx has no deadline gets one
// a minute away, on both sides (a statement that never ends would otherwise hold its
// tenant for good). A call that gets no reply in time returns an error wrapping ErrTenantUnavailable:
// whether a write ran is then unknown, so writes that may be retried carry an idempotency key
// (WithIdempotencyKey): the tenant records the key with the first result in the write's own
// transaction, and answers a retry with that result without running it again. protoactor's
// remote may itself deliver a request twice (it re-sends a batch after a reconnect), so a key
// is the only way to get at-most-once. The keys live in the tenant's own database, in a table
// named _actorlite_idempotency (pruned of keys older than 24 hours).
//
// Transactions over the wire are Batch only: its statements run in one BEGIN IMMEDIATE
// transaction, all or nothing. ExecMany also runs in one transaction. A statement or script
// that leaves a transaction open (BEGIN without COMMIT) is rolled back and fails with
// messages.ErrBadArgument: left open, it would hold every later request of the tenant. A
// tenant's SQL reaches its own file only: ATTACH is denied (messages.ErrNotAuthorized).
//
// # Bounds
//
// A reply of rows holds about ReplyBytes (1 MiB): Query's first reply, each FetchMany, and
// each step of QueryAll and Cursor.All, so results of any size arrive whole, in chunks. A
// single row is at most MaxRowBytes (8 MiB), a request at most MaxRequestBytes (8 MiB); both
// are refused with an error wrapping messages.ErrBadArgument, before anything is sent. Every
// member raises gRPC's receive limit to MaxFrameBytes (gRPC's 4 MiB default kills the
// connection on a larger frame, and protoactor packs several messages in one frame). A
// tenant holds at most MaxCursors open cursors; the least recently used is closed past it.
// An open cursor holds a read snapshot, which blocks WAL checkpoints: close cursors.
// InsertEvents without a key goes to the tenant's events writer (actorlite's, with its
// bounds: supervisor.EventsConfig's defaults), which commits concurrent callers' events
// together.
//
// # Limits
//
// Stated plainly, these are what this package does not do:
//   - No replicas. A tenant lives in one file on one member: while that member is down, the
//     tenant answers ErrTenantUnavailable (never an empty database), and its data is back
//     when the member restarts at the same address with the same DataDir.
//   - No fencing during a topology disagreement. Members learn of each other through their
//     provider and gossip; while two members disagree about who owns a tenant (seconds, after
//     a member joins, fails or leaves), each may activate it. Reads and writes still reach
//     only a file that exists, but a tenant created during a disagreement may be created on
//     the wrong member, and be unreachable later.
//   - Data moves only on Leave (which hands each database to its next owner), or returns
//     with its member at the same address. A member that fails for good moves no data: its
//     tenants are unavailable until an operator moves their files to their new owners'
//     DataDirs. A member that joins moves no data either: the tenants that now hash to it
//     (about 1/N of them) are unavailable until their files are moved to it (from the
//     .db files of the members that owned them). Plan the members up front, and change
//     them by Leave, or with the files moved by hand while the tenants are quiet.
package grid
