package supervisor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// ingestService is an HTTP ingest service on a supervisor's events store:
//
//	POST /events             one event or an array of them, in messages.Event's JSON form
//	GET  /users/{id}/events  the user's timeline, newest first (at most 50)
//	GET  /stats/plans        signups per properties.plan
//
// Writes go through InsertEvents (group-committed), reads through the events store's read
// pool. The handlers are all it takes: decoding, validation, retries without duplicates
// (idempotency_key) and error classes come from the library.
type ingestService struct {
	*http.ServeMux
	s    *supervisor.Supervisor
	pool *actors.Pool
	// Timeout bounds a POST's wait for room in the queue and for its commit: past it, the
	// client gets 429 (the queue stayed full) or 503.
	Timeout time.Duration
}

// maxBody bounds a POST's body: ParseEvents holds the events it decodes.
const maxBody = 4 << 20

func newIngestService(ctx context.Context, s *supervisor.Supervisor) (*ingestService, error) {
	pool, err := s.EventsPool(ctx)
	if err != nil {
		return nil, err
	}
	svc := &ingestService{ServeMux: http.NewServeMux(), s: s, pool: pool, Timeout: 5 * time.Second}
	svc.HandleFunc("POST /events", svc.post)
	svc.HandleFunc("GET /users/{id}/events", svc.timeline)
	svc.HandleFunc("GET /stats/plans", svc.plans)
	return svc, nil
}

func (svc *ingestService) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		reply(w, http.StatusRequestEntityTooLarge, map[string]string{"error": err.Error()})
		return
	} else if err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	evs, err := messages.ParseEvents(body)
	if err == nil {
		// The request's ctx: it ends when the client goes away (its retry brings the same
		// idempotency keys), bounded so that a full queue answers 429 instead of hanging.
		ctx, cancel := context.WithTimeout(r.Context(), svc.Timeout)
		err = svc.s.InsertEvents(ctx, evs)
		cancel()
	}
	switch {
	case err == nil:
		reply(w, http.StatusOK, map[string]int{"stored": len(evs)})
	case errors.Is(err, messages.ErrBadEvent): // the client's events
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case errors.Is(err, messages.ErrOverloaded): // the queue stayed full: nothing was queued
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusTooManyRequests, map[string]string{"error": err.Error()})
	case r.Context().Err() != nil: // the client went away: nobody reads an answer
	case errors.Is(err, messages.ErrClosed), errors.Is(err, context.DeadlineExceeded): // stopping, or too slow
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	default:
		reply(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	}
}

func (svc *ingestService) timeline(w http.ResponseWriter, r *http.Request) {
	svc.query(w, r, `SELECT name, properties, timestamp FROM events WHERE user_id = ?
		ORDER BY timestamp DESC, id DESC LIMIT 50`, r.PathValue("id"))
}

func (svc *ingestService) plans(w http.ResponseWriter, r *http.Request) {
	svc.query(w, r, `SELECT properties ->> '$.plan' AS plan, count(*) AS signups FROM events
		WHERE name = 'signup' GROUP BY plan ORDER BY signups DESC, plan`)
}

// query answers rows as a JSON array of objects: properties (declared JSON TEXT) come out as
// JSON, timestamps (DATETIME) as RFC 3339.
func (svc *ingestService) query(w http.ResponseWriter, r *http.Request, sql string, args ...any) {
	rows, err := svc.pool.QueryAll(r.Context(), sql, args...)
	if err != nil {
		reply(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	out := make([]map[string]any, len(rows))
	for i, row := range rows {
		out[i] = row.Map()
	}
	reply(w, http.StatusOK, out)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// An HTTP ingest service (ingestService, above): clients POST events, one or an array; a
// retry with the same idempotency_key is acknowledged without a second row; a bad event is
// the client's 400. Reads go through the events store's read pool. On shutdown the HTTP
// server stops first, waiting for its handlers, then the supervisor flushes and closes.
func Example_ingestService() {
	dir, err := os.MkdirTemp("", "actorlite-ingest-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: filepath.Join(dir, "events.db"), Readers: 2}})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := newIngestService(ctx, s)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(svc)

	call := func(method, path, body string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	call("POST", "/events", `{"user_id":"ada","name":"signup","properties":{"plan":"pro"},"timestamp":"2025-03-14T09:26:00Z","idempotency_key":"req-1/0"}`)
	call("POST", "/events", `[
		{"user_id":"alan","name":"signup","properties":{"plan":"free"},"timestamp":"2025-03-14T09:27:00Z","idempotency_key":"req-2/0"},
		{"user_id":"alan","name":"page_view","properties":{"page":"/pricing"},"timestamp":"2025-03-14T09:28:00Z","idempotency_key":"req-2/1"},
		{"user_id":"grace","name":"signup","properties":{"plan":"pro"},"timestamp":1741944540}]`)
	// The client did not get the first answer and sends it again: acknowledged, stored once.
	call("POST", "/events", `{"user_id":"ada","name":"signup","properties":{"plan":"pro"},"timestamp":"2025-03-14T09:26:00Z","idempotency_key":"req-1/0"}`)
	call("POST", "/events", `[{"user_id":"alan","name":"upgrade"},{"name":"upgrade"}]`)
	call("POST", "/events", `{"user_id":"alan","name":"upgrade","timestamp":"soon"}`)
	call("GET", "/users/alan/events", "")
	call("GET", "/stats/plans", "")

	// Shutdown: the HTTP server first (it stops accepting and waits for the handlers in
	// flight, whose events are then committed), then the supervisor (flushes, closes files).
	if err := srv.Config.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	srv.Close()
	if err := s.Stop(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("events committed:", s.Stats().EventsCommitted, "duplicates:", s.Stats().EventsDuplicates)
	// Output:
	// POST /events: 200 {"stored":1}
	// POST /events: 200 {"stored":3}
	// POST /events: 200 {"stored":1}
	// POST /events: 400 {"error":"actorlite: bad event 1 of 2: user_id (UserID): empty"}
	// POST /events: 400 {"error":"actorlite: bad event: timestamp (Timestamp): \"soon\" is not an RFC 3339 time"}
	// GET /users/alan/events: 200 [{"name":"page_view","properties":{"page":"/pricing"},"timestamp":"2025-03-14T09:28:00Z"},{"name":"signup","properties":{"plan":"free"},"timestamp":"2025-03-14T09:27:00Z"}]
	// GET /stats/plans: 200 [{"plan":"pro","signups":2},{"plan":"free","signups":1}]
	// events committed: 5 duplicates: 1
}
