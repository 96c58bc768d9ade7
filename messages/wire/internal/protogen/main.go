// Command protogen generates wire.pb.go from wire.proto without protoc: it parses the schema
// with github.com/bufbuild/protocompile and hands it to protoc-gen-go (v1.33.0, the version of
// google.golang.org/protobuf in actorlite's go.mod) as protoc would, over the plugin protocol.
// It is its own module, so that its dependencies never reach actorlite's go.mod.
//
// Usage (from messages/wire, as its go:generate line does):
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.33.0
//	cd internal/protogen && go run . -dir ../.. wire.proto
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	dir := flag.String("dir", ".", "directory holding the .proto files; outputs are written there")
	plugin := flag.String("plugin", "protoc-gen-go", "the protoc-gen-go binary")
	flag.Parse()
	if err := run(*dir, *plugin, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(dir, plugin string, files []string) error {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{dir}})}
	compiled, err := c.Compile(context.Background(), files...)
	if err != nil {
		return err
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files, Parameter: proto.String("paths=source_relative")}
	seen := map[string]bool{}
	var add func(fd *descriptorpb.FileDescriptorProto)
	for _, f := range compiled {
		deps := f.Imports()
		for i := 0; i < deps.Len(); i++ {
			dep := protodesc.ToFileDescriptorProto(deps.Get(i).FileDescriptor)
			if !seen[dep.GetName()] {
				seen[dep.GetName()] = true
				req.ProtoFile = append(req.ProtoFile, dep)
			}
		}
		add = func(fd *descriptorpb.FileDescriptorProto) {
			if !seen[fd.GetName()] {
				seen[fd.GetName()] = true
				req.ProtoFile = append(req.ProtoFile, fd)
			}
		}
		add(protodesc.ToFileDescriptorProto(f))
	}
	in, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	cmd := exec.Command(plugin)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %w", plugin, err)
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		return err
	}
	if resp.Error != nil {
		return fmt.Errorf("%s: %s", plugin, resp.GetError())
	}
	for _, f := range resp.File {
		if err := os.WriteFile(filepath.Join(dir, f.GetName()), []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
