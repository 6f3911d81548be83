package main

import (
	"fmt"
	"runtime"
	"runtime/pprof"

	"github.com/dlrun/dlrun/internal/atomicfile"
)

// profiling holds the process options --cpuprofile and --memprofile
// (profileFlags): where to write pprof profiles of a training. They are
// not part of a run's configuration, so config.json does not record them
// and --resume accepts them.
type profiling struct {
	cpu, mem string // file paths; "" for none

	cpuFile *atomicfile.File // the CPU profile being written
	memFile *atomicfile.File // the heap profile, written at the end
}

// start creates the profile files and starts the CPU profile. Both are
// written atomically (internal/atomicfile), so a path that the one rule
// for destinations refuses (a device, a FIFO, a link to one) or that
// cannot be created is a one-line error naming its flag and the path,
// given before anything else is done, and an existing profile is replaced
// only once the new one is complete. After a nil error, stop must be
// called.
func (p *profiling) start() error {
	if p.mem != "" {
		f, err := atomicfile.Create(p.mem, 0o644)
		if err != nil {
			return outError("memprofile", p.mem, err)
		}
		p.memFile = f
	}
	if p.cpu != "" {
		f, err := atomicfile.Create(p.cpu, 0o644)
		if err != nil {
			p.discardMem()
			return outError("cpuprofile", p.cpu, err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Abort()
			p.discardMem()
			return fmt.Errorf("--cpuprofile %s: %v", p.cpu, err)
		}
		p.cpuFile = f
	}
	return nil
}

// stop stops the CPU profile and commits its file, and writes the heap
// profile (after a garbage collection). It is called whether or not
// training succeeded; it returns the first error of the profiles.
func (p *profiling) stop() error {
	var errs []error
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		if err := p.cpuFile.Commit(); err != nil {
			errs = append(errs, outError("cpuprofile", p.cpu, err))
		}
		p.cpuFile = nil
	}
	if p.memFile != nil {
		f := p.memFile
		p.memFile = nil
		runtime.GC()
		err := pprof.WriteHeapProfile(f)
		if err == nil {
			err = f.Commit()
		} else {
			f.Abort()
		}
		if err != nil {
			errs = append(errs, outError("memprofile", p.mem, err))
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// discardMem removes the heap profile's temporary file.
func (p *profiling) discardMem() {
	if p.memFile != nil {
		p.memFile.Abort()
		p.memFile = nil
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
