package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// profiling holds the process options --cpuprofile and --memprofile
// (profileFlags): where to write pprof profiles of a training. They are
// not part of a run's configuration, so config.json does not record them
// and --resume accepts them.
type profiling struct {
	cpu, mem string // file paths; "" for none

	cpuFile *os.File // the CPU profile being written
	memTemp *os.File // the heap profile's temporary file, renamed to mem at the end
}

// start creates the profile files and starts the CPU profile. A path that
// cannot be created is a one-line error naming its flag and the path,
// given before anything else is done. After a nil error, stop must be
// called.
func (p *profiling) start() error {
	if p.mem != "" {
		// Create the temporary file now, so that a folder where the
		// profile cannot be written is refused before training, not after.
		f, err := os.CreateTemp(filepath.Dir(p.mem), "."+filepath.Base(p.mem)+".tmp-*")
		if err != nil {
			return pathError("memprofile", p.mem, err)
		}
		p.memTemp = f
	}
	if p.cpu != "" {
		f, err := os.Create(p.cpu)
		if err != nil {
			p.discardMem()
			return pathError("cpuprofile", p.cpu, err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			os.Remove(p.cpu)
			p.discardMem()
			return fmt.Errorf("--cpuprofile %s: %v", p.cpu, err)
		}
		p.cpuFile = f
	}
	return nil
}

// stop stops the CPU profile and closes its file, and writes the heap
// profile (after a garbage collection) atomically: to its temporary file,
// renamed over the path only once complete. It is called whether or not
// training succeeded; it returns the first error of the profiles.
func (p *profiling) stop() error {
	var errs []error
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		if err := p.cpuFile.Close(); err != nil {
			errs = append(errs, pathError("cpuprofile", p.cpu, err))
		}
		p.cpuFile = nil
	}
	if p.memTemp != nil {
		f := p.memTemp
		p.memTemp = nil
		runtime.GC()
		err := pprof.WriteHeapProfile(f)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), p.mem)
		}
		if err != nil {
			os.Remove(f.Name())
			errs = append(errs, pathError("memprofile", p.mem, err))
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// discardMem removes the heap profile's temporary file.
func (p *profiling) discardMem() {
	if p.memTemp != nil {
		p.memTemp.Close()
		os.Remove(p.memTemp.Name())
		p.memTemp = nil
	}
}

// with runs f between start and stop. f's error comes first; a profile's
// error is returned when f succeeded.
func (p *profiling) with(f func() error) error {
	if err := p.start(); err != nil {
		return err
	}
	err := f()
	if perr := p.stop(); err == nil {
		err = perr
	}
	return err
}

// pathError is "--flag path: why", with the path named once.
func pathError(flag, path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("--%s %s: %v", flag, path, err)
}
