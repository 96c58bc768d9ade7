package actors

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// The events table: its schema, its migration from older versions, and the INSERT the
// writer runs for each event. supervisor's package doc describes it to users; keep the two
// in step.
//
// properties is declared "JSON TEXT": the first word picks the JSON converter (it reads back
// as json.RawMessage), and TEXT gives the column TEXT affinity. A column declared plain JSON
// has NUMERIC affinity, under which SQLite turns properties that are bare numbers into
// numbers: 12345678901234567890 would be stored as the REAL 1.2345678901234567e+19, 1.0 as
// the INTEGER 1.

// eventsTableSQL is the CREATE TABLE of a new events table (without IF NOT EXISTS).
func eventsTableSQL(table string) string {
	return `CREATE TABLE "` + table + `" (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, ` +
		`properties JSON TEXT, timestamp DATETIME NOT NULL, idempotency_key TEXT)`
}

// eventsIndexSQL are the events table's indexes: per-user timelines, and one event per key.
func eventsIndexSQL(table string) string {
	q := `"` + table + `"`
	return `CREATE INDEX IF NOT EXISTS "` + table + `_user_id_timestamp" ON ` + q + ` (user_id, timestamp); ` +
		`CREATE UNIQUE INDEX IF NOT EXISTS "` + table + `_idempotency_key" ON ` + q +
		` (idempotency_key) WHERE idempotency_key IS NOT NULL;`
}

// eventsInsertSQL inserts one event; one whose key is already stored (or was inserted earlier
// in the same transaction) is skipped, and the writer acknowledges it all the same. The
// conflict target names the key's index alone: any other constraint a program added to the
// table still fails the batch, as before.
func eventsInsertSQL(table string) string {
	return `INSERT INTO "` + table + `" (user_id, name, properties, timestamp, idempotency_key) VALUES (?1, ?2, ?3, ?4, ?5) ` +
		`ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`
}

// ensureEventsTable creates the events table and its indexes if missing, and migrates a
// table made by an earlier version, in one IMMEDIATE transaction (two writers opening the
// same file at once do not both migrate it):
//   - a table without idempotency_key gets the column (ALTER TABLE ADD COLUMN: it rewrites
//     nothing; old rows read NULL, no key) and the key's unique index (one pass over the
//     table, once);
//   - a table whose properties are declared otherwise than JSON (BLOB, before) is left as it
//     is: its properties then read back as string, not json.RawMessage. Changing a column's
//     declared type means rebuilding the table, which the writer will not do unasked: it logs
//     a warning, and supervisor's package doc gives the statements that rebuild it.
//
// A table of that name lacking one of the columns the writer fills is a [*messages.ConfigError]
// (wrapping [messages.ErrConfig]): it is some other table.
func ensureEventsTable(db *sqlitewasm.Conn, table string, logger *slog.Logger) (err error) {
	if err := db.Begin(messages.Immediate); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			db.Rollback()
			return
		}
		err = db.Commit()
	}()
	row, err := db.QueryRow(`SELECT json_group_object(name, type) FROM pragma_table_info(?1)`, []any{table})
	if err != nil {
		return err
	}
	cols := map[string]string{}
	if text, _ := row.Index(0).(string); text != "" {
		if err := json.Unmarshal([]byte(text), &cols); err != nil {
			return fmt.Errorf("reading the columns of %q: %w", table, err)
		}
	}
	if len(cols) == 0 {
		return db.ExecScript(eventsTableSQL(table) + "; " + eventsIndexSQL(table))
	}
	for _, c := range []string{"user_id", "name", "properties", "timestamp"} {
		if _, ok := cols[c]; !ok {
			return &messages.ConfigError{Field: "Table", Reason: fmt.Sprintf(
				"table %q exists without the column %s: it is not an events table (name another Table)", table, c)}
		}
	}
	if _, ok := cols["idempotency_key"]; !ok {
		if err := db.ExecScript(`ALTER TABLE "` + table + `" ADD COLUMN idempotency_key TEXT`); err != nil {
			return err
		}
		logger.Info("actorlite: events table migrated: added the idempotency_key column and its unique index", "table", table)
	}
	if t := cols["properties"]; sqlitewasm.ConverterKey(t) != "JSON" {
		logger.Warn("actorlite: the events table's properties column is declared "+t+", not JSON TEXT: "+
			"properties read back as string, not json.RawMessage; see the supervisor package doc to rebuild the table",
			"table", table)
	}
	return db.ExecScript(eventsIndexSQL(table))
}
