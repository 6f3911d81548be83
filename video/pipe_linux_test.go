package video

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The pipe of frames holds pipeSize bytes where the kernel allows it.
func TestGrowPipe(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		t.Skip(err)
	}
	if most, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || most < pipeSize {
		t.Skipf("pipe-max-size %s", b)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	growPipe(r, pipeSize)
	c, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var size int
	c.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if size < pipeSize {
		t.Errorf("pipe of %d bytes, want %d", size, pipeSize)
	}
	if pipeSize/(DefaultWidth*DefaultHeight*3) > maxQueued {
		t.Errorf("the pipe holds %d frames of %dx%d, more than the %d frame times queued", pipeSize/(DefaultWidth*DefaultHeight*3), DefaultWidth, DefaultHeight, maxQueued)
	}
}
