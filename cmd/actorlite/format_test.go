package main

import (
	"strings"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

func TestFormats(t *testing.T) {
	if got := commas(1234567); got != "1,234,567" {
		t.Errorf("commas = %q", got)
	}
	if got := commas(-999); got != "-999" {
		t.Errorf("commas = %q", got)
	}
	for v, want := range map[float64]string{1: "1.0", 2.5: "2.5", -3: "-3.0", 1e20: "1e+20"} {
		if got := formatFloat(v); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", v, got, want)
		}
	}
	if got := textOf("a\tb\nc", "NULL", true); got != `a\tb\nc` {
		t.Errorf("textOf escapes: %q", got)
	}
	if got := string(jsonValue("<a&b>")); got != `"<a&b>"` {
		t.Errorf("jsonValue: %s", got)
	}
}

// TestTableEscapes checks that the table format escapes control characters and invalid UTF-8
// in column names as in values: a database cannot drive the terminal through either.
func TestTableEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ünï 🙂", "plain ünï 🙂"},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"\u009b31m", `\u009b31m`},
		{"del\x7f", `del\x7f`},
		{"bad\x9b\xffutf8", `bad\x9b\xffutf8`},
	}
	for _, tt := range tests {
		if got := textOf(tt.in, "NULL", true); got != tt.want {
			t.Errorf("textOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
		var b strings.Builder
		cols := []messages.Column{{Name: tt.in}}
		rb := messages.NewRowsBuilder(cols, 1)
		rb.Text([]byte(tt.in))
		rb.EndRow()
		if err := writeTable(&b, cols, rb.Rows(), true); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(b.String(), "\n")
		if len(lines) != 4 || lines[0] != tt.want || lines[2] != tt.want {
			t.Errorf("writeTable of column and value %q:\n%s", tt.in, b.String())
		}
	}
}
