// Package wire is the protobuf form of actorlite's requests, replies, values and errors, for
// the members of a supervisor/grid cluster: protoactor's remote carries protobuf messages only
// (a plain Go struct is dropped with a log line and its caller waits out its timeout). The
// schema is wire.proto; wire.pb.go is generated from it (see gen.go) and committed.
//
// The converters map package messages' types to their wire form and back:
//
//   - A value ([Value]) is NULL, an integer, a float, text, a blob, a time.Time, a bool or a
//     json.RawMessage, so that what a column's converter made (DATETIME → time.Time, BOOLEAN →
//     bool, JSON → json.RawMessage) arrives as it left. Arguments accept what a connection binds
//     (DESIGN §2): integers of every size (a uint64 above MaxInt64 is refused), floats, bool,
//     string, []byte, time.Time, json.RawMessage and driver.Valuer; anything else is an
//     [*messages.ArgError] naming the argument's position and type.
//   - An error ([Error]) carries the codes of every sentinel it wraps (package messages',
//     context.Canceled and context.DeadlineExceeded, plus the caller's own, see [EncodeError])
//     and its text; [DecodeError] gives back an error for which errors.Is holds for each of
//     them. errors.As for typed errors (*messages.ArgError, ...) does not cross the wire.
//   - Rows travel as values in column order; [DecodeRows] builds [messages.Row]s with
//     messages.RowsBuilder, so a row read on the caller's side is the same view as a local one.
//
// Text travels as bytes (a proto3 string must be valid UTF-8; SQLite text need not be).
// Decoding never panics on a malformed message: it returns an error (FuzzDecodeRequest).
//
// The package imports the standard library, package messages and google.golang.org/protobuf
// only: not protoactor, not gRPC.
package wire
