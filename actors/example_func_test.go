package actors_test

import (
	"context"
	"fmt"
	"log"
	"slices"

	"github.com/actorlite/actorlite/actors"
)

// median is an aggregate: the median of a group's numbers.
type median struct{ xs []float64 }

func (m *median) Step(args []any) error {
	switch v := args[0].(type) {
	case int64:
		m.xs = append(m.xs, float64(v))
	case float64:
		m.xs = append(m.xs, v)
	case nil: // NULLs do not count, as in avg()
	default:
		return fmt.Errorf("median of a %T", v)
	}
	return nil
}

func (m *median) Final() (any, error) {
	if len(m.xs) == 0 {
		return nil, nil
	}
	slices.Sort(m.xs)
	n := len(m.xs)
	if n%2 == 1 {
		return m.xs[n/2], nil
	}
	return (m.xs[n/2-1] + m.xs[n/2]) / 2, nil
}

func ExampleConn_CreateAggregate() {
	ctx := context.Background()
	s, conn := startExample(ctx)
	defer s.Stop(ctx)
	err := conn.CreateAggregate(ctx, "median", 1, func() actors.Aggregate { return &median{} }, actors.Deterministic())
	if err != nil {
		log.Fatal(err)
	}
	err = conn.ExecScript(ctx, `CREATE TABLE latency (endpoint TEXT, ms INTEGER);
		INSERT INTO latency VALUES ('/login', 12), ('/login', 30), ('/login', 14),
			('/search', 80), ('/search', 20), ('/search', 45), ('/search', 50)`)
	if err != nil {
		log.Fatal(err)
	}
	rows, err := conn.QueryAll(ctx, "SELECT endpoint, median(ms) FROM latency GROUP BY endpoint ORDER BY endpoint")
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		fmt.Println(row.Index(0), row.Index(1))
	}
	// Output:
	// /login 14
	// /search 47.5
}

// movingAvg is a window function: the average of the integers in the window frame.
type movingAvg struct{ sum, n int64 }

func (m *movingAvg) Step(args []any) error    { m.sum += args[0].(int64); m.n++; return nil }
func (m *movingAvg) Inverse(args []any) error { m.sum -= args[0].(int64); m.n--; return nil }
func (m *movingAvg) Value() (any, error)      { return float64(m.sum) / float64(m.n), nil }
func (m *movingAvg) Final() (any, error)      { return m.Value() }

func ExampleConn_CreateWindowFunction() {
	ctx := context.Background()
	s, conn := startExample(ctx)
	defer s.Stop(ctx)
	err := conn.CreateWindowFunction(ctx, "moving_avg", 1, func() actors.WindowAggregate { return &movingAvg{} })
	if err != nil {
		log.Fatal(err)
	}
	rows, err := conn.QueryAll(ctx, `SELECT day, signups,
			moving_avg(signups) OVER (ORDER BY day ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
		FROM (SELECT value AS day, value * value % 7 AS signups FROM generate_series(1, 6))`)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		fmt.Printf("day %d: %d signups, 3-day average %.2f\n", row.Index(0), row.Index(1), row.Index(2))
	}
	// Output:
	// day 1: 1 signups, 3-day average 1.00
	// day 2: 4 signups, 3-day average 2.50
	// day 3: 2 signups, 3-day average 2.33
	// day 4: 2 signups, 3-day average 2.67
	// day 5: 4 signups, 3-day average 2.67
	// day 6: 1 signups, 3-day average 2.33
}
