package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed aiosqlite_bench.py
var pythonScript []byte

// python runs aiosqlite_bench.py under the system Python (Debian's python3-aiosqlite).
type python struct {
	exe, script string
	// notRun says why aiosqlite cannot run ("" when it can).
	notRun   string
	versions map[string]string
}

// newPython writes the script into dir and checks that exe can import aiosqlite.
func newPython(ctx context.Context, exe, dir string) *python {
	p := &python{exe: exe, script: filepath.Join(dir, "aiosqlite_bench.py")}
	if err := os.WriteFile(p.script, pythonScript, 0o644); err != nil {
		p.notRun = err.Error()
		return p
	}
	if _, err := os.Stat(exe); err != nil {
		p.notRun = fmt.Sprintf("%s not found", exe)
		return p
	}
	var v map[string]string
	if err := p.call(ctx, map[string]any{"op": "versions"}, &v); err != nil {
		if strings.Contains(err.Error(), "No module named 'aiosqlite'") {
			p.notRun = fmt.Sprintf("python3-aiosqlite is not installed (%s cannot import aiosqlite)", exe)
		} else {
			p.notRun = err.Error()
		}
		return p
	}
	p.versions = v
	return p
}

// call runs the script with spec as its argument and decodes its JSON output into out.
func (p *python) call(ctx context.Context, spec map[string]any, out any) error {
	arg, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, p.exe, p.script, string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if lines := strings.Split(msg, "\n"); len(lines) > 0 {
			msg = lines[len(lines)-1] // the exception
		}
		return fmt.Errorf("%s: %w: %s", spec["op"], err, msg)
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		return fmt.Errorf("%s: bad output %q: %w", spec["op"], stdout, err)
	}
	return nil
}

// measure runs one measurement of w on the database at path, in idiom.
func (p *python) measure(ctx context.Context, w *workload, path, idiom string) (sample, error) {
	spec := maps.Clone(w.py)
	spec["path"], spec["idiom"] = path, idiom
	var s sample
	return s, p.call(ctx, spec, &s)
}
