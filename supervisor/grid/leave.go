package grid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/messages/wire"
)

// handoffName names every member's receiver of handed-off databases.
const handoffName = "actorlite-grid-handoff"

// handoffWait bounds the wait for the answer to one chunk of a hand-off (a member that
// leaves at the same time may drop it).
const handoffWait = 15 * time.Second

// leftDir is where a member keeps, under its DataDir, the files it handed off: never served
// again, kept for the operator to delete.
const leftDir = ".left"

func (m *Member) register(name string, pid *actor.PID) {
	m.mu.Lock()
	m.active[name] = pid
	m.mu.Unlock()
}

func (m *Member) unregister(name string, pid *actor.PID) {
	m.mu.Lock()
	if p := m.active[name]; p != nil && p.Equal(pid) {
		delete(m.active, name)
	}
	m.mu.Unlock()
}

func (m *Member) isLeaving() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leaving
}

// Leave hands each of this member's tenants to its next owner, then leaves the cluster. For
// each database file in DataDir: its activation, if any, is stopped (closing its database,
// which checkpoints it); the file is streamed in chunks to the member that owns the tenant
// once this one is gone (rendezvous hashing over the other members, as disthash will), which
// checks it (PRAGMA quick_check), puts it in place and activates the tenant there (opening
// the database); then this member moves its copy under
// DataDir/.left. From the start of Leave, this member's tenants answer ErrTenantUnavailable
// (retry: once it has left, they answer from their new owner). A file that could not be
// handed off stays in place, and the error says which; with no other member, every file stays.
// Leave then leaves the cluster (remote stops; the actor system, the supervisor's, is left
// running). Later calls on this member's handles return an error wrapping messages.ErrClosed,
// and so do those still waiting for a reply as it leaves (whether they ran is unknown).
// Leave is idempotent; a done ctx ends the hand-off (files not yet handed stay) but the member
// still leaves.
func (m *Member) Leave(ctx context.Context) error {
	if err := m.leave(ctx, true); err != nil {
		return fmt.Errorf("grid: leave: %w", err)
	}
	return nil
}

// Stop leaves the cluster without handing its tenants off: their files stay in DataDir, and
// the tenants are unavailable (ErrTenantUnavailable) until a member with the same address and
// DataDir joins again (a restart, an upgrade). It stops the tenants' activations, closing
// their databases, then leaves as Leave does. Stop and Leave are idempotent, and only the
// first of them acts.
func (m *Member) Stop(ctx context.Context) error {
	if err := m.leave(ctx, false); err != nil {
		return fmt.Errorf("grid: stop: %w", err)
	}
	return nil
}

