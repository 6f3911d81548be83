// Package allocs measures the memory a function allocates, for the tests
// and fuzz targets that bound what parsing hostile input may reserve.
package allocs

import "runtime"

// Bytes returns the bytes f allocates on the heap (runtime.MemStats
// TotalAlloc before and after; other goroutines' allocations in the
// meantime count too, so bounds should leave room for them).
func Bytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
