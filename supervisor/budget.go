package supervisor

import (
	"fmt"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// restartBudget is the one rule by which the supervisor restarts a crashed child, a connection
// or the events writer: each crash is counted in the child's crash history (kept across its
// incarnations), and the child is restarted while it crashed at most max times within window
// (Config.MaxRestarts, Config.RestartWindow); the next crash spends the budget, and so does
// any crash when max is negative.
type restartBudget struct {
	max    int
	window time.Duration
}

func (s *Supervisor) budget() restartBudget {
	return restartBudget{max: s.cfg.MaxRestarts, window: s.cfg.RestartWindow}
}

// spend counts a crash in rs, and returns the crashes rs holds within the window and whether
// the budget is spent.
func (b restartBudget) spend(rs *actor.RestartStatistics) (failures int, spent bool) {
	rs.Fail()
	failures = rs.NumberOfFailures(b.window)
	return failures, b.max < 0 || failures > b.max
}

// spentErr is the error every call to a child whose budget is spent gets, wrapping ErrClosed,
// ErrCrashed and the last crash; who names the child, if not a connection ("events writer ").
func (b restartBudget) spentErr(who string, crash *messages.CrashError) error {
	return fmt.Errorf("%w: %w: %srestart budget spent (%d restarts within %s): %w",
		messages.ErrClosed, messages.ErrCrashed, who, max(b.max, 0), b.window, crash)
}