func (m *Member) leave(ctx context.Context, handOff bool) error {
	m.mu.Lock()
	if m.leaving {
		m.mu.Unlock()
		return nil
	}
	m.leaving = true
	m.mu.Unlock()
	var errs []error
	if !m.cfg.Client {
		if err := m.stopTenants(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping tenants: %w", err))
		}
		if handOff {
			if err := m.handOff(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// From here, calls fail with ErrClosed, and those waiting for a reply end: once remote
	// stops, their replies could never arrive, and they would wait for their whole timeout.
	m.mu.Lock()
	m.left = true
	close(m.gone)
	m.mu.Unlock()
	m.shutdown(ctx)
	close(m.stopped)
	return errors.Join(errs...)
}

// handOff streams every tenant database of DataDir to its next owner.
func (m *Member) handOff(ctx context.Context) error {
	var others cluster.Members
	m.mu.Lock()
	for _, mem := range m.view {
		if mem.Address() != m.Address() {
			others = append(others, mem)
		}
	}
	m.mu.Unlock()
	entries, err := os.ReadDir(m.dataDir)
	if err != nil {
		return err
	}
	rdv := cluster.NewRendezvous()
	rdv.UpdateMembers(others)
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".db")
		if !ok || !e.Type().IsRegular() || checkName(name) != nil {
			continue
		}
		if len(others) == 0 {
			errs = append(errs, fmt.Errorf("%q: no other member to take it: it stays", name))
			continue
		}
		owner := rdv.GetByClusterIdentity(cluster.NewClusterIdentity(name, Kind))
		if err := m.sendFile(ctx, name, owner); err != nil {
			errs = append(errs, fmt.Errorf("%q to %s: %w", name, owner, err))
		}
	}
	return errors.Join(errs...)
}

// sendFile checkpoints the tenant's database, streams it to owner's receiver, and once the
// owner has it in place, moves the local copy under DataDir/.left.
func (m *Member) sendFile(ctx context.Context, name, owner string) error {
	path := m.path(name)
	conn, err := m.sup.Open(ctx, dbURI(path, false), m.cfg.Options...)
	if err != nil {
		return err
	}
	_, err = conn.QueryRow(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	cerr := conn.Close(context.WithoutCancel(ctx))
	if err = errors.Join(err, cerr); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("checkpoint left a WAL of %d bytes (another connection holds the database)", fi.Size())
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	transfer := hex.EncodeToString(idb[:])
	pid := actor.NewPID(owner, handoffName)
	buf := make([]byte, chunkFile)
	for off := int64(0); ; {
		n, err := io.ReadFull(f, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		last := off+int64(n) >= fi.Size()
		chunk := &wire.HandoffChunk{Tenant: name, Transfer: transfer, Offset: off, Data: buf[:n], Last: last, Size: fi.Size()}
		res, err := m.waitFuture(ctx, m.sys.Root.RequestFuture(pid, chunk, handoffWait))
		if err != nil {
			return err
		}
		ack, ok := res.(*wire.HandoffAck)
		if !ok {
			return fmt.Errorf("%w: a reply of type %T", messages.ErrUnknownRequest, res)
		}
		if err := wire.DecodeError(ack.GetError(), userErrors); err != nil {
			return err
		}
		off += int64(n)
		if last {
			break
		}
	}
	dir := filepath.Join(m.dataDir, leftDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return os.Rename(path, filepath.Join(dir, fmt.Sprintf("%s.db.%d", name, time.Now().UnixNano())))
}

var transferID = regexp.MustCompile(`^[0-9a-f]{1,32}$`)

// receiver takes databases handed off by leaving members: it writes each to a temporary file
// beside its final place, checks it and renames it into place, never over an existing file.
type receiver struct {
	m     *Member
	files map[string]*os.File // transfer → its temporary file
}

func (r *receiver) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		r.files = make(map[string]*os.File)
	case *actor.Stopping:
		for _, f := range r.files {
			f.Close()
			os.Remove(f.Name())
		}
	case *wire.HandoffChunk:
		err := r.chunk(msg)
		if err != nil {
			if f := r.files[msg.GetTransfer()]; f != nil {
				f.Close()
				os.Remove(f.Name())
				delete(r.files, msg.GetTransfer())
			}
		}
		ctx.Respond(&wire.HandoffAck{Error: wire.EncodeError(err, userErrors)})
	}
}

func (r *receiver) chunk(c *wire.HandoffChunk) error {
	name, id := c.GetTenant(), c.GetTransfer()
	if err := checkName(name); err != nil {
		return err
	}
	if !transferID.MatchString(id) {
		return fmt.Errorf("%w: transfer id %q", messages.ErrBadArgument, id)
	}
	if r.m.isLeaving() {
		return fmt.Errorf("%w: %q: this member is leaving too", ErrTenantUnavailable, name)
	}
	final := r.m.path(name)
	f := r.files[id]
	if c.GetOffset() == 0 && f == nil {
		if _, err := os.Stat(final); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %q is already here", ErrTenantExists, name)
		}
		var err error
		if f, err = os.OpenFile(final+".handoff-"+id, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640); err != nil {
			return err
		}
		r.files[id] = f
	}
	if f == nil {
		return fmt.Errorf("%w: transfer %s: no chunk at offset 0", messages.ErrBadArgument, id)
	}
	if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != c.GetOffset() {
		return fmt.Errorf("%w: transfer %s: chunk at %d, expected %d", messages.ErrBadArgument, id, c.GetOffset(), pos)
	}
	if _, err := f.Write(c.GetData()); err != nil {
		return err
	}
	if !c.GetLast() {
		return nil
	}
	delete(r.files, id)
	err := f.Sync()
	if pos, _ := f.Seek(0, io.SeekCurrent); err == nil && pos != c.GetSize() {
		err = fmt.Errorf("%w: transfer %s: %d bytes received of %d", messages.ErrBadArgument, id, pos, c.GetSize())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.check(f.Name())
	}
	if err == nil {
		if _, serr := os.Stat(final); !errors.Is(serr, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %q is already here", ErrTenantExists, name)
		}
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	if d, err := os.Open(r.m.dataDir); err == nil {
		_ = d.Sync() // the rename is durable
		d.Close()
	}
	r.activate(name)
	return nil
}

// activate activates the tenant name on this member, its next owner, and opens its
// database, as its first request would: best effort (the file is in place: a failure here
// is only a cold start later).
func (r *receiver) activate(name string) {
	ci := cluster.NewClusterIdentity(name, Kind)
	res, err := r.m.sys.Root.RequestFuture(actor.NewPID(r.m.Address(), disthash.PartitionActivatorActorName),
		&cluster.ActivationRequest{ClusterIdentity: ci}, 5*time.Second).Result()
	act, ok := res.(*cluster.ActivationResponse)
	if err != nil || !ok || act.Pid == nil {
		return
	}
	q := &wire.Request{Op: &wire.Request_Query{Query: &wire.Query{Statement: &wire.Statement{Sql: []byte("SELECT 1")}, OneRow: true}}}
	_, _ = r.m.sys.Root.RequestFuture(act.Pid, q, 10*time.Second).Result()
}

// check opens a received database and runs PRAGMA quick_check on it.
func (r *receiver) check(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := r.m.sup.Open(ctx, dbURI(path, false), r.m.cfg.Options...)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	row, err := conn.QueryRow(ctx, "PRAGMA quick_check")
	if err != nil {
		return err
	}
	var res string
	if err := row.Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("%w: quick_check: %s", messages.ErrCorrupt, res)
	}
	return nil
}
