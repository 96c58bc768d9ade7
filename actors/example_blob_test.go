package actors_test

import (
	"context"
	"fmt"
	"io"
	"log"
)

func ExampleConn_OpenBlob() {
	ctx := context.Background()
	s, conn := startExample(ctx)
	defer s.Stop(ctx)
	// A blob cannot grow: make room with zeroblob, then write into it.
	if _, err := conn.Exec(ctx, "CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB)"); err != nil {
		log.Fatal(err)
	}
	res, err := conn.Exec(ctx, "INSERT INTO files (data) VALUES (zeroblob(11))")
	if err != nil {
		log.Fatal(err)
	}
	blob, err := conn.OpenBlob(ctx, "files", "data", res.LastInsertID, true)
	if err != nil {
		log.Fatal(err)
	}
	defer blob.Close()
	if _, err := io.WriteString(blob, "hello world"); err != nil {
		log.Fatal(err)
	}
	if _, err := blob.Seek(6, io.SeekStart); err != nil {
		log.Fatal(err)
	}
	word, err := io.ReadAll(blob)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(blob.Size(), string(word))
	// Output:
	// 11 world
}
