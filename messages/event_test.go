package messages_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
)

func TestEventValidate(t *testing.T) {
	ok := messages.Event{UserID: "u", Name: "n"}
	with := func(f func(*messages.Event)) messages.Event { ev := ok; f(&ev); return ev }
	atLimit := json.RawMessage(`"` + strings.Repeat("x", messages.MaxEventProperties-2) + `"`)
	minus1 := time.FixedZone("", -3600)
	tests := []struct {
		name          string
		ev            messages.Event
		field, reason string // "" when valid
	}{
		{"minimal", ok, "", ""},
		{"properties", with(func(e *messages.Event) { e.Properties = json.RawMessage(`{"a":[1,2]}`) }), "", ""},
		{"properties at the limit", with(func(e *messages.Event) { e.Properties = atLimit }), "", ""},
		{"year 0000", with(func(e *messages.Event) { e.Timestamp = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) }), "", ""},
		{"year 9999", with(func(e *messages.Event) { e.Timestamp = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC) }), "", ""},
		{"empty UserID", with(func(e *messages.Event) { e.UserID = "" }), "UserID", "empty"},
		{"empty Name", with(func(e *messages.Event) { e.Name = "" }), "Name", "empty"},
		{"both empty: UserID first", messages.Event{}, "UserID", "empty"},
		{"properties over the limit", with(func(e *messages.Event) { e.Properties = append(atLimit[:len(atLimit):len(atLimit)], ' ') }),
			"Properties", "1048577 bytes, more than the limit of 1048576"},
		{"properties not JSON", with(func(e *messages.Event) { e.Properties = json.RawMessage(`{"a":`) }), "Properties", "not valid JSON"},
		{"year 10000", with(func(e *messages.Event) { e.Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), "Timestamp", "year outside 0000–9999"},
		{"year -1", with(func(e *messages.Event) { e.Timestamp = time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC) }), "Timestamp", "year outside 0000–9999"},
		{"key at the limit", with(func(e *messages.Event) { e.IdempotencyKey = strings.Repeat("k", messages.MaxIdempotencyKey) }), "", ""},
		{"key over the limit", with(func(e *messages.Event) { e.IdempotencyKey = strings.Repeat("k", messages.MaxIdempotencyKey+1) }),
			"IdempotencyKey", "257 bytes, more than the limit of 256"},
		{"local 9999, UTC 10000", with(func(e *messages.Event) { e.Timestamp = time.Date(9999, 12, 31, 23, 30, 0, 0, minus1) }), "Timestamp", "year outside 0000–9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ev.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ee *messages.EventError
			if !errors.As(err, &ee) || !errors.Is(err, messages.ErrBadEvent) {
				t.Fatalf("Validate() = %v, want an *EventError wrapping ErrBadEvent", err)
			}
			if ee.Index != 0 || ee.Field != tt.field || ee.Reason != tt.reason {
				t.Errorf("Validate() = %+v, want Index 0, Field %q, Reason %q", *ee, tt.field, tt.reason)
			}
			// The JSON name is the field's tag: what a client of the JSON form sent.
			f, ok := reflect.TypeFor[messages.Event]().FieldByName(tt.field)
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); !ok || ee.JSONField != tag {
				t.Errorf("JSONField %q, want the tag of %s, %q", ee.JSONField, tt.field, tag)
			}
		})
	}
}
