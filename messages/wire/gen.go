package wire

// wire.pb.go is generated from wire.proto by protoc-gen-go v1.33.0 (the version of
// google.golang.org/protobuf in go.mod). This machine's toolchain has no protoc, so
// internal/protogen (its own module) parses the schema with bufbuild/protocompile and runs
// protoc-gen-go as a protoc plugin; `protoc --go_out=. --go_opt=paths=source_relative
// wire.proto` gives the same file. CI does not regenerate it: run this after editing
// wire.proto and commit both.
//go:generate go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.33.0
//go:generate sh -c "cd internal/protogen && go run . -dir ../.. wire.proto"
