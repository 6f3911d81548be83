package experiments

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the most bytes an experiment's name may hold: the name is
// a folder's name (runs/experiments/<name>), and 255 bytes is the longest
// file name that common file systems allow.
const MaxNameLen = 255

// MaxSeeds is the most seeds an experiment may list. Each seed is a whole
// training run; papers report 3 to 10.
const MaxSeeds = 1000

// CheckName reports whether name can name an experiment. The name
// becomes a folder (runs/experiments/<name>, reproduce's run folders), so
// it must be one path element that stays where it is put: not empty, no
// path separator (/ or \), no "..", no control characters, valid UTF-8,
// at most MaxNameLen bytes. The error names the field and the value.
func CheckName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("name %q: %s (the name is a folder's name)", name, why)
	}
	switch {
	case name == "":
		return fmt.Errorf("name: empty (the name is a folder's name)")
	case len(name) > MaxNameLen:
		return fmt.Errorf("name of %d bytes: more than %d (the name is a folder's name)", len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case strings.ContainsAny(name, `/\`):
		return bad("has a path separator")
	case strings.Contains(name, ".."):
		return bad(`has ".."`)
	case name == ".":
		return bad(`is "."`)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return bad("has a control character")
	}
	return nil
}

// CheckSeeds reports whether seeds can be an experiment's seeds: at least
// one and at most MaxSeeds, each positive (seeds count from 1) and none
// listed twice, since each seed trains into its own folder seed-<n>.
func CheckSeeds(seeds []uint64) error {
	if len(seeds) == 0 {
		return fmt.Errorf("seeds: none listed")
	}
	if len(seeds) > MaxSeeds {
		return fmt.Errorf("seeds: %d listed, more than the %d an experiment may have", len(seeds), MaxSeeds)
	}
	seen := make(map[uint64]bool, len(seeds))
	for _, s := range seeds {
		if s == 0 {
			return fmt.Errorf("seeds: seed 0 is not allowed (seeds count from 1)")
		}
		if seen[s] {
			return fmt.Errorf("seeds: seed %d is listed twice (each seed trains into its own folder seed-%d)", s, s)
		}
		seen[s] = true
	}
	return nil
}
