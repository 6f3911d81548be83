package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The one rule for every path dlrun writes (docs/reliability.md):
//
//   - A file is written only where nothing exists yet or where a regular
//     file is; a device, FIFO, socket or folder in its place is refused,
//     and the refusal names the path and what is there.
//   - A symbolic link is followed: when it leads, through any number of
//     links, to a regular file, that file is replaced (in its own folder,
//     so the link stays a link); when it leads to anything else, or to
//     nothing, it is refused.
//   - A folder (a run folder, an experiment folder) is used where a folder
//     is, or a link to one, and made where nothing is; anything else is
//     refused.
//
// Dest and MkdirAll apply the rule; WriteFile, Create and WriteNew apply
// it before they write and again just before the rename, so the rename
// never lands on a device, FIFO or socket.

// Sentinel errors of the rule, wrapped by *DestError.
var (
	// ErrNotRegular is wrapped by the error for a file destination that
	// exists and is not a regular file (or a link to one).
	ErrNotRegular = errors.New("not a regular file")
	// ErrNotFolder is wrapped by the error for a folder destination that
	// exists and is not a folder (or a link to one).
	ErrNotFolder = errors.New("not a folder")
)

// DestError is the refusal of a destination: Path, what is there (Found:
// "a FIFO", "a character device"), and for a symbolic link, where it
// leads (Link; Found then describes the end of the link, "nothing" for a
// dangling one). Err is ErrNotRegular or ErrNotFolder.
type DestError struct {
	Path  string
	Found string
	Link  string
	Err   error
}

// Error says what is at Path and what dlrun writes instead, in one line.
func (e *DestError) Error() string {
	want, rule := "a regular file", "dlrun replaces only regular files (or links to one)"
	if e.Err == ErrNotFolder {
		want, rule = "a folder", "dlrun writes only into folders (or links to one)"
	}
	switch {
	case e.Link != "" && e.Found == "nothing":
		return fmt.Sprintf("%s is a symbolic link to %s, which does not exist: dlrun follows a link only to an existing %s", e.Path, e.Link, strings.TrimPrefix(want, "a "))
	case e.Link != "":
		return fmt.Sprintf("%s is a symbolic link to %s, %s, not %s: %s", e.Path, e.Link, e.Found, want, rule)
	}
	return fmt.Sprintf("%s is %s, not %s: %s", e.Path, e.Found, want, rule)
}

// Unwrap returns ErrNotRegular or ErrNotFolder.
func (e *DestError) Unwrap() error { return e.Err }

// Dest returns the path a file write to path lands on under the rule
// above: path itself when nothing or a regular file is there, the regular
// file a symbolic link leads to, or a *DestError. Other errors (a folder
// that cannot be read) name path.
func Dest(path string) (string, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil
	case err != nil:
		return "", fmt.Errorf("%s: %w", path, unwrapPath(err))
	case fi.Mode().IsRegular():
		return path, nil
	case fi.Mode()&fs.ModeSymlink == 0:
		return "", &DestError{Path: path, Found: Describe(fi.Mode()), Err: ErrNotRegular}
	}
	target, found, end, err := follow(path)
	if err != nil {
		return "", err
	}
	if !end.IsRegular() {
		return "", &DestError{Path: path, Found: found, Link: target, Err: ErrNotRegular}
	}
	return target, nil
}

// MkdirAll makes folder path (and its parents) with permissions perm
// where nothing is, and returns the topmost folder it made (path itself,
// or a parent that did not exist either), "" where path was a folder, or
// a symbolic link to one, already: undoing the call is removing made and
// what it holds. Anything else at path is a *DestError (CheckFolder).
func MkdirAll(path string, perm os.FileMode) (made string, err error) {
	exists, err := checkFolder(path)
	if err != nil || exists {
		return "", err
	}
	made = path
	for p := filepath.Dir(path); p != made && p != "." && p != string(filepath.Separator); p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil {
			break
		}
		made = p
	}
	if err := os.MkdirAll(path, perm); err != nil {
		return "", fmt.Errorf("creating folder %s: %w", path, unwrapPath(err))
	}
	return made, nil
}

// CheckFolder returns nil where folder path may be used or made under
// the rule: nothing is there, or a folder, or a symbolic link to one.
// Anything else is a *DestError.
func CheckFolder(path string) error {
	_, err := checkFolder(path)
	return err
}

// checkFolder is CheckFolder, also reporting whether path exists.
func checkFolder(path string) (exists bool, err error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", path, unwrapPath(err))
	case fi.IsDir():
		return true, nil
	case fi.Mode()&fs.ModeSymlink == 0:
		return true, &DestError{Path: path, Found: Describe(fi.Mode()), Err: ErrNotFolder}
	}
	target, found, end, err := follow(path)
	if err != nil {
		return true, err
	}
	if !end.IsDir() {
		return true, &DestError{Path: path, Found: found, Link: target, Err: ErrNotFolder}
	}
	return true, nil
}

// follow resolves the symbolic link path to the path it finally leads to
// and says what is there: end is its mode, and found describes it
// ("nothing" for a dangling link, "a loop of links" where the links never
// end, in which cases end is fs.ModeIrregular and target is the link's own
// target).
func follow(path string) (target, found string, end fs.FileMode, err error) {
	target, err = filepath.EvalSymlinks(path)
	if err == nil {
		fi, err := os.Lstat(target)
		if err == nil {
			return target, Describe(fi.Mode()), fi.Mode(), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", 0, fmt.Errorf("%s: %w", path, unwrapPath(err))
		}
		return target, "nothing", fs.ModeIrregular, nil
	}
	found = "nothing"
	if !errors.Is(err, fs.ErrNotExist) {
		found = "a loop of links"
	}
	link, lerr := os.Readlink(path)
	if lerr != nil {
		return "", "", 0, fmt.Errorf("%s: %w", path, unwrapPath(lerr))
	}
	if !filepath.IsAbs(link) {
		link = filepath.Join(filepath.Dir(path), link)
	}
	return link, found, fs.ModeIrregular, nil
}

// Describe names a file type: "a FIFO", "a character device".
func Describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

// unwrapPath returns the cause of a *fs.PathError or *os.LinkError, whose
// own message would name the path a second time.
func unwrapPath(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
