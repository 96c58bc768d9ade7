package supervisor_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// reportPercentiles reports the median and p99 of durations.
func reportPercentiles(b *testing.B, d []time.Duration, prefix string) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)*50/100].Nanoseconds()), prefix+"p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), prefix+"p99-ns")
}

// BenchmarkCrashRecovery measures, per crash, the time from sending the request that crashes
// a file-backed connection to the restarted connection answering its next query (reopen and
// function replay included).
func BenchmarkCrashRecovery(b *testing.B) {
	s := start(b, supervisor.Config{MaxRestarts: 1 << 30, RestartWindow: time.Hour})
	c := open(b, s)
	ctx := context.Background()
	var d []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.Exec(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
			b.Fatal(err)
		}
		if _, err := c.QueryRow(ctx, "SELECT count(*) FROM t"); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
	}
	reportPercentiles(b, d, "")
}

// BenchmarkCancelLatency measures the time from cancelling a running long query to its
// caller returning ("return-") and to the connection answering its next query ("free-").
func BenchmarkCancelLatency(b *testing.B) {
	s := start(b, supervisor.Config{})
	c := open(b, s)
	started := startedFunc(b, c)
	var ret, free []time.Duration
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.QueryRow(ctx, longQuery)
			done <- err
		}()
		<-started
		t0 := time.Now()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
		ret = append(ret, time.Since(t0))
		if _, err := c.QueryRow(context.Background(), "SELECT 1"); err != nil {
			b.Fatal(err)
		}
		free = append(free, time.Since(t0))
	}
	reportPercentiles(b, ret, "return-")
	reportPercentiles(b, free, "free-")
}
