package actors_test

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// TestRegistrationsSurviveRestart registers one thing of each kind, crashes the connection
// with a panicking function, and checks that the registration still works.
func TestRegistrationsSurviveRestart(t *testing.T) {
	type check func(t *testing.T, s *supervisor.Supervisor, c *actors.Conn)
	kinds := map[string]struct{ register, verify check }{
		"function": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateFunction(testCtx(t), "twice", 1, func(a []any) (any, error) { return a[0].(int64) * 2, nil }); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if v := queryValue(t, c, "SELECT twice(21)"); v != int64(42) {
					t.Fatal(v)
				}
			},
		},
		"aggregate": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateAggregate(testCtx(t), "mysum", 1, func() actors.Aggregate { return &sumAgg{} }); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if v := queryValue(t, c, "SELECT mysum(value) FROM generate_series(1, 4)"); v != int64(10) {
					t.Fatal(v)
				}
			},
		},
		"window function": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateWindowFunction(testCtx(t), "msum", 1, func() actors.WindowAggregate { return &movingSum{} }); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				got := queryValues(t, c, "SELECT msum(value) OVER (ORDER BY value ROWS 1 PRECEDING) FROM generate_series(1, 3)")
				if !reflect.DeepEqual(got, [][]any{{int64(1)}, {int64(3)}, {int64(5)}}) {
					t.Fatal(got)
				}
			},
		},
		"collation": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.CreateCollation(testCtx(t), "reverse", reverseCmp); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if v := queryValue(t, c, "SELECT v FROM (SELECT column1 AS v FROM (VALUES ('a'), ('c'), ('b'))) ORDER BY v COLLATE reverse"); v != "c" {
					t.Fatal(v)
				}
			},
		},
		"authorizer": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				err := c.SetAuthorizer(testCtx(t), func(r messages.AuthRequest) messages.AuthResult {
					if r.Action == "PRAGMA" {
						return messages.AuthDeny
					}
					return messages.AuthOK
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if _, err := c.QueryAll(testCtx(t), "PRAGMA user_version"); !errors.Is(err, messages.ErrNotAuthorized) {
					t.Fatalf("%v, want ErrNotAuthorized", err)
				}
			},
		},
		"trace": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.SetTrace(testCtx(t), func(sql string, _ time.Duration) {
					if strings.Contains(sql, "trace me") {
						panic("traced: " + sql)
					}
				}); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if _, err := c.Exec(testCtx(t), "SELECT 'trace me'"); err == nil || !strings.Contains(err.Error(), "traced: SELECT 'trace me'") {
					t.Fatalf("%v, want the trace's panic", err)
				}
			},
		},
		"progress handler": {
			register: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				if err := c.SetProgressHandler(testCtx(t), 1000, abortProgress.Load); err != nil {
					t.Fatal(err)
				}
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				abortProgress.Store(true)
				_, err := c.QueryRow(testCtx(t), "SELECT count(*) FROM generate_series(1, 100000)")
				abortProgress.Store(false)
				if !errors.Is(err, messages.ErrInterrupted) {
					t.Fatalf("%v, want ErrInterrupted", err)
				}
			},
		},
		"update hook": {
			register: func(t *testing.T, s *supervisor.Supervisor, c *actors.Conn) {
				pid, ch := newSink(t, s)
				exec(t, c, "CREATE TABLE t (x)")
				if err := c.SetUpdateHook(testCtx(t), pid); err != nil {
					t.Fatal(err)
				}
				exec(t, c, "INSERT INTO t VALUES (1)")
				waitCommits(t, c, ch, 1)
				sinks.Store(c, ch)
			},
			verify: func(t *testing.T, _ *supervisor.Supervisor, c *actors.Conn) {
				ch, _ := sinks.Load(c)
				id := exec(t, c, "INSERT INTO t VALUES (2)").LastInsertID
				got := waitCommits(t, c, ch.(<-chan *messages.RowChanges), 1)
				if want := []messages.RowChange{{Op: "INSERT", Database: "main", Table: "t", RowID: id}}; !reflect.DeepEqual(got[0], want) {
					t.Fatalf("%+v, want %+v", got[0], want)
				}
			},
		},
	}
	for name, k := range kinds {
		t.Run(name, func(t *testing.T) {
			s, c := newBoomConn(t)
			k.register(t, s, c)
			k.verify(t, s, c)
			crashAndRestart(t, s, c)
			k.verify(t, s, c)
			crashAndRestart(t, s, c)
			k.verify(t, s, c)
		})
	}
}

// sinks holds the update hook's channel between register and verify.
var sinks sync.Map

// abortProgress is what the progress handler of TestRegistrationsSurviveRestart answers.
var abortProgress atomic.Bool
