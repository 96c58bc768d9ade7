package sqlitewasm_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/actorlite/actorlite/sqlitewasm"
)

// Many connections opening one new file at once all switch it to WAL without a BUSY error.
func TestConcurrentOpenOfANewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := sqlitewasm.Open(context.Background(), path, sqlitewasm.Config{})
			if err != nil {
				errs <- err
				return
			}
			errs <- c.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
