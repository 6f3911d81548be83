package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dlrun/dlrun/internal/atomicfile"
)

// checkOut checks the file that flag --name names before anything is
// done: that its folder exists and that the one rule for destinations
// (internal/atomicfile) lets dlrun write there. Every flag naming a file
// dlrun writes is checked here first.
func checkOut(name, path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("--%s %s: the folder %s does not exist", name, path, dir)
	}
	if _, err := atomicfile.Dest(path); err != nil {
		return outError(name, path, err)
	}
	return nil
}

// checkOutFolder checks the folder that flag --name names before anything
// is done: a folder, a link to one, or nothing (it will be made).
func checkOutFolder(name, path string) error {
	if path == "" {
		return nil
	}
	if err := atomicfile.CheckFolder(path); err != nil {
		return outError(name, path, err)
	}
	return nil
}

// outError is "--flag path: why", with the path named once: the cause
// of a *fs.PathError, or what the rule for destinations found there
// ("--out: P is a FIFO, not a regular file: ...").
func outError(flag, path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	var de *atomicfile.DestError
	switch {
	case errors.As(err, &de):
		return fmt.Errorf("--%s: %v", flag, de)
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("--%s %s: %v", flag, path, err)
}

// outOrRun names the flag at fault in an error of a command that reads
// --run and writes out: --out where the error is about out, --run
// otherwise.
func outOrRun(out string, err error) error {
	var de *atomicfile.DestError
	var pe *fs.PathError
	if errors.As(err, &de) || errors.As(err, &pe) && pe.Op == "writing" {
		return outError("out", out, err)
	}
	return atFlag("run", err)
}
