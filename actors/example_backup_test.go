package actors_test

import (
	"context"
	"log"
	"os"
)

func ExampleConn_Dump() {
	ctx := context.Background()
	s, conn := startExample(ctx)
	defer s.Stop(ctx)
	err := conn.ExecScript(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, data BLOB);
		INSERT INTO notes (body, data) VALUES ('it''s done', x'cafe'), (NULL, NULL);
		CREATE INDEX notes_body ON notes (body);
		CREATE VIEW bodies AS SELECT body FROM notes`)
	if err != nil {
		log.Fatal(err)
	}
	if err := conn.Dump(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// PRAGMA foreign_keys=OFF;
	// BEGIN TRANSACTION;
	// CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, data BLOB);
	// INSERT INTO "notes"("id","body","data") VALUES(1,'it''s done',X'CAFE');
	// INSERT INTO "notes"("id","body","data") VALUES(2,NULL,NULL);
	// CREATE INDEX notes_body ON notes (body);
	// CREATE VIEW bodies AS SELECT body FROM notes;
	// COMMIT;
}
