package actors

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// checkpointer runs the events writer's WAL checkpoints on a connection and a goroutine of
// its own, so that a batch's commit never waits for one. A checkpoint copies the pages the
// WAL holds into the database file and syncs it; run inside the commit that crossed
// wal_autocheckpoint, as SQLite does by itself, it held up that batch and every producer
// waiting for it (bench/README.md). The writer nudges it when its WAL hook reports the WAL past
// the threshold; once it has checkpointed, the writer checkpoints what was committed
// meanwhile itself, a few frames, so that its next commit can start the WAL over.
type checkpointer struct {
	db     *sqlitewasm.Conn
	kick   chan struct{}
	done   chan struct{}
	synced atomic.Bool // a checkpoint finished since the writer last looked
	broken atomic.Bool // a checkpoint failed (not for a busy WAL): the writer checkpoints again
	logger *slog.Logger
	dsn    string
}

// walThreshold returns the wal_autocheckpoint the writer's pragmas set last, or 0 when it is
// not a positive number of pages (automatic checkpoints off: none runs at all).
func walThreshold(pragmas [][2]string) int {
	n := 0
	for _, p := range pragmas {
		if strings.EqualFold(strings.TrimSpace(p[0]), "wal_autocheckpoint") {
			n, _ = strconv.Atoi(strings.Trim(strings.TrimSpace(p[1]), "'\""))
		}
	}
	return max(n, 0)
}

// startCheckpointer opens the checkpointer's connection to dsn, configured as the writer's
// (cfg: a key or a VFS the database needs applies to both), and starts its goroutine.
func startCheckpointer(dsn string, cfg sqlitewasm.Config, logger *slog.Logger) (*checkpointer, error) {
	db, err := sqlitewasm.Open(context.Background(), dsn, cfg)
	if err != nil {
		return nil, err
	}
	ck := &checkpointer{db: db, kick: make(chan struct{}, 1), done: make(chan struct{}), logger: logger, dsn: dsn}
	go ck.run()
	return ck, nil
}

func (ck *checkpointer) run() {
	defer close(ck.done)
	for range ck.kick {
		if !ck.broken.Load() {
			ck.checkpoint()
		}
	}
}

func (ck *checkpointer) checkpoint() {
	defer func() {
		if p := recover(); p != nil {
			ck.broken.Store(true)
			ck.logger.Error("actorlite: checkpointing the events store panicked; the writer checkpoints again", "dsn", ck.dsn, "panic", p)
		}
	}()
	if _, _, err := ck.db.Checkpoint(); err != nil {
		if !errors.Is(err, messages.ErrBusy) {
			ck.broken.Store(true)
			ck.logger.Warn("actorlite: checkpointing the events store failed; the writer checkpoints again", "dsn", ck.dsn, "err", err)
		}
		return
	}
	ck.synced.Store(true)
}

// nudge asks for a checkpoint, unless one is asked for already.
func (ck *checkpointer) nudge() {
	select {
	case ck.kick <- struct{}{}:
	default:
	}
}

// stop waits for a checkpoint under way, then closes the connection.
func (ck *checkpointer) stop() {
	close(ck.kick)
	<-ck.done
	if err := ck.db.Close(); err != nil {
		ck.logger.Warn("actorlite: closing the events store's checkpointer", "dsn", ck.dsn, "err", err)
	}
}
