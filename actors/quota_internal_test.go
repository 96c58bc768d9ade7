package actors

import (
	"context"
	"errors"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
)

func newTestQuota(maxN, maxB int64) *quota {
	q := &quota{}
	q.maxN, q.maxB = maxN, maxB
	return q
}

// held returns what q holds, and holds in its overflow.
func (s *quota) held() (n, b, overN, overB int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.b, s.overN, s.overB
}

// waitQueued waits until n calls wait in q.
func waitQueued(t *testing.T, q *quota, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q.mu.Lock()
		l := q.waiters.Len()
		q.mu.Unlock()
		if l == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters, want %d", l, n)
		}
		runtime.Gosched()
	}
}

// acquireAsync calls acquire on a goroutine of its own and returns its result's channel, once
// the call waits in q (behind want-1 others).
func acquireAsync(t *testing.T, q *quota, ctx context.Context, n, b int64, closing <-chan struct{}, want int) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- q.acquire(ctx, n, b, closing) }()
	waitQueued(t, q, want)
	return done
}

func recvErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no result", what)
		return nil
	}
}

func noResult(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s: returned %v while it should wait", what, err)
	default:
	}
}

// Both weights bound: a call fits only when its count and its bytes do.
func TestQuotaBothWeights(t *testing.T) {
	q := newTestQuota(3, 100)
	if !q.tryTake(2, 50) {
		t.Fatal("2 of 3, 50 of 100 bytes: refused")
	}
	if q.tryTake(2, 10) {
		t.Fatal("4 of 3: taken")
	}
	if q.tryTake(1, 60) {
		t.Fatal("110 of 100 bytes: taken")
	}
	if !q.tryTake(1, 50) {
		t.Fatal("3 of 3, 100 of 100 bytes: refused")
	}
	q.release(1, 50)
	if n, b, _, _ := q.held(); n != 2 || b != 50 {
		t.Fatalf("held %d, %d bytes after a release; want 2, 50", n, b)
	}
	// A call of one weight only, as a connection's two quotas take.
	count := newTestQuota(1, math.MaxInt64)
	if !count.tryTake(1, 0) || count.tryTake(1, 0) {
		t.Fatal("a count quota of 1")
	}
	bytes := newTestQuota(math.MaxInt64, 10)
	if !bytes.tryTake(0, 10) || bytes.tryTake(0, 1) {
		t.Fatal("a byte quota of 10")
	}
}

// Waiters are served first come, first served, and nobody passes one that waits: not a call
// that would fit, nor a tryTake.
func TestQuotaFIFO(t *testing.T) {
	ctx, never := context.Background(), make(chan struct{})
	q := newTestQuota(10, math.MaxInt64)
	if !q.tryTake(8, 0) {
		t.Fatal("take 8")
	}
	big := acquireAsync(t, q, ctx, 5, 0, never, 1) // does not fit: waits
	small := acquireAsync(t, q, ctx, 1, 0, never, 2)
	if q.tryTake(1, 0) {
		t.Fatal("tryTake passed a waiter")
	}
	noResult(t, big, "big")
	noResult(t, small, "small, behind big")
	q.release(8, 0) // big and small both fit now, in order
	if err := recvErr(t, big, "big"); err != nil {
		t.Fatal(err)
	}
	if err := recvErr(t, small, "small"); err != nil {
		t.Fatal(err)
	}
	if n, _, _, _ := q.held(); n != 6 {
		t.Fatalf("held %d, want 6", n)
	}

	// One at a time: each release grants the oldest waiter.
	one := newTestQuota(1, math.MaxInt64)
	one.tryTake(1, 0)
	var waits []<-chan error
	for i := range 3 {
		waits = append(waits, acquireAsync(t, one, ctx, 1, 0, never, i+1))
	}
	for i, w := range waits {
		one.release(1, 0)
		if err := recvErr(t, w, "waiter"); err != nil {
			t.Fatal(err)
		}
		for _, later := range waits[i+1:] {
			noResult(t, later, "a later waiter")
		}
	}
}

