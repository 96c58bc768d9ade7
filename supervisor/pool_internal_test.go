package supervisor

import "testing"

func TestReaderCacheKiB(t *testing.T) {
	for _, tt := range []struct{ readers, want int }{
		{1, 8192}, {2, 8192}, {4, 8192}, {5, 6553}, {8, 4096}, {16, 2048}, {64, 2048}, {0, 8192},
	} {
		if got := readerCacheKiB(tt.readers); got != tt.want {
			t.Errorf("readerCacheKiB(%d) = %d, want %d", tt.readers, got, tt.want)
		}
	}
}
