package main

import (
	"testing"
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
