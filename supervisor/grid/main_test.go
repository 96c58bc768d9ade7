package grid_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// protoactor's test provider reports TTLs from a goroutine that ranges over a
		// ticker's channel, which Ticker.Stop never closes: it outlives its cluster, one per
		// member started (test_provider.go, startTtlReport).
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster/clusterproviders/test.(*Provider).startTtlReport.func1"),
		// protoactor's cluster throttles log lines with goroutines that end one period (up to
		// a minute) after they start (actor/throttler.go): transient, not leaks.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster.(*Gossiper).StartGossiping.NewThrottle.func3.1"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster.NewGossipActor.NewThrottleWithLogger.func2.1"),
	)
}
