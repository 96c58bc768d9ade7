package messages_test

import (
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
)

// BenchmarkRowScan scans a row shaped like an analytics event (id, user, name, JSON
// properties, timestamp) into typed variables: the per-row cost a reader pays after a fetch.
func BenchmarkRowScan(b *testing.B) {
	cols := []messages.Column{{Name: "id"}, {Name: "user_id"}, {Name: "name"}, {Name: "properties"}, {Name: "timestamp", DeclType: "DATETIME"}}
	rb := messages.NewRowsBuilder(cols, 1)
	rb.Int(12345)
	rb.Text([]byte("user-42"))
	rb.Text([]byte("page_view"))
	rb.Blob([]byte(`{"path":"/pricing","ms":123}`))
	rb.Time(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	row := rb.Rows()[0]
	var (
		id         int64
		user, name string
		props      []byte
		ts         time.Time
	)
	b.ReportAllocs()
	for b.Loop() {
		if err := row.Scan(&id, &user, &name, &props, &ts); err != nil {
			b.Fatal(err)
		}
	}
}
