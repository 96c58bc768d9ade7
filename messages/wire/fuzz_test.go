package wire_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/messages/wire"
	"google.golang.org/protobuf/proto"
)

// FuzzValueRoundTrip: every value an encoder accepts arrives as it left (times in UTC).
func FuzzValueRoundTrip(f *testing.F) {
	f.Add(uint8(0), int64(1), 1.5, "text", []byte("blob"))
	f.Add(uint8(3), int64(math.MinInt64), math.Inf(1), "\xff", []byte{})
	f.Add(uint8(5), int64(253402300799), 0.0, "", []byte(nil))
	f.Fuzz(func(t *testing.T, kind uint8, i int64, fl float64, s string, b []byte) {
		var in any
		switch kind % 8 {
		case 0:
			in = i
		case 1:
			in = fl
		case 2:
			in = s
		case 3:
			in = b
		case 4:
			in = i%2 == 0
		case 5:
			in = time.Unix(i%253402300799, int64(uint64(i)%1e9)).UTC()
		case 6:
			in = nil
		case 7:
			in = uint64(i)
		}
		v, err := wire.EncodeValue(in)
		if err != nil {
			if kind%8 == 5 || (kind%8 == 7 && i < 0) {
				return // a time out of range, a uint64 above MaxInt64: refused, as documented
			}
			t.Fatalf("EncodeValue(%#v): %v", in, err)
		}
		raw, err := proto.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back wire.Value
		if err := proto.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		out, err := wire.DecodeValue(&back)
		if err != nil {
			t.Fatal(err)
		}
		switch x := in.(type) {
		case float64:
			if y := out.(float64); y != x && !(math.IsNaN(x) && math.IsNaN(y)) {
				t.Fatalf("%v → %v", x, y)
			}
		case []byte:
			if x == nil {
				if out != nil {
					t.Fatalf("nil blob → %#v", out)
				}
			} else if !bytes.Equal(out.([]byte), x) {
				t.Fatalf("%q → %q", x, out)
			}
		case time.Time:
			if !out.(time.Time).Equal(x) {
				t.Fatalf("%v → %v", x, out)
			}
		case uint64:
			if out != int64(x) {
				t.Fatalf("%v → %v", x, out)
			}
		default:
			if out != in {
				t.Fatalf("%#v → %#v", in, out)
			}
		}
	})
}

// FuzzDecodeRequest: decoding any bytes as a Request, and its parts with the converters,
// never panics; what decodes re-encodes.
func FuzzDecodeRequest(f *testing.F) {
	seed := &wire.Request{Deadline: wire.EncodeTime(time.Unix(1, 2)), IdempotencyKey: []byte("k"), Op: &wire.Request_Batch{Batch: &wire.Batch{Statements: []*wire.Statement{{Sql: []byte("INSERT INTO t VALUES (?)"), Args: []*wire.Value{{Kind: &wire.Value_Int{Int: 1}}, {Kind: &wire.Value_Time{Time: &wire.Time{Seconds: 5}}}}}}}}}
	b, _ := proto.Marshal(seed)
	f.Add(b)
	rep := &wire.Reply{Columns: []*wire.Column{{Name: []byte("a")}}, Rows: []*wire.Row{{Values: []*wire.Value{{Kind: &wire.Value_Text{Text: []byte("x")}}}}}, Error: &wire.Error{Codes: []int32{18, 200}, Message: "m"}}
	b, _ = proto.Marshal(rep)
	f.Add(b)
	// A time value past year 9999: it must not decode (no encoder accepts it back).
	b, _ = proto.Marshal(&wire.Request{Op: &wire.Request_Exec{Exec: &wire.Statement{Args: []*wire.Value{{Kind: &wire.Value_Time{Time: &wire.Time{Seconds: 1 << 40}}}}}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var req wire.Request
		if proto.Unmarshal(data, &req) == nil {
			_, _ = wire.DecodeTime(req.GetDeadline())
			for _, st := range req.GetBatch().GetStatements() {
				if args, err := wire.DecodeArgs(st.GetArgs()); err == nil {
					if _, err := wire.EncodeArgs(args); err != nil {
						t.Fatalf("decoded args do not re-encode: %v", err)
					}
				}
			}
			for _, r := range req.GetExecMany().GetRows() {
				_, _ = wire.DecodeArgs(r.GetValues())
			}
			if args, err := wire.DecodeArgs(req.GetExec().GetArgs()); err == nil {
				if _, err := wire.EncodeArgs(args); err != nil {
					t.Fatalf("decoded args do not re-encode: %v", err)
				}
			}
			for _, ev := range req.GetInsertEvents().GetEvents() {
				_, _ = wire.DecodeEvent(ev)
			}
		}
		var rep wire.Reply
		if proto.Unmarshal(data, &rep) == nil {
			cols := wire.DecodeColumns(rep.GetColumns())
			if rows, err := wire.DecodeRows(cols, rep.GetRows()); err == nil {
				for _, r := range rows {
					if _, _, err := wire.EncodeRow(r); err != nil {
						t.Fatalf("decoded row does not re-encode: %v", err)
					}
					_ = r.Map()
				}
			}
			_ = wire.DecodeError(rep.GetError(), map[int32]error{wire.CodeUser: messages.ErrBusy})
		}
	})
}
