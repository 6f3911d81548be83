package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagSynonyms maps the names Keras and PyTorch (Lightning) users may
// type for a setting to dlrun's flag, for suggestions only:
// "--learning-rate" is not accepted, but its error points at --lr.
var flagSynonyms = map[string]string{
	"learning-rate":  "lr",
	"max-epochs":     "epochs",
	"num-epochs":     "epochs",
	"early-stopping": "patience",
}

// unknownFlag is the error for --name, which cmd does not have: one line
// that suggests the nearest flags cmd has, or points at its help.
func unknownFlag(cmd *cobra.Command, name string) error {
	if near := nearestFlags(cmd, name); len(near) > 0 {
		return fmt.Errorf("unknown flag --%s; did you mean --%s?", name, strings.Join(near, " or --"))
	}
	return fmt.Errorf("unknown flag --%s (see '%s --help')", name, cmd.CommandPath())
}

// nearestFlags returns the flags of cmd nearest to name, best first, at
// most three. Underscores count as dashes (--batch_size is --batch-size);
// then a synonym from flagSynonyms is taken, else the flags at the smallest
// edit distance (at most 2, and at most a third of name's length), else
// those that name begins with or that begin with name (three letters at
// least in common).
func nearestFlags(cmd *cobra.Command, name string) []string {
	var known []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			known = append(known, f.Name)
		}
	})
	has := func(n string) bool { return cmd.Flags().Lookup(n) != nil }
	name = strings.ReplaceAll(name, "_", "-")
	if has(name) {
		return []string{string(cmd.Flags().GetNormalizeFunc()(cmd.Flags(), name))}
	}
	if to, ok := flagSynonyms[name]; ok && has(to) {
		return []string{to}
	}
	sort.Strings(known)
	best, bestD := []string(nil), 3
	for _, k := range known {
		d := editDistance(name, k)
		if d > 2 || 3*d > len(name) {
			continue
		}
		if d < bestD {
			best, bestD = nil, d
		}
		if d == bestD {
			best = append(best, k)
		}
	}
	if len(best) == 0 {
		for _, k := range known {
			short := min(len(k), len(name))
			if short >= 3 && (strings.HasPrefix(k, name) || strings.HasPrefix(name, k)) {
				best = append(best, k)
			}
		}
	}
	return best[:min(len(best), 3)]
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment) between a and b, in bytes: insertions, deletions,
// substitutions and transpositions of neighbours count one each.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
