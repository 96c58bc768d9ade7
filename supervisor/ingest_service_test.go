package supervisor_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// post sends body to the service's POST /events and returns the status, Retry-After and body.
func post(t testing.TB, c *http.Client, url, body string) (int, string, string) {
	t.Helper()
	resp, err := c.Post(url+"/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(out)
}

// The example service's error → status mapping: 429 with Retry-After when the queue stays
// full past its timeout (nothing of the request queued), 413 for a body over its bound, 503
// once the supervisor is stopping.
func TestIngestServiceStatus(t *testing.T) {
	var s *supervisor.Supervisor
	probe, _, entered, release := holdFirstBatch(&s)
	s, _ = startEvents(t, supervisor.EventsConfig{MaxQueued: 1, Readers: 1, Options: []actors.Option{probe}})
	svc, err := newIngestService(deadline(t), s)
	if err != nil {
		t.Fatal(err)
	}
	svc.Timeout = 50 * time.Millisecond
	srv := httptest.NewServer(svc)
	defer srv.Close()
	c := srv.Client()

	held := make(chan error, 1)
	go func() { held <- s.InsertEvent(context.Background(), messages.Event{UserID: "u", Name: "held"}) }()
	<-entered // the writer holds the one event the queue has room for
	if code, retry, body := post(t, c, srv.URL, `{"user_id":"u","name":"waits"}`); code != http.StatusTooManyRequests || retry != "1" ||
		!strings.Contains(body, "overloaded") {
		t.Errorf("a full queue: %d (Retry-After %q) %s; want 429 with Retry-After", code, retry, body)
	}
	close(release)
	if err := <-held; err != nil {
		t.Errorf("the held event: %v", err)
	}
	if st := s.Stats(); st.EventsCommitted != 1 {
		t.Errorf("%d events committed, want only the held one (the 429's was never queued)", st.EventsCommitted)
	}

	big := `{"user_id":"u","name":"n","properties":"` + strings.Repeat("x", maxBody) + `"}`
	if code, _, _ := post(t, c, srv.URL, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over %d bytes: %d, want 413", maxBody, code)
	}

	if err := s.Stop(deadline(t)); err != nil {
		t.Fatal(err)
	}
	if code, retry, body := post(t, c, srv.URL, `{"user_id":"u","name":"late"}`); code != http.StatusServiceUnavailable || retry != "1" {
		t.Errorf("after Stop: %d (Retry-After %q) %s; want 503", code, retry, body)
	}
}

// BenchmarkIngestService measures the example service (ingestService) end to end: 32
// concurrent HTTP clients, each POSTing its events (with idempotency keys) and waiting for
// the answer, over loopback TCP; as one event a request and as arrays of 16. In the same run,
// two baselines: the same HTTP requests answered without storing anything (http-only: the
// HTTP and JSON share), and 32 goroutines calling InsertEvents directly with the decoded
// events, with and without keys (direct: the store's share, and the unique index's). Each
// reports events/s; the stored ones their events per commit, checked against the events
// sent.
func BenchmarkIngestService(b *testing.B) {
	const clients = 32
	for _, per := range []int{1, 16} {
		for _, mode := range []string{"service", "http-only", "direct", "direct-no-keys"} {
			b.Run(fmt.Sprintf("%s/clients=%d/events-per-post=%d", mode, clients, per), func(b *testing.B) { benchIngest(b, mode, clients, per) })
		}
	}
}

func benchIngest(b *testing.B, mode string, clients, per int) {
	s, _ := startEvents(b, supervisor.EventsConfig{Readers: 1})
	svc, err := newIngestService(context.Background(), s)
	if err != nil {
		b.Fatal(err)
	}
	var h http.Handler = svc
	if mode == "http-only" {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			evs, err := messages.ParseEvents(body)
			if err != nil {
				reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			reply(w, http.StatusOK, map[string]int{"stored": len(evs)})
		})
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = clients
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()

	posts := (b.N + per - 1) / per
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			var body bytes.Buffer
			for {
				i := next.Add(1) - 1
				if i >= int64(posts) {
					return
				}
				body.Reset()
				body.WriteByte('[')
				for j := range per {
					if j > 0 {
						body.WriteByte(',')
					}
					key := ""
					if mode != "direct-no-keys" {
						key = fmt.Sprintf(`,"idempotency_key":"c%d-%d-%d"`, c, i, j)
					}
					fmt.Fprintf(&body, `{"user_id":"user-%d","name":"page_view","properties":{"page":"/pricing","n":%d}%s}`, c, j, key)
				}
				body.WriteByte(']')
				if strings.HasPrefix(mode, "direct") {
					evs, err := messages.ParseEvents(body.Bytes())
					if err == nil {
						err = s.InsertEvents(context.Background(), evs)
					}
					if err != nil {
						failed.Add(1)
					}
					continue
				}
				resp, err := hc.Post(srv.URL+"/events", "application/json", &body)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(posts*per)/elapsed.Seconds(), "events/s")
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d failed posts", f)
	}
	if mode == "http-only" {
		return
	}
	st := s.Stats()
	if st.EventsCommitted != int64(posts*per) {
		b.Fatalf("%d events committed of %d", st.EventsCommitted, posts*per)
	}
	b.ReportMetric(float64(st.EventsCommitted)/float64(max(st.EventBatches, 1)), "events/commit")
}
