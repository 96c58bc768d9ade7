package grid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/messages/wire"
	"github.com/actorlite/actorlite/supervisor"
)

// Errors of the grid. Match them with errors.Is; they survive the wire.
var (
	// ErrInvalidTenant is returned for a tenant name outside [A-Za-z0-9_-][A-Za-z0-9._-]{0,127}:
	// such a name never reaches the file system.
	ErrInvalidTenant = errors.New("actorlite: invalid tenant name")
	// ErrTenantExists is returned by CreateTenant for a tenant whose owner has its file.
	ErrTenantExists = errors.New("actorlite: tenant exists")
	// ErrTenantUnavailable is returned for a tenant whose owner has no file for it: it was
	// never created, or its member is down (or did not answer) and its file did not move. A
	// tenant is never created empty by accident.
	ErrTenantUnavailable = errors.New("actorlite: tenant unavailable")
)

// The wire codes of the grid's errors (see wire.EncodeError).
var userErrors = map[int32]error{
	wire.CodeUser:     ErrInvalidTenant,
	wire.CodeUser + 1: ErrTenantExists,
	wire.CodeUser + 2: ErrTenantUnavailable,
}

// Kind is the cluster kind of a tenant: the virtual actor that owns its database on its
// owner member.
const Kind = "actorlite-tenant"

// Bounds of the wire.
const (
	// ReplyBytes is the size a reply of rows aims at: rows are added to a reply until their
	// values (text and blob bytes plus 16 per value) reach it, so cursors, QueryAll and
	// large results travel in chunks of about this size.
	ReplyBytes = 1 << 20
	// MaxRowBytes bounds a single row: a row larger than this cannot cross the wire, and its
	// query fails with an error wrapping messages.ErrBadArgument (read it in parts, with
	// substr or a blob's length, instead).
	MaxRowBytes = 8 << 20
	// MaxRequestBytes bounds a request (its SQL, arguments, events): a larger one is refused
	// before it is sent, with an error wrapping messages.ErrBadArgument. Split it.
	MaxRequestBytes = 8 << 20
	// MaxFrameBytes is the gRPC receive limit every member sets (gRPC's default is 4 MiB: a
	// larger frame kills the connection). protoactor batches up to endpointBatch messages in
	// one frame, so it must hold endpointBatch replies of one row of MaxRowBytes each.
	MaxFrameBytes = endpointBatch*(MaxRowBytes+ReplyBytes) + 1<<20

	endpointBatch = 8
	firstViewWait = 5 * time.Second // how long a call waits for the member's first view
	chunkFile     = 1 << 20         // bytes of a database file per handoff message
)

var tenantName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)

// checkName returns an error wrapping ErrInvalidTenant unless name is a plain file name.
func checkName(name string) error {
	if !tenantName.MatchString(name) {
		return fmt.Errorf("%w: %q (want [A-Za-z0-9_-][A-Za-z0-9._-]{0,127})", ErrInvalidTenant, name)
	}
	return nil
}

// Config configures a member. DataDir is required; every other zero field has a default.
type Config struct {
	ClusterName    string                  // "" → "actorlite"
	Host           string                  // "" → "127.0.0.1"; the address remote listens on
	Port           int                     // 0 → a free port
	AdvertisedHost string                  // "" → Host; the host other members reach this one at
	DataDir        string                  // required; a tenant's database is DataDir/<name>.db
	Provider       cluster.ClusterProvider // nil → automanaged over Peers
	Peers          []string                // automanaged: every member's health "host:port"
	HealthPort     int                     // automanaged: this member's health port
	IdleTimeout    time.Duration           // close a tenant idle this long; 0 → 5m
	Options        []actors.Option         // for every tenant's connection
	// Client joins without hosting tenants: the member reaches every tenant but owns none
	// (a command-line tool, a front end). With automanaged it serves no health endpoint
	// and needs no HealthPort.
	Client bool
}

// Member is this process's place in the cluster: it hosts the tenants that hash to it, and
// reaches every tenant through Tenant. Its methods are safe for concurrent use.
type Member struct {
	sup     *supervisor.Supervisor
	sys     *actor.ActorSystem
	c       *cluster.Cluster
	cfg     Config
	dataDir string
	logger  *slog.Logger
	handoff *actor.PID

	mu      sync.Mutex
	pids    map[string]*actor.PID // tenant → its activation's PID, as last resolved
	active  map[string]*actor.PID // tenants activated on this member
	leaving bool
	left    bool          // set, and gone closed, as the member starts leaving the cluster
	gone    chan struct{} // closed with left: calls waiting for a reply end
	stopped chan struct{} // closed once remote stopped (no reply arrives any more)
	topoSub *eventstream.Subscription
	view    cluster.Members     // the members hosting tenants, from the last topology event
	rdv     *cluster.Rendezvous // over view: a tenant's owner
	ready   chan struct{}       // closed once view first has a member
	seen    sync.Once
}

