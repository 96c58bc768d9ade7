package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Resident memory per idle connection is measured in a fresh process for each system (this
// binary again, with -memchild), so that what earlier workloads left in the heap cannot hide
// or inflate it: open one connection (so the driver's one-time costs are paid), collect
// garbage and return freed memory to the OS (debug.FreeOSMemory), read the resident set size
// from /proc/self/statm, open n more connections and run SELECT 1 on each, collect again, read
// it again: (after − before) / n. The connections are held open throughout.

// residentBytes returns the process's resident set size, from /proc/self/statm.
func residentBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("unexpected /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()), err
}

func settledRSS() (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	return residentBytes()
}

// memoryChild runs in the child process: it prints the sample as JSON on stdout.
func memoryChild(ctx context.Context, sysID, path string, n int) error {
	sys, ok := systemByID(sysID)
	if !ok || sys.start == nil {
		return fmt.Errorf("unknown Go system %q", sysID)
	}
	eng, err := sys.start(ctx, path)
	if err != nil {
		return err
	}
	defer eng.stop(ctx)
	openOne := func() (dbConn, error) {
		c, err := eng.open(ctx)
		if err != nil {
			return nil, err
		}
		return c, c.selectOne(ctx)
	}
	first, err := openOne()
	if err != nil {
		return err
	}
	defer first.close(ctx)
	before, err := settledRSS()
	if err != nil {
		return err
	}
	conns := make([]dbConn, 0, n)
	defer func() {
		for _, c := range conns {
			c.close(ctx)
		}
	}()
	for range n {
		c, err := openOne()
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	after, err := settledRSS()
	if err != nil {
		return err
	}
	runtime.KeepAlive(conns)
	return json.NewEncoder(os.Stdout).Encode(sample{N: float64(n), Bytes: float64(after - before)})
}

// runMemoryChild starts this binary as a memory child and reads its sample.
func runMemoryChild(ctx context.Context, sys system, path string, n int) (sample, error) {
	exe, err := os.Executable()
	if err != nil {
		return sample{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "-memchild", sys.id, "-memdb", path, "-memconns", strconv.Itoa(n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return sample{}, fmt.Errorf("memory child: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var s sample
	if err := json.Unmarshal(out, &s); err != nil {
		return sample{}, fmt.Errorf("memory child: %w: %q", err, out)
	}
	return s, nil
}
