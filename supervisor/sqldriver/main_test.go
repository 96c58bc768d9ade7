package sqldriver_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// protoactor's dead-letter log throttle (actor/throttler.go:27, started by
		// NewDeadLetter) keeps a goroutine for its 1s period after a dead letter, even once its
		// actor system is shut down; the crash tests here stop a writer for good. The first name
		// is the function inlined into NewDeadLetter (as built), the second the same function
		// when not inlined (-gcflags=-l).
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewThrottle.func1.1"),
	)
}