// Join starts remote and cluster on s's actor system and joins the cluster as a member
// hosting tenants under cfg.DataDir (created if missing). It returns once this member is
// started (protoactor's StartMember takes about a second). One member per actor system.
func Join(ctx context.Context, s *supervisor.Supervisor, cfg Config) (m *Member, err error) {
	if s == nil {
		return nil, errors.New("grid: join: nil supervisor")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("grid: join: %w", err)
	}
	if cfg.DataDir == "" && !cfg.Client {
		return nil, errors.New("grid: join: Config.DataDir is required")
	}
	if cfg.ClusterName == "" {
		cfg.ClusterName = "actorlite"
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.AdvertisedHost == "" {
		cfg.AdvertisedHost = cfg.Host
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	var dataDir string
	if cfg.DataDir != "" {
		if dataDir, err = filepath.Abs(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("grid: join: %w", err)
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("grid: join: %w", err)
		}
	}
	if cfg.Port == 0 {
		// remote advertises AdvertisedHost as the whole address, so the port must be known
		// before it listens.
		if cfg.Port, err = freePort(cfg.Host); err != nil {
			return nil, fmt.Errorf("grid: join: %w", err)
		}
	}
	provider := cfg.Provider
	if provider == nil {
		if len(cfg.Peers) == 0 {
			return nil, errors.New("grid: join: Config.Peers is required with the automanaged provider")
		}
		if cfg.HealthPort == 0 && !cfg.Client {
			return nil, errors.New("grid: join: Config.HealthPort is required with the automanaged provider")
		}
		provider = automanaged.NewWithConfig(time.Second, cfg.HealthPort, cfg.Peers...)
	}
	m = &Member{sup: s, sys: s.System(), cfg: cfg, dataDir: dataDir, logger: s.System().Logger(),
		pids: make(map[string]*actor.PID), active: make(map[string]*actor.PID), ready: make(chan struct{}), gone: make(chan struct{}), stopped: make(chan struct{})}

	addr := net.JoinHostPort(cfg.AdvertisedHost, strconv.Itoa(cfg.Port))
	rcfg := remote.Configure(cfg.Host, cfg.Port,
		remote.WithAdvertisedHost(addr),
		remote.WithEndpointWriterBatchSize(endpointBatch),
		remote.WithServerOptions(grpc.MaxRecvMsgSize(MaxFrameBytes)),
		remote.WithDialOptions(grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxFrameBytes), grpc.MaxCallSendMsgSize(MaxFrameBytes))),
	)
	var opts []cluster.ConfigOption
	if !cfg.Client {
		props := actor.PropsFromProducer(func() actor.Actor { return &grain{m: m} })
		opts = append(opts, cluster.WithKinds(cluster.NewKind(Kind, props)))
	}
	ccfg := cluster.Configure(cfg.ClusterName, provider, disthash.New(), rcfg, opts...)
	m.c = cluster.New(m.sys, ccfg)
	// The view of the cluster comes from its topology events: MemberList.Members reads the
	// list its provider's goroutine writes, without a lock (a data race).
	m.topoSub = m.sys.EventStream.Subscribe(func(ev any) {
		if topo, ok := ev.(*cluster.ClusterTopology); ok {
			var view cluster.Members
			for _, mem := range topo.Members {
				if mem.HasKind(Kind) {
					view = append(view, &cluster.Member{Id: mem.Id, Host: mem.Host, Port: mem.Port, Kinds: slices.Clone(mem.Kinds)})
				}
			}
			rdv := cluster.NewRendezvous()
			rdv.UpdateMembers(view)
			m.mu.Lock()
			m.view, m.rdv = view, rdv
			if len(view) > 0 {
				m.seen.Do(func() { close(m.ready) })
			}
			clear(m.pids) // a tenant may have moved: resolve it again
			m.mu.Unlock()
		}
	})
	// protoactor panics when it cannot start (a port in use, say): an error here.
	start := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("grid: join: %v", r)
			}
		}()
		if cfg.Client {
			m.c.StartClient()
		} else {
			m.c.StartMember()
		}
		return nil
	}
	if err := start(); err != nil {
		m.sys.EventStream.Unsubscribe(m.topoSub)
		if m.c.Remote != nil { // best effort: stop what started (nil inside when it did not)
			func() {
				defer func() { _ = recover() }()
				m.c.Remote.Shutdown(false)
			}()
		}
		return nil, err
	}
	if !cfg.Client {
		m.handoff, err = m.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &receiver{m: m} }), handoffName)
		if err != nil {
			m.shutdown(context.Background())
			return nil, fmt.Errorf("grid: join: %w", err)
		}
	}
	return m, nil
}

// freePort returns a TCP port free on host at the time of the call.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Address returns the member's address in the cluster, "host:port" (remote's).
func (m *Member) Address() string { return m.sys.Address() }

// Members returns the addresses of the members hosting tenants, as this member sees the
// cluster now (sorted). Members learn of each other through the provider: after a member
// joins or fails, their views agree again within a few seconds (automanaged polls every
// second).
func (m *Member) Members() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(m.view))
	for i, mem := range m.view {
		out[i] = mem.Address()
	}
	slices.Sort(out)
	return out
}

