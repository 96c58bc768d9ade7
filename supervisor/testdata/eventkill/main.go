// Command eventkill inserts analytics events through actorlite forever, from 8 producers,
// printing each event's id once InsertEvent returned (its batch committed). The events kill
// test runs it, kills it with SIGKILL mid-ingest, and checks that every printed id is stored.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: eventkill DB")
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: os.Args[1]}})
	if err != nil {
		fail(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := p*1_000_000_000 + i
				props, _ := json.Marshal(map[string]any{"id": id, "page": "/pricing"})
				ev := messages.Event{UserID: "user-" + strconv.Itoa(p), Name: "page_view", Properties: props}
				if err := s.InsertEvent(ctx, ev); err != nil {
					fail(err)
				}
				mu.Lock()
				os.Stdout.WriteString(strconv.Itoa(id) + "\n")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
