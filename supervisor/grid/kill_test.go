package grid_test

// The multi-process test: members are this test binary re-run as child processes (one node
// per process, so it runs under -race), on loopback, with the automanaged provider; the test
// process joins as a client.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/grid"
)

const memberEnv = "ACTORLITE_GRID_TEST_MEMBER" // "port,healthPort,dataDir,peer1,peer2,..."

// runMember runs this process as a grid member (see memberEnv): it prints "ready" once
// joined and "members N" whenever its view of the cluster changes, and leaves on SIGTERM.
func runMember(spec string) int {
	parts := strings.Split(spec, ",")
	port, _ := strconv.Atoi(parts[0])
	health, _ := strconv.Atoi(parts[1])
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	m, err := grid.Join(ctx, s, grid.Config{Port: port, HealthPort: health, DataDir: parts[2], Peers: parts[3:]})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready", m.Address())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	tick := time.NewTicker(50 * time.Millisecond)
	last := -1
	for {
		select {
		case <-sig:
			_ = m.Leave(ctx)
			_ = s.Stop(ctx)
			return 0
		case <-tick.C:
			if n := len(m.Members()); n != last {
				last = n
				fmt.Println("members", n)
			}
		}
	}
}

// child is one member process.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	spec  string
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func startChild(t *testing.T, spec string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), memberEnv+"="+spec)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 100), spec: spec}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
}

// ready waits for the child to print "ready", and returns its error line if it prints one
// first (or exits).
func (c *child) ready(d time.Duration) error {
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			switch {
			case !ok:
				return errors.New("member exited before it was ready")
			case strings.HasPrefix(l, "error"):
				return fmt.Errorf("member: %s", l)
			case strings.HasPrefix(l, "ready"):
				return nil
			}
		case <-deadline:
			return fmt.Errorf("member not ready within %v", d)
		}
	}
}

// await waits for the child to print line (a prefix), failing after d.
func (c *child) await(t *testing.T, prefix string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("member exited before %q", prefix)
			}
			if strings.HasPrefix(l, "error") {
				t.Fatalf("member: %s", l)
			}
			if strings.HasPrefix(l, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("member did not print %q within %v", prefix, d)
		}
	}
}

func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four cluster nodes in three processes: about 20 s")
	}
	ctx := t.Context()
	var (
		ports []int
		peers []string
		dirs  = make([]string, 3)
		specs = make([]string, 3)
		kids  = make([]*child, 3)
	)
	// The ports are free when chosen, not when the members bind them: another process may
	// take one meanwhile. Then start again with others.
	for attempt := 0; ; attempt++ {
		ports, peers = freePorts(t, 7), nil
		for i := range 3 {
			peers = append(peers, fmt.Sprintf("127.0.0.1:%d", ports[3+i]))
		}
		for i := range 3 {
			dirs[i] = t.TempDir()
			specs[i] = fmt.Sprintf("%d,%d,%s,%s", ports[i], ports[3+i], dirs[i], strings.Join(peers, ","))
			kids[i] = startChild(t, specs[i])
		}
		var err error
		for _, k := range kids {
			if err = k.ready(60 * time.Second); err != nil {
				break
			}
		}
		if err == nil {
			break
		}
		for _, k := range kids {
			k.kill()
		}
		if attempt == 2 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		t.Logf("starting again: %v", err)
	}
	for _, k := range kids {
		k.await(t, "members 3", 60*time.Second)
	}
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	client, err := grid.Join(ctx, s, grid.Config{Client: true, Port: ports[6], Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Leave(context.Background())
	eventually(t, 30*time.Second, "the client sees 3 members", func() bool { return len(client.Members()) == 3 })

	const tenants = 12
	owner := map[string]int{}
	for i := range tenants {
		name := fmt.Sprintf("k%d", i)
		if err := client.CreateTenant(ctx, name); err != nil {
			t.Fatal(err)
		}
		if err := client.Tenant(name).ExecScript(ctx, `CREATE TABLE w (id INTEGER PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		for j, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, name+".db")); err == nil {
				owner[name] = j
			}
		}
	}
	victim := owner["k0"]
	var theirs []string
	for name, o := range owner {
		if o == victim {
			theirs = append(theirs, name)
		}
	}

	// Writers: every tenant, keyed writes; acked ids are recorded.
	var mu sync.Mutex
	acked := map[string][]int{}
	var nacked atomic.Int64
	wctx, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range tenants {
		name := fmt.Sprintf("k%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := 1; wctx.Err() == nil; id++ {
				cctx, cancel := context.WithTimeout(grid.WithIdempotencyKey(wctx, strconv.Itoa(id)), 2*time.Second)
				_, err := client.Tenant(name).Exec(cctx, `INSERT INTO w (id) VALUES (?)`, id)
				cancel()
				if err == nil {
					mu.Lock()
					acked[name] = append(acked[name], id)
					mu.Unlock()
					nacked.Add(1)
				}
			}
		}()
	}
	eventually(t, 30*time.Second, "writes acked before the kill", func() bool { return nacked.Load() >= 200 })
	kids[victim].kill() // kill -9, in the middle of the writes
	killedAt := time.Now()
	t.Logf("killed member %d (owner of %v) after %d acked writes", victim, theirs, nacked.Load())

	// While it is down, its tenants answer ErrTenantUnavailable, never an empty database;
	// the others keep answering once the client's view of the cluster lost the victim.
	eventually(t, 30*time.Second, "the client sees 2 members", func() bool { return len(client.Members()) == 2 })
	for round := range 3 {
		for _, name := range theirs {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			row, err := client.Tenant(name).QueryRow(cctx, `SELECT count(*) FROM w`)
			cancel()
			if !errors.Is(err, grid.ErrTenantUnavailable) {
				t.Fatalf("round %d: %s while its member is down: %v, %v; want ErrTenantUnavailable", round, name, row, err)
			}
		}
	}
	for name, o := range owner {
		if o != victim {
			if _, err := client.Tenant(name).QueryRow(ctx, `SELECT count(*) FROM w`); err != nil {
				t.Fatalf("%s, on a live member: %v", name, err)
			}
		}
	}
	stopWriters()
	wg.Wait()
	for _, name := range theirs {
		for j, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, name+".db")); err == nil && j != victim {
				t.Fatalf("%s was created on member %d while its owner was down", name, j)
			}
		}
	}

	// Restart at the same address, with the same DataDir: every acked write is there.
	restart := time.Now()
	kids[victim] = startChild(t, specs[victim])
	if err := kids[victim].ready(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	var recovered time.Duration
	eventually(t, 60*time.Second, "the victim's tenants answer again", func() bool {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		for _, name := range theirs {
			if _, err := client.Tenant(name).QueryRow(cctx, `SELECT 1`); err != nil {
				return false
			}
		}
		recovered = time.Since(restart)
		return true
	})
	t.Logf("down %v; after the restart began, its tenants answered in %v", restart.Sub(killedAt), recovered)
	for name := range owner {
		rows, err := client.Tenant(name).QueryAll(ctx, `SELECT id FROM w`)
		if err != nil {
			t.Fatal(err)
		}
		have := map[int64]bool{}
		for _, r := range rows {
			have[r.Index(0).(int64)] = true
		}
		mu.Lock()
		ids := acked[name]
		mu.Unlock()
		for _, id := range ids {
			if !have[int64(id)] {
				t.Fatalf("%s: acked write %d is missing after the restart", name, id)
			}
		}
		if owner[name] == victim && len(ids) == 0 {
			t.Fatalf("%s: no write acked before the kill", name)
		}
	}
}
