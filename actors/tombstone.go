package actors

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// tombstone holds the PID of a connection actor that a crash stopped (its restart budget
// spent, or its parent's strategy): it answers every request sent to that PID with the error
// the connection's handles get, wrapping ErrClosed and ErrCrashed, where protoactor would
// answer a dead letter. It holds nothing else. A Close is answered with success and removes it
// (bury); so do closing or dropping the Conn handle, and the supervisor's Stop. Once buried it
// hands what still reaches it (through a PID that cached it) to the dead letters.
type tombstone struct {
	sys    *actor.ActorSystem
	pid    *actor.PID
	err    error
	buried atomic.Bool
}

var _ actor.Process = (*tombstone)(nil)

// SendUserMessage answers msg.
func (t *tombstone) SendUserMessage(pid *actor.PID, msg any) {
	if t.buried.Load() {
		t.sys.DeadLetter.SendUserMessage(pid, msg)
		return
	}
	answerClosed(t.sys.Root, msg, t.err)
	if _, m, _ := actor.UnwrapEnvelope(msg); isClose(m) {
		t.bury()
	}
}

// SendSystemMessage answers a Watch with Terminated, as protoactor does for a PID that is
// gone; it ignores the rest.
func (t *tombstone) SendSystemMessage(pid *actor.PID, msg any) {
	if w, ok := msg.(*actor.Watch); ok && w.Watcher != nil {
		p, _ := t.sys.ProcessRegistry.Get(w.Watcher)
		p.SendSystemMessage(w.Watcher, &actor.Terminated{Who: pid, Why: actor.TerminatedReason_Stopped})
	}
}

// Stop does nothing: the actor has stopped.
func (t *tombstone) Stop(*actor.PID) {}

// bury removes the connection's tombstone, if any: the PID is then gone, as for any stopped
// actor.
func (sh *shared) bury() {
	if t := sh.tomb.Swap(nil); t != nil {
		t.bury()
	}
}

func (t *tombstone) bury() {
	t.buried.Store(true)
	if p, ok := t.sys.ProcessRegistry.GetLocal(t.pid.Id); ok && p == actor.Process(t) {
		t.sys.ProcessRegistry.Remove(t.pid)
	}
}
