package sqldriver_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// 16 goroutines write, read and run read-then-write transactions at once: no call fails (no
// "database is locked", no SQLITE_BUSY), no increment is lost, and no reader ever sees half a
// transaction (the money moved between two tables always adds up).
func TestStress(t *testing.T) {
	db, _ := openDB(t)
	ctx := deadline(t)
	const (
		workers  = 16
		counters = 4
		total    = 1_000_000
	)
	iters := 400
	if testing.Short() {
		iters = 40
	}
	mustExec(t, db, `CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
		CREATE TABLE left_side (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
		CREATE TABLE right_side (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);`)
	for i := range counters {
		mustExec(t, db, "INSERT INTO counter VALUES (?, 0)", i)
		mustExec(t, db, "INSERT INTO left_side VALUES (?, ?)", i, total/(2*counters))
		mustExec(t, db, "INSERT INTO right_side VALUES (?, ?)", i, total/(2*counters))
	}
	var increments atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iters {
				if err := step(ctx, db, w, i, counters, total, &increments); err != nil {
					errs <- fmt.Errorf("worker %d, step %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var sum int64
	if err := db.QueryRow("SELECT sum(n) FROM counter").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != increments.Load() {
		t.Fatalf("counters sum to %d, %d increments were made: updates were lost", sum, increments.Load())
	}
	if err := checkBalance(ctx, db, total); err != nil {
		t.Fatal(err)
	}
}

// step runs one operation, chosen by the worker and the step.
func step(ctx context.Context, db *sql.DB, w, i, counters, total int, increments *atomic.Int64) error {
	id := (w + i) % counters
	switch (w + i) % 6 {
	case 0: // an autocommit write
		if _, err := db.ExecContext(ctx, "UPDATE counter SET n = n + 1 WHERE id = ?", id); err != nil {
			return err
		}
		increments.Add(1)
	case 1, 2: // read, then write what was read plus one
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT n FROM counter WHERE id = ?", id).Scan(&n); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE counter SET n = ? WHERE id = ?", n+1, id); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		increments.Add(1)
	case 3: // move money between the two tables, reading the balance first
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var bal int64
		if err := tx.QueryRowContext(ctx, "SELECT balance FROM left_side WHERE id = ?", id).Scan(&bal); err != nil {
			tx.Rollback()
			return err
		}
		amount := int64(i%7+1) * 100
		if bal < amount {
			amount = -amount
		}
		if _, err := tx.ExecContext(ctx, "UPDATE left_side SET balance = balance - ? WHERE id = ?", amount, id); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE right_side SET balance = balance + :amount WHERE id = :id", sql.Named("amount", amount), sql.Named("id", id)); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	case 4: // a read outside a transaction: one statement, one snapshot
		var sum int64
		if err := db.QueryRowContext(ctx, "SELECT (SELECT sum(balance) FROM left_side) + (SELECT sum(balance) FROM right_side)").Scan(&sum); err != nil {
			return err
		}
		if sum != int64(total) {
			return fmt.Errorf("a reader saw %d, not %d: half a transaction", sum, total)
		}
	case 5: // two reads in a ReadOnly transaction: one snapshot
		return checkBalance(ctx, db, total)
	}
	return nil
}

// checkBalance reads both tables in a ReadOnly transaction and checks they add up.
func checkBalance(ctx context.Context, db *sql.DB, total int) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var l, r int64
	if err := tx.QueryRowContext(ctx, "SELECT sum(balance) FROM left_side").Scan(&l); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "SELECT sum(balance) FROM right_side").Scan(&r); err != nil {
		return err
	}
	if l+r != int64(total) {
		return fmt.Errorf("a ReadOnly transaction saw %d + %d, not %d", l, r, total)
	}
	return tx.Commit()
}
