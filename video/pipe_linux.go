package video

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// growPipe asks the kernel to let the pipe behind r hold size bytes
// (Linux's default is 64 KiB), so that ffmpeg decodes on while the
// detector scores a window of frames. It is a request: a kernel that
// refuses it (a user over its pipe-user-pages-soft quota, say) leaves the
// pipe as it was, which only costs speed.
func growPipe(r io.Reader, size int) {
	f, ok := r.(*os.File)
	if !ok {
		return
	}
	c, err := f.SyscallConn()
	if err != nil {
		return
	}
	c.Control(func(fd uintptr) {
		unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
	})
}
