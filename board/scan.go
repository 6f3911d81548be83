package board

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dlrun/dlrun/rundir"
)

// recentWrite is how recently a run's config.json or metrics.csv must
// have changed for the board to count it as running where the system does
// not say which files are locked (not Linux): a run writes metrics.csv
// after every epoch.
const recentWrite = 5 * time.Minute

// snapshot is the board's view of its directory at one scan; it is not
// changed once made.
type snapshot struct {
	// version changes whenever a row of the table does.
	version string
	runs    []Run // by ID
	index   map[string]int
	curves  map[string][]byte // each run's Curves, as JSON
	// notes are what the page should say about the scan: a folder it
	// could not read, runs left out.
	notes []string
	// body is the JSON of /api/runs.
	body []byte
}

// scanner finds the run folders under a root and reads them, keeping what
// it parsed of each file until the file changes.
type scanner struct {
	root      *os.Root
	fsys      fs.FS
	configs   *fileCache[*config]
	summaries *fileCache[*summary]
	metrics   *fileCache[*rundir.Table]
	encoded   map[string]encodedCurves // by run ID
	now       func() time.Time
}

// encodedCurves are a run's Curves as JSON, for the metrics file of stamp.
type encodedCurves struct {
	stamp stamp
	json  []byte
}

func newScanner(root *os.Root) *scanner {
	return &scanner{
		root:      root,
		fsys:      root.FS(),
		configs:   newFileCache(maxConfig, parseConfig),
		summaries: newFileCache(maxSummary, parseSummary),
		metrics:   newFileCache(maxMetrics, rundir.ParseMetrics),
		encoded:   map[string]encodedCurves{},
		now:       time.Now,
	}
}

// scan reads the directory as it is now.
func (s *scanner) scan() *snapshot {
	snap := &snapshot{index: map[string]int{}, curves: map[string][]byte{}}
	var ids []string
	s.walk(".", 0, &ids, &snap.notes)
	if len(ids) > maxRuns {
		snap.notes = append(snap.notes, fmt.Sprintf("more than %d run folders: the first %d found are listed", maxRuns, maxRuns))
		ids = ids[:maxRuns]
	}
	slices.Sort(ids)
	locks, known := readLocks()
	encoded := make(map[string]encodedCurves, len(ids))
	h := fnv.New64a()
	for _, id := range ids {
		f := s.read(id, locks, known)
		r := describe(id, f)
		snap.index[id] = len(snap.runs)
		snap.runs = append(snap.runs, r)
		e, ok := s.encoded[id]
		if !ok || e.stamp != f.stamps[2] {
			b, _ := curvesOf(id, f.metrics).MarshalJSON()
			e = encodedCurves{f.stamps[2], b}
		}
		encoded[id] = e
		snap.curves[id] = e.json
		fmt.Fprintf(h, "%q %s\n", id, r.Rev)
	}
	s.encoded = encoded
	s.configs.sweep()
	s.summaries.sweep()
	s.metrics.sweep()
	fmt.Fprintf(h, "%q", snap.notes)
	snap.version = fmt.Sprintf("%016x", h.Sum64())
	snap.body, _ = json.Marshal(struct {
		Version string   `json:"version"`
		Runs    []Run    `json:"runs"`
		Notes   []string `json:"notes"`
	}{snap.version, nonNil(snap.runs), nonNil(snap.notes)})
	return snap
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// walk adds to ids the run folders at and under dir, depth folders below
// the root, and to notes the folders it could not read. It follows no
// symbolic link to a folder, and skips hidden folders.
func (s *scanner) walk(dir string, depth int, ids, notes *[]string) {
	entries, err := fs.ReadDir(s.fsys, dir)
	if err != nil {
		if len(*notes) < 5 {
			*notes = append(*notes, fmt.Sprintf("cannot read folder %s: %v", dir, pathErr(err)))
		}
		return
	}
	isRun := len(entries) == 0 && dir != "."
	for _, e := range entries {
		if !e.IsDir() && slices.Contains(rundir.Markers, e.Name()) {
			isRun = true
		}
	}
	if isRun {
		*ids = append(*ids, dir)
	}
	if depth == maxDepth || len(*ids) > maxRuns {
		return
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			s.walk(path.Join(dir, e.Name()), depth+1, ids, notes)
		}
	}
}

// read reads the files of run folder id; locks are the files locked now,
// if known.
func (s *scanner) read(id string, locks lockTable, known bool) *folderFiles {
	f := &folderFiles{}
	var err error
	f.cfg, f.stamps[0], f.hasConfig, err = s.configs.get(s.fsys, path.Join(id, rundir.Config))
	if err != nil {
		f.problems = append(f.problems, fileProblem(rundir.Config, err))
	}
	f.sum, f.stamps[1], f.hasSum, err = s.summaries.get(s.fsys, path.Join(id, rundir.Summary))
	if err != nil {
		f.problems = append(f.problems, fileProblem(rundir.Summary, err))
	}
	var hasMetrics bool
	f.metrics, f.stamps[2], hasMetrics, err = s.metrics.get(s.fsys, path.Join(id, rundir.Metrics))
	if err != nil {
		f.problems = append(f.problems, fileProblem(rundir.Metrics, err))
	}
	if known {
		if fi, err := s.root.Lstat(filepath.FromSlash(path.Join(id, rundir.Lock))); err == nil {
			f.running = locks.held(fi)
		}
	} else if !f.hasSum {
		newest := max(f.stamps[0].mtime, f.stamps[2].mtime)
		f.running = (f.hasConfig || hasMetrics) && s.now().Sub(time.Unix(0, newest)) < recentWrite
	}
	return f
}

// pathErr drops the operation and path from err, a *fs.PathError.
func pathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
