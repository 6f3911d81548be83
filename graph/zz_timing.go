package graph

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

var TimeOps bool
var opTimes = map[string]time.Duration{}

func recordOp(name string, d time.Duration) {
	if i := strings.Index(name, "(0x"); i > 0 {
		j := strings.Index(name[i:], ")")
		name = name[:i] + name[i+j+1:]
	}
	opTimes[name] += d
}

func OpReport() string {
	type kv struct {
		k string
		v time.Duration
	}
	var all []kv
	var tot time.Duration
	for k, v := range opTimes {
		all = append(all, kv{k, v})
		tot += v
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	s := fmt.Sprintf("total %v\n", tot)
	for _, e := range all {
		s += fmt.Sprintf("%10v %5.1f%% %s\n", e.v.Round(time.Millisecond), 100*float64(e.v)/float64(tot), e.k)
	}
	return s
}
