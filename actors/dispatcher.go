package actors

import "sync"

// loopDispatcher runs a mailbox on one long-lived goroutine per connection. protoactor's
// default dispatcher starts a goroutine on every activation of an idle mailbox, and SQLite's
// translated code needs a deep stack that each new goroutine must grow by copying, which made
// a point select markedly slower than this one does (figures in bench/README.md, "Measured in
// package actors").
//
// The mailbox's idle→running CAS leaves at most one scheduled function outstanding, so a
// buffer of 1 never blocks. One dispatcher per Spawn: it belongs to the Props, and two actors
// sharing it would share its goroutine. It survives restarts; close it on *actor.Stopped.
type loopDispatcher struct {
	fns   chan func()
	done  chan struct{}
	start sync.Once // the goroutine starts with the first Schedule: an unspawned actor has none
	once  sync.Once
}

func newLoopDispatcher() *loopDispatcher {
	return &loopDispatcher{fns: make(chan func(), 1), done: make(chan struct{})}
}

func (d *loopDispatcher) loop() {
	for {
		select {
		case fn := <-d.fns:
			fn()
		case <-d.done:
			return
		}
	}
}

// Schedule runs fn on the loop goroutine.
func (d *loopDispatcher) Schedule(fn func()) {
	d.start.Do(func() { go d.loop() })
	select {
	case d.fns <- fn:
	case <-d.done:
	}
}

// Throughput is how many messages run before the mailbox yields.
func (d *loopDispatcher) Throughput() int { return 300 }

// Close ends the loop goroutine once the function it runs returns.
func (d *loopDispatcher) Close() { d.once.Do(func() { close(d.done) }) }
