package allocs

import "testing"

var sink []byte

func TestBytesSeesAnAllocation(t *testing.T) {
	if n := Bytes(func() { sink = make([]byte, 1<<20) }); n < 1<<20 || n > 2<<20 {
		t.Fatalf("a 1 MiB slice: %d bytes", n)
	}
}
