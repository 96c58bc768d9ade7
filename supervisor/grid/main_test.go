package grid_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// leakOptions name the goroutines protoactor leaves behind for good.
var leakOptions = []goleak.Option{
	// protoactor's test provider reports TTLs from a goroutine that ranges over a ticker's
	// channel, which Ticker.Stop never closes: it outlives its cluster, one per member started
	// (test_provider.go, startTtlReport).
	goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster/clusterproviders/test.(*Provider).startTtlReport.func1"),
	// protoactor's cluster throttles log lines with goroutines that end one period (up to a
	// minute) after they start (actor/throttler.go): transient, but longer than a test.
	goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster.(*Gossiper).StartGossiping.NewThrottle.func3.1"),
	goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster.NewGossipActor.NewThrottleWithLogger.func2.1"),
	// protoactor's endpoint writer does not close the gRPC ClientConn of a connection attempt
	// that failed (endpoint_writer.go, initializeInternal: a member killed by TestKill9): the
	// conn's serializer goroutines outlive it.
	goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(memberEnv); spec != "" {
		os.Exit(runMember(spec)) // a member process of TestKill9
	}
	code := m.Run()
	if code == 0 {
		// Members wind down asynchronously (gRPC transports, a graceful server stop, gossip):
		// give them up to 15 s, more than goleak's own retries allow.
		deadline := time.Now().Add(15 * time.Second)
		for {
			err := goleak.Find(leakOptions...)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintln(os.Stderr, "goleak:", err)
				code = 1
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	os.Exit(code)
}