// A callback waiter never blocks: granted at once when there is room, else queued (in the same
// FIFO as goroutines) in an overflow as large as the quota, and refused when that is full.
func TestQuotaCallbackWaiters(t *testing.T) {
	ctx := context.Background()
	q := newTestQuota(2, 100)
	var got []string
	grant := func(name string) func(error) {
		return func(err error) {
			if err != nil {
				t.Errorf("%s: granted with %v", name, err)
			}
			got = append(got, name)
		}
	}
	if err := q.wait(ctx, 1, 10, grant("now")); err != nil || len(got) != 1 {
		t.Fatalf("with room: %v, %v", err, got)
	}
	if !q.tryTake(1, 0) {
		t.Fatal("take the rest")
	}
	if err := q.wait(ctx, 1, 60, grant("first")); err != nil {
		t.Fatal(err)
	}
	if err := q.wait(ctx, 1, 40, grant("second")); err != nil {
		t.Fatal(err)
	}
	if _, _, overN, overB := q.held(); overN != 2 || overB != 100 {
		t.Fatalf("overflow %d, %d bytes; want 2, 100", overN, overB)
	}
	if err := q.wait(ctx, 1, 1, grant("refused")); !errors.Is(err, messages.ErrOverloaded) {
		t.Fatalf("with the overflow full: %v, want ErrOverloaded", err)
	}
	if len(got) != 1 {
		t.Fatalf("granted %v while nothing was released", got)
	}
	q.release(1, 10) // room for first only: second waits behind it
	if len(got) != 2 || got[1] != "first" {
		t.Fatalf("after one release: %v", got)
	}
	q.release(1, 0)
	if len(got) != 3 || got[2] != "second" {
		t.Fatalf("after two releases: %v", got)
	}
	if n, b, overN, overB := q.held(); n != 2 || b != 100 || overN != 0 || overB != 0 {
		t.Fatalf("held %d, %d bytes, overflow %d, %d; want 2, 100, 0, 0", n, b, overN, overB)
	}
}

// A waiter whose ctx ends leaves the queue, and the one behind it moves up.
func TestQuotaCtxEnds(t *testing.T) {
	never := make(chan struct{})
	q := newTestQuota(1, math.MaxInt64)
	q.tryTake(1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	gone := acquireAsync(t, q, ctx, 1, 0, never, 1)
	next := acquireAsync(t, q, context.Background(), 1, 0, never, 2)
	cancel()
	if err := recvErr(t, gone, "cancelled waiter"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	waitQueued(t, q, 1)
	q.release(1, 0)
	if err := recvErr(t, next, "next waiter"); err != nil {
		t.Fatal(err)
	}

	// A callback waiter's ctx: its grant gets the ctx's error, once, and its overflow is freed.
	q2 := newTestQuota(1, math.MaxInt64)
	q2.tryTake(1, 0)
	ctx2, cancel2 := context.WithCancel(context.Background())
	calls := make(chan error, 2)
	if err := q2.wait(ctx2, 1, 0, func(err error) { calls <- err }); err != nil {
		t.Fatal(err)
	}
	cancel2()
	if err := recvErr(t, calls, "callback"); !errors.Is(err, context.Canceled) {
		t.Fatalf("callback after its ctx ended: %v", err)
	}
	q2.release(1, 0)
	noResult(t, calls, "callback, granted after its ctx ended")
	if n, _, overN, _ := q2.held(); n != 0 || overN != 0 {
		t.Fatalf("held %d, overflow %d; want 0, 0", n, overN)
	}

	// A ctx already done with room free: the room is taken (ctx is looked at only to wait).
	done, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if err := newTestQuota(1, 1).acquire(done, 1, 1, never); err != nil {
		t.Fatalf("acquire with room and a done ctx: %v", err)
	}
}

// Closing grants nothing more: goroutine waiters are woken by their closing channel, callback
// waiters get the error, and later calls are refused with it.
func TestQuotaClose(t *testing.T) {
	closing := make(chan struct{})
	q := newTestQuota(1, math.MaxInt64)
	q.tryTake(1, 0)
	waiting := acquireAsync(t, q, context.Background(), 1, 0, closing, 1)
	calls := make(chan error, 1)
	if err := q.wait(context.Background(), 1, 0, func(err error) { calls <- err }); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stopped")
	q.close(errStop)
	close(closing)
	if err := recvErr(t, calls, "callback"); !errors.Is(err, errStop) {
		t.Fatalf("callback waiter at close: %v", err)
	}
	if err := recvErr(t, waiting, "goroutine waiter"); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("goroutine waiter at close: %v", err)
	}
	q.release(1, 0)
	if q.tryTake(1, 0) {
		t.Fatal("tryTake after close")
	}
	if err := q.acquire(context.Background(), 1, 0, closing); !errors.Is(err, errStop) {
		t.Fatalf("acquire after close: %v", err)
	}
	if err := q.wait(context.Background(), 1, 0, func(error) { t.Error("granted after close") }); !errors.Is(err, errStop) {
		t.Fatalf("wait after close: %v", err)
	}
}

// What is held never drops below zero (see release).
func TestQuotaReleaseNeverBelowZero(t *testing.T) {
	q := newTestQuota(2, 10)
	q.release(1, 5)
	if n, b, _, _ := q.held(); n != 0 || b != 0 {
		t.Fatalf("held %d, %d bytes after releasing nothing held", n, b)
	}
	if !q.tryTake(2, 10) || q.tryTake(1, 0) {
		t.Fatal("the bounds moved")
	}
}