// Tenant returns the handle of the tenant name. It does no I/O: the tenant is resolved and
// activated on its owner by its first call. A name that is not a plain file name gives a
// handle whose every call returns an error wrapping ErrInvalidTenant.
func (m *Member) Tenant(name string) *Tenant { return &Tenant{m: m, name: name} }

// CreateTenant creates the tenant name's database, empty, on its owner. It returns an error
// wrapping ErrTenantExists when the owner has its file already (nothing is changed).
func (m *Member) CreateTenant(ctx context.Context, name string) error {
	_, err := m.Tenant(name).call(ctx, "create tenant", &wire.Request{Op: &wire.Request_Create{Create: true}})
	return err
}

// path returns the database file of the tenant name (a checked name).
func (m *Member) path(name string) string { return filepath.Join(m.dataDir, name+".db") }

// resolve returns the PID of name's activation, from the cache or by asking its owner's
// placement actor to activate it. This is what disthash's Manager.Get does, minus its data
// race (it reads the rendezvous table that topology events replace, without a lock) and with
// ctx honoured (it waits 5 s for an answer, without one).
func (m *Member) resolve(ctx context.Context, name string) (*actor.PID, error) {
	m.mu.Lock()
	if m.left {
		m.mu.Unlock()
		return nil, fmt.Errorf("grid: %w: the member left the cluster", messages.ErrClosed)
	}
	pid, rdv := m.pids[name], m.rdv
	m.mu.Unlock()
	if pid != nil {
		return pid, nil
	}
	if rdv == nil {
		// Just joined (a client's first view comes with its provider's first poll): wait a
		// little for it.
		t := time.NewTimer(firstViewWait)
		select {
		case <-m.ready:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		m.mu.Lock()
		rdv = m.rdv
		m.mu.Unlock()
	}
	ci := cluster.NewClusterIdentity(name, Kind)
	owner := ""
	if rdv != nil {
		owner = rdv.GetByClusterIdentity(ci)
	}
	if owner == "" {
		return nil, fmt.Errorf("%w: %q: no member hosts tenants", ErrTenantUnavailable, name)
	}
	f := m.sys.Root.RequestFuture(actor.NewPID(owner, disthash.PartitionActivatorActorName), &cluster.ActivationRequest{ClusterIdentity: ci}, 5*time.Second)
	res, err := m.waitFuture(ctx, f)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, messages.ErrClosed) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %q: its owner %s: %w", ErrTenantUnavailable, name, owner, err)
	}
	if r, ok := res.(*cluster.ActivationResponse); ok && r.Pid != nil {
		pid = r.Pid
	} else {
		return nil, fmt.Errorf("%w: %q: its owner %s did not activate it", ErrTenantUnavailable, name, owner)
	}
	m.mu.Lock()
	m.pids[name] = pid
	m.mu.Unlock()
	return pid, nil
}

// forget drops name's cached PID if it is still pid.
func (m *Member) forget(name string, pid *actor.PID) {
	m.mu.Lock()
	if p := m.pids[name]; p != nil && p.Equal(pid) {
		delete(m.pids, name)
	}
	m.mu.Unlock()
}

// shutdown leaves the cluster: what protoactor's Cluster.Shutdown(true) does, except that it
// does not shut down the actor system, which is the supervisor's (Supervisor.Stop shuts down
// a system it created, and a second Shutdown panics).
func (m *Member) shutdown(ctx context.Context) {
	if m.topoSub != nil {
		m.sys.EventStream.Unsubscribe(m.topoSub)
	}
	if m.handoff != nil {
		_ = m.sys.Root.StopFuture(m.handoff).Wait()
	}
	c := m.c
	if !m.cfg.Client { // a client does not gossip
		c.Gossip.SetState(cluster.GracefullyLeftKey, &emptypb.Empty{})
	}
	func() {
		// automanaged's Shutdown dereferences its health server, which a client has not.
		defer func() { _ = recover() }()
		_ = c.Config.ClusterProvider.Shutdown(true)
	}()
	// Give the gossip a few rounds to spread that this member left (protoactor waits 2 s).
	t := time.NewTimer(3 * c.Config.GossipInterval)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	c.IdentityLookup.Shutdown()
	if !m.cfg.Client {
		c.Gossip.Shutdown()
	}
	c.Remote.Shutdown(true)
}

// stopTenantsIn returns after every tenant activated on this member stopped (closing its
// database), waiting at most until ctx is done.
func (m *Member) stopTenants(ctx context.Context) error {
	m.mu.Lock()
	pids := make([]*actor.PID, 0, len(m.active))
	for _, pid := range m.active {
		pids = append(pids, pid)
	}
	m.mu.Unlock()
	var errs []error
	for _, pid := range pids {
		f := m.sys.Root.PoisonFuture(pid)
		done := make(chan error, 1)
		go func() { done <- f.Wait() }()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, actor.ErrDeadLetter) {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// dbURI returns a "file:" URI for path: mode=rw (never create) unless create.
func dbURI(path string, create bool) string {
	mode := "rw"
	if create {
		mode = "rwc"
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + esc + "?mode=" + mode
}
