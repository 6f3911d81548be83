//go:build cgo

package main

// #cgo LDFLAGS: -lz
// #include <stdlib.h>
// #include <string.h>
// #include <zlib.h>
//
// // gzip9 compresses src into dst (of capacity *dstLen) as a gzip stream at
// // level 9 with zlib's default header (no name, mtime 0).
// static int gzip9(unsigned char *src, unsigned long srcLen, unsigned char *dst, unsigned long *dstLen) {
//   z_stream s;
//   memset(&s, 0, sizeof s);
//   int rc = deflateInit2(&s, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
//   if (rc != Z_OK) return rc;
//   s.next_in = src; s.avail_in = srcLen;
//   s.next_out = dst; s.avail_out = *dstLen;
//   rc = deflate(&s, Z_FINISH);
//   *dstLen = s.total_out;
//   deflateEnd(&s);
//   return rc == Z_STREAM_END ? Z_OK : (rc == Z_OK ? Z_BUF_ERROR : rc);
// }
import "C"

import (
	"unsafe"

	"github.com/pkg/errors"
)

// gzip9 compresses b with zlib at level 9 (no name, mtime 0), with the
// header's OS byte set to 255 ("unknown") as in the recorded files.
func gzip9(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("nothing to compress")
	}
	capacity := C.ulong(C.compressBound(C.uLong(len(b))) + 64)
	src := C.CBytes(b)
	defer C.free(src)
	dst := C.malloc(C.size_t(capacity))
	defer C.free(dst)
	n := capacity
	if rc := C.gzip9((*C.uchar)(src), C.ulong(len(b)), (*C.uchar)(dst), &n); rc != C.Z_OK {
		return nil, errors.Errorf("zlib deflate failed (code %d)", int(rc))
	}
	z := C.GoBytes(unsafe.Pointer(dst), C.int(n))
	z[9] = 0xff
	return z, nil
}
