package actors

import "testing"

// TestQueueMemoryFollowsItsLength checks that a mailbox queue's memory follows how many
// messages it holds, not how many it has served: under sustained load it is never empty, and
// its backing array must not grow with every message served.
func TestQueueMemoryFollowsItsLength(t *testing.T) {
	var q queue
	next, want := 0, 0
	// Always about 100 messages queued, a million served.
	for range 100 {
		q.push(next)
		next++
	}
	for range 1_000_000 {
		q.push(next)
		next++
		if got := q.pop(); got != want {
			t.Fatalf("pop = %v, want %d: out of order", got, want)
		}
		want++
	}
	if c := len(q.buf); c > 1024 {
		t.Fatalf("a queue holding %d messages has room for %d", q.n, c)
	}
	// A burst grows it; once drained, it shrinks back.
	for range 100_000 {
		q.push(next)
		next++
	}
	for q.n > 0 {
		if got := q.pop(); got != want {
			t.Fatalf("pop = %v, want %d: out of order", got, want)
		}
		want++
	}
	if c := len(q.buf); c > 1024 {
		t.Fatalf("a drained queue keeps room for %d messages", c)
	}
	if q.pop() != nil {
		t.Fatal("pop of an empty queue")
	}
}
