package actors

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/actorlite/actorlite/messages"
)

// quota bounds what is in flight, by count and by bytes together: a semaphore with two
// weights, first come first served. The events writer's queue counts events and bytes in one
// quota. A connection has two: one counts its requests (MaxPending, one each), the other the
// bytes of its large ones (MaxPendingBytes); in one quota, small requests would queue behind a
// large one waiting for bytes, and actors' small requests would be refused meanwhile.
//
// A goroutine (a handle's call, [EventWriter.Insert]) waits for room on a channel, honouring
// its ctx and the closing of what it waits for. An actor's call ([EventWriter.Submit]) must not
// block its caller, so it waits as a callback, with no goroutine of its own, in an overflow
// bounded like the quota itself (as many again); beyond that it is refused at once with
// [messages.ErrOverloaded].
type quota struct {
	mu           sync.Mutex
	maxN, maxB   int64     // the bounds: count and bytes
	n, b         int64     // held
	overN, overB int64     // held by callback waiters (the overflow)
	waiters      list.List // of *quotaWaiter, in arrival order
	closed       error     // once set, nothing more is granted
}

// quotaWaiter is one call waiting for room: a goroutine (ready) or a callback (grant).
type quotaWaiter struct {
	n, b  int64
	ready chan struct{} // closed when granted
	// grant is called once, outside mu: with nil when the room is granted (and held), or with
	// the reason it never will be. stop ends the wait on the caller's ctx.
	grant func(err error)
	stop  func() bool
	elem  *list.Element
}

// fits reports whether n events of b bytes fit now. Called with mu held.
func (s *quota) fits(n, b int64) bool {
	return s.n+n <= s.maxN && s.b+b <= s.maxB && s.waiters.Len() == 0
}

// take, called with mu held, takes room for n events of b bytes at once if there is room and
// nobody waits, and reports whether the caller's request is settled: taken (err nil) or
// refused for good (the quota is closed).
func (s *quota) take(n, b int64) (settled bool, err error) {
	if s.closed != nil {
		return true, s.closed
	}
	if s.fits(n, b) {
		s.n, s.b = s.n+n, s.b+b
		return true, nil
	}
	return false, nil
}

// tryTake takes room for n events of b bytes if it fits now, without waiting.
func (s *quota) tryTake(n, b int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	settled, err := s.take(n, b)
	return settled && err == nil
}

// tryTakeSpare takes room for n (count only) if nobody waits and at least half of the count
// bound stays free after it: room nobody needs now, for work nobody waits for (a cursor's
// read-ahead), which must never be why a request waits or is refused.
func (s *quota) tryTakeSpare(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != nil || s.waiters.Len() > 0 || 2*(s.n+n) > s.maxN {
		return false
	}
	s.n += n
	return true
}

// acquire waits for room for n events of b bytes, honouring ctx and the writer closing.
func (s *quota) acquire(ctx context.Context, n, b int64, closing <-chan struct{}) error {
	s.mu.Lock()
	if settled, err := s.take(n, b); settled {
		s.mu.Unlock()
		return err
	}
	w := &quotaWaiter{n: n, b: b, ready: make(chan struct{})}
	w.elem = s.waiters.PushBack(w)
	s.mu.Unlock()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-closing:
		err = messages.ErrClosed
	}
	s.mu.Lock()
	select {
	case <-w.ready: // granted as we gave up: give it back
		s.n, s.b = s.n-n, s.b-b
	default:
		s.waiters.Remove(w.elem)
	}
	granted := s.notify()
	s.mu.Unlock()
	run(granted)
	return err
}

// wait queues grant to be called once room for n events of b bytes is held for it, or with
// the reason it never will be: ctx ended, the writer closed. It never blocks. It returns
// [messages.ErrOverloaded] at once when the overflow is full.
func (s *quota) wait(ctx context.Context, n, b int64, grant func(error)) error {
	s.mu.Lock()
	if settled, err := s.take(n, b); settled {
		s.mu.Unlock()
		if err == nil {
			grant(nil)
		}
		return err
	}
	if s.overN+n > s.maxN || s.overB+b > s.maxB {
		s.mu.Unlock()
		return fmt.Errorf("%w: the events queue and its overflow are full", messages.ErrOverloaded)
	}
	w := &quotaWaiter{n: n, b: b, grant: grant}
	s.overN, s.overB = s.overN+n, s.overB+b
	w.elem = s.waiters.PushBack(w)
	// Registered under mu, so that a grant (which stops it) cannot come first.
	w.stop = context.AfterFunc(ctx, func() {
		if s.drop(w) {
			grant(ctx.Err())
		}
	})
	s.mu.Unlock()
	return nil
}

// drop removes a callback waiter that is still waiting, and reports whether it was.
func (s *quota) drop(w *quotaWaiter) bool {
	s.mu.Lock()
	if w.elem == nil { // granted or failed already
		s.mu.Unlock()
		return false
	}
	s.waiters.Remove(w.elem)
	w.elem = nil
	s.overN, s.overB = s.overN-w.n, s.overB-w.b
	granted := s.notify()
	s.mu.Unlock()
	run(granted)
	return true
}

// release gives back room for n events of b bytes. What is held never drops below zero: a
// connection releases a slot for every request that holds one by holdsSlot, which includes
// one an actor sent with ReplyTo set although admit took nothing for it (as a channel of tokens,
// which it replaced, gave back nothing when empty).
func (s *quota) release(n, b int64) {
	s.mu.Lock()
	s.n, s.b = max(s.n-n, 0), max(s.b-b, 0)
	granted := s.notify()
	s.mu.Unlock()
	run(granted)
}

// close grants nothing more: goroutine waiters are woken by their closing channel, callback
// waiters are answered with err.
func (s *quota) close(err error) {
	s.mu.Lock()
	s.closed = err
	var failed []*quotaWaiter
	for e := s.waiters.Front(); e != nil; {
		next := e.Next()
		if w := e.Value.(*quotaWaiter); w.grant != nil {
			s.waiters.Remove(e)
			w.elem = nil
			s.overN, s.overB = s.overN-w.n, s.overB-w.b
			failed = append(failed, w)
		}
		e = next
	}
	s.mu.Unlock()
	for _, w := range failed {
		w.stop()
		w.grant(err)
	}
}

// notify grants room to the waiters at the front that now fit, in order. Goroutine waiters are
// woken here; callback waiters are returned, to be run once mu is released. Called with mu held.
func (s *quota) notify() []*quotaWaiter {
	var granted []*quotaWaiter
	for s.closed == nil {
		e := s.waiters.Front()
		if e == nil {
			break
		}
		w := e.Value.(*quotaWaiter)
		if s.n+w.n > s.maxN || s.b+w.b > s.maxB {
			break
		}
		s.n, s.b = s.n+w.n, s.b+w.b
		s.waiters.Remove(e)
		w.elem = nil
		if w.grant == nil {
			close(w.ready)
			continue
		}
		s.overN, s.overB = s.overN-w.n, s.overB-w.b
		granted = append(granted, w)
	}
	return granted
}

// run calls the grants of callback waiters granted room.
func run(granted []*quotaWaiter) {
	for _, w := range granted {
		w.stop()
		w.grant(nil)
	}
}
