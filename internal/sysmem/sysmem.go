// Package sysmem says how much memory this process may still reserve:
// the least of the machine's available memory, the cgroup's remaining
// limit and the address-space limit (ulimit -v), where each is known.
package sysmem

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// Available returns the bytes this process may still reserve and what
// bounds it ("MemAvailable", "cgroup memory.max", "ulimit -v"), or ok
// false where none of them can be read (other systems than Linux).
func Available() (bytes int64, source string, ok bool) {
	consider := func(v int64, src string) {
		if v < 0 {
			v = 0
		}
		if !ok || v < bytes {
			bytes, source, ok = v, src, true
		}
	}
	if v, found := meminfo("/proc/meminfo", "MemAvailable:"); found {
		consider(v, "MemAvailable")
	}
	if limit, found := readInt("/sys/fs/cgroup/memory.max"); found {
		used, _ := readInt("/sys/fs/cgroup/memory.current")
		consider(limit-used, "cgroup memory.max")
	} else if limit, found := readInt("/sys/fs/cgroup/memory/memory.limit_in_bytes"); found && limit < 1<<62 {
		used, _ := readInt("/sys/fs/cgroup/memory/memory.usage_in_bytes")
		consider(limit-used, "cgroup memory.limit_in_bytes")
	}
	if limit, found := addressSpaceLimit(); found {
		used, _ := meminfo("/proc/self/status", "VmSize:")
		consider(limit-used, "ulimit -v")
	}
	return bytes, source, ok
}

// readInt reads a file holding one integer ("max" and errors: not found).
func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	return v, err == nil
}

// meminfo reads the "key: N kB" line of a /proc file, in bytes.
func meminfo(path, key string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, key) {
			continue
		}
		fields := strings.Fields(line[len(key):])
		if len(fields) == 0 {
			return 0, false
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, false
		}
		if len(fields) > 1 && fields[1] == "kB" {
			v <<= 10
		}
		return v, true
	}
	return 0, false
}
