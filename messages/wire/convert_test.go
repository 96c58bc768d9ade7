package wire_test

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/messages/wire"
	"google.golang.org/protobuf/proto"
)

type valuer struct{ v any }

func (v valuer) Value() (driver.Value, error) { return v.v, nil }

// roundTrip encodes v, marshals and unmarshals the Value, and decodes it.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	wv, err := wire.EncodeValue(v)
	if err != nil {
		t.Fatalf("EncodeValue(%#v): %v", v, err)
	}
	b, err := proto.Marshal(wv)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	var back wire.Value
	if err := proto.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, err := wire.DecodeValue(&back)
	if err != nil {
		t.Fatalf("DecodeValue(%#v): %v", v, err)
	}
	return got
}

func TestValueRoundTrip(t *testing.T) {
	ts := time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC)
	tests := []struct {
		in, want any
	}{
		{nil, nil},
		{int64(math.MinInt64), int64(math.MinInt64)},
		{int64(math.MaxInt64), int64(math.MaxInt64)},
		{7, int64(7)},
		{int8(-3), int64(-3)},
		{uint32(math.MaxUint32), int64(math.MaxUint32)},
		{uint64(math.MaxInt64), int64(math.MaxInt64)},
		{3.5, 3.5},
		{float32(0.25), 0.25},
		{math.Inf(-1), math.Inf(-1)},
		{true, true},
		{"héllo", "héllo"},
		{"\xff\xfe not utf-8", "\xff\xfe not utf-8"},
		{"", ""},
		{[]byte{0, 1, 2}, []byte{0, 1, 2}},
		{[]byte{}, []byte{}},
		{[]byte(nil), nil},
		{json.RawMessage(`{"a":1}`), json.RawMessage(`{"a":1}`)},
		{json.RawMessage{}, json.RawMessage{}},
		{ts, ts},
		{ts.In(time.FixedZone("x", 3600)), ts},
		{valuer{"v"}, "v"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T/%v", tt.in, tt.in), func(t *testing.T) {
			got := roundTrip(t, tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestValueNaN(t *testing.T) {
	if got := roundTrip(t, math.NaN()).(float64); !math.IsNaN(got) {
		t.Fatalf("got %v", got)
	}
}

func TestEncodeArgsRefuses(t *testing.T) {
	tests := []any{make(chan int), uint64(math.MaxUint64), struct{}{}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), valuer{valuer{1}}, valuer{make(chan int)}}
	for _, a := range tests {
		_, err := wire.EncodeArgs([]any{1, a})
		var ae *messages.ArgError
		if !errors.As(err, &ae) || ae.Pos != 2 || !errors.Is(err, messages.ErrBadArgument) {
			t.Errorf("EncodeArgs(%T): %v, want an ArgError at position 2", a, err)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	// Times no encoder produces (years past 9999, before 0000; seconds that overflow) too: a
	// decoded value always encodes again.
	for _, v := range []*wire.Value{nil, {}, {Kind: &wire.Value_Time{}}, {Kind: &wire.Value_Time{Time: &wire.Time{Nanos: -1}}},
		{Kind: &wire.Value_Time{Time: &wire.Time{Seconds: 253402300800}}}, {Kind: &wire.Value_Time{Time: &wire.Time{Seconds: -1 << 63}}},
		{Kind: &wire.Value_Time{Time: &wire.Time{Seconds: 1<<63 - 1}}}, {Kind: &wire.Value_Time{Time: &wire.Time{Seconds: -62167219201}}}} {
		if _, err := wire.DecodeValue(v); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("DecodeValue(%v): %v, want ErrMalformed", v, err)
		}
		if v != nil {
			if _, err := wire.DecodeRows([]messages.Column{{Name: "a"}}, []*wire.Row{{Values: []*wire.Value{v}}}); !errors.Is(err, wire.ErrMalformed) {
				t.Errorf("DecodeRows(%v): %v, want ErrMalformed", v, err)
			}
		}
	}
	for _, s := range []int64{253402300799, -62167219200} { // 9999-12-31T23:59:59, 0000-01-01
		if _, err := wire.DecodeValue(&wire.Value{Kind: &wire.Value_Time{Time: &wire.Time{Seconds: s}}}); err != nil {
			t.Errorf("DecodeValue of a time at %d s: %v", s, err)
		}
	}
	cols := []messages.Column{{Name: "a"}, {Name: "b"}}
	if _, err := wire.DecodeRows(cols, []*wire.Row{{Values: []*wire.Value{{Kind: &wire.Value_Int{Int: 1}}}}}); !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("DecodeRows with a short row: %v", err)
	}
}

func TestRowsRoundTrip(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	cols := []messages.Column{{Name: "i", DeclType: "INTEGER"}, {Name: "t", DeclType: "TEXT"}, {Name: "at", DeclType: "DATETIME"}, {Name: "ok", DeclType: "BOOLEAN"}, {Name: "j", DeclType: "JSON"}, {Name: "n"}, {Name: "b", DeclType: "BLOB"}, {Name: "r", DeclType: "REAL"}}
	b := messages.NewRowsBuilder(cols, 2)
	for i := range 2 {
		b.Int(int64(i))
		b.Text([]byte("x"))
		b.Time(ts)
		b.Value(i == 1)
		if i == 0 {
			b.Value(json.RawMessage(`[1]`))
		} else {
			b.Value(json.RawMessage{}) // empty, not nil: a JSON column holding ''
		}
		b.Null()
		b.Blob([]byte{byte(i)})
		b.Float(1.5)
	}
	rows := b.Rows()
	var wrows []*wire.Row
	for _, r := range rows {
		wr, size, err := wire.EncodeRow(r)
		if err != nil || size <= 0 {
			t.Fatal(err, size)
		}
		wrows = append(wrows, wr)
	}
	back, err := wire.DecodeRows(wire.DecodeColumns(wire.EncodeColumns(cols)), wrows)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if !reflect.DeepEqual(rows[i].Values(), back[i].Values()) {
			t.Errorf("row %d: %#v, want %#v", i, back[i].Values(), rows[i].Values())
		}
		if !reflect.DeepEqual(rows[i].Map(), back[i].Map()) {
			t.Errorf("row %d: map %v, want %v", i, back[i].Map(), rows[i].Map())
		}
	}
	var at time.Time
	var ok bool
	if err := back[1].Scan(new(any), new(string), &at, &ok, new(json.RawMessage), new(any), new([]byte), new(float64)); err != nil || !at.Equal(ts) || !ok {
		t.Fatalf("Scan: %v %v %v", err, at, ok)
	}
}

var errMine = errors.New("actorlite: mine")

func TestErrorRoundTrip(t *testing.T) {
	user := map[int32]error{wire.CodeUser: errMine}
	tests := []error{
		messages.ErrConstraint,
		fmt.Errorf("exec: %w", &messages.ArgError{Pos: 1, Type: "chan int", Reason: "no"}),
		errors.Join(messages.ErrClosed, messages.ErrCrashed),
		fmt.Errorf("query: %w", context.DeadlineExceeded),
		fmt.Errorf("x: %w", errMine),
		errors.New("plain \xff"),
	}
	for _, in := range tests {
		e := wire.EncodeError(in, user)
		b, err := proto.Marshal(e)
		if err != nil {
			t.Fatalf("%v: %v", in, err)
		}
		var back wire.Error
		if err := proto.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		out := wire.DecodeError(&back, user)
		for _, s := range []error{messages.ErrConstraint, messages.ErrBadArgument, messages.ErrClosed, messages.ErrCrashed, context.DeadlineExceeded, errMine, messages.ErrBusy} {
			if errors.Is(in, s) != errors.Is(out, s) {
				t.Errorf("%v: errors.Is(%v) = %v on the other side", in, s, errors.Is(out, s))
			}
		}
		if in.Error() != out.Error() && !bytes.ContainsRune([]byte(in.Error()), 0xFFFD) && in.Error() != "plain \xff" {
			t.Errorf("text %q, want %q", out, in)
		}
	}
	if wire.EncodeError(nil, nil) != nil || wire.DecodeError(nil, nil) != nil {
		t.Fatal("nil error")
	}
}

func TestEventRoundTrip(t *testing.T) {
	ev := messages.Event{UserID: "u", Name: "n", Properties: json.RawMessage(`{"k":"v"}`), Timestamp: time.Date(2025, 5, 6, 7, 8, 9, 10, time.UTC)}
	back, err := wire.DecodeEvent(wire.EncodeEvent(ev))
	if err != nil || !reflect.DeepEqual(back, ev) {
		t.Fatalf("%v %#v", err, back)
	}
	back, err = wire.DecodeEvent(wire.EncodeEvent(messages.Event{UserID: "u", Name: "n"}))
	if err != nil || !back.Timestamp.IsZero() || back.Properties != nil {
		t.Fatalf("%v %#v", err, back)
	}
}

// Every sentinel of package messages (and context's) survives the wire alone and wrapped, and
// its decoded error matches no other sentinel.
func TestEverySentinelRoundTrips(t *testing.T) {
	all := []error{
		messages.ErrClosed, messages.ErrCrashed, messages.ErrTransactionLost, messages.ErrCursorClosed,
		messages.ErrBlobClosed, messages.ErrUnknownCursor, messages.ErrUnknownRequest, messages.ErrNoRows,
		messages.ErrInTransaction, messages.ErrNoTransaction, messages.ErrBadArgument, messages.ErrScan,
		messages.ErrMultipleStatements, messages.ErrConvert, messages.ErrNotAuthorized, messages.ErrNotReadOnly,
		messages.ErrBusy, messages.ErrConstraint, messages.ErrInterrupted, messages.ErrReadOnly,
		messages.ErrCantOpen, messages.ErrCorrupt, messages.ErrSQL, messages.ErrConfig, messages.ErrNoEventStore,
		messages.ErrBadEvent, messages.ErrOverloaded, context.Canceled, context.DeadlineExceeded, wire.ErrMalformed,
	}
	for _, s := range all {
		ins := []error{s, fmt.Errorf("op: %w", s)}
		if s == messages.ErrConfig {
			ins = append(ins, &messages.ConfigError{Field: "x", Reason: "y"})
		}
		for _, in := range ins {
			b, err := proto.Marshal(wire.EncodeError(in, nil))
			if err != nil {
				t.Fatal(err)
			}
			var back wire.Error
			if err := proto.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			out := wire.DecodeError(&back, nil)
			for _, other := range all {
				if errors.Is(in, other) != errors.Is(out, other) {
					t.Errorf("%v: errors.Is(%v) = %v on the other side", in, other, errors.Is(out, other))
				}
			}
		}
	}
}
