//go:build unix

// Package atomicfiletest makes, for tests, the destinations that the one
// rule for paths dlrun writes (internal/atomicfile) must refuse: a
// character device, a FIFO, a socket, a folder, a regular file where a
// folder is meant, and symbolic links to each and to nothing. After a
// writer has been tried on one, Node.Unchanged says whether the node was
// changed or replaced, or a temporary file left beside it.
package atomicfiletest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// Node is one destination in a test's temporary folder.
type Node struct {
	Name   string // what it is: "FIFO", "link to a character device"
	Path   string
	Folder bool // a folder, or a link to one: a destination for a file writer only
	// Reason is why the node could not be made here (mknod needs root),
	// empty when it was: a test skips the node with it.
	Reason string

	mode os.FileMode // the type of what Path holds
	link string      // the link's target, for a link
}

// Make makes in folder dir (empty, one per call) each hostile
// destination, under its own name, and returns them: a writer of files
// must refuse every one (the folders included); a writer of folders every
// one that is not Folder, and the regular file that Regular makes. A node
// that cannot be made here has its Reason.
func Make(dir string) []Node {
	var nodes []Node
	add := func(name, base string, folder bool, make func(p string) error) Node {
		p := filepath.Join(dir, base)
		n := Node{Name: name, Path: p, Folder: folder}
		err := make(p)
		if err == nil {
			err = n.stat()
		}
		if err != nil {
			n.Reason = "cannot make a " + name + " here: " + err.Error()
		}
		nodes = append(nodes, n)
		return n
	}
	dev := add("character device", "null", false, func(p string) error {
		// A copy of /dev/null: major 1, minor 3.
		return syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3)
	})
	fifo := add("FIFO", "fifo", false, func(p string) error { return syscall.Mkfifo(p, 0o644) })
	add("socket", "socket", false, func(p string) error {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
		if err != nil {
			return err
		}
		l.SetUnlinkOnClose(false)
		return l.Close()
	})
	folder := add("folder", "folder", true, func(p string) error { return os.Mkdir(p, 0o755) })
	if dev.Reason == "" {
		add("link to a character device", "link-null", false, func(p string) error { return os.Symlink(dev.Path, p) })
	}
	add("link to a FIFO", "link-fifo", false, func(p string) error { return os.Symlink(fifo.Path, p) })
	add("link to a link to a FIFO", "link-link-fifo", false, func(p string) error {
		return os.Symlink(filepath.Join(dir, "link-fifo"), p)
	})
	add("link to nothing", "link-missing", false, func(p string) error { return os.Symlink(filepath.Join(dir, "missing"), p) })
	add("link loop", "loop-a", false, func(p string) error {
		if err := os.Symlink(filepath.Join(dir, "loop-b"), p); err != nil {
			return err
		}
		return os.Symlink(p, filepath.Join(dir, "loop-b"))
	})
	add("link to a folder", "link-folder", true, func(p string) error { return os.Symlink(folder.Path, p) })
	return nodes
}

// Regular makes a regular file holding content in folder dir, for a
// writer of folders to refuse, and returns it as a Node.
func Regular(dir, content string) (Node, error) {
	n := Node{Name: "regular file", Path: filepath.Join(dir, "file")}
	if err := os.WriteFile(n.Path, []byte(content), 0o644); err != nil {
		return n, err
	}
	return n, n.stat()
}

func (n *Node) stat() error {
	fi, err := os.Lstat(n.Path)
	if err != nil {
		return err
	}
	n.mode = fi.Mode().Type()
	if n.mode&os.ModeSymlink != 0 {
		n.link, err = os.Readlink(n.Path)
	}
	return err
}

// names are the files Make and Regular make.
var names = map[string]bool{"null": true, "fifo": true, "socket": true, "folder": true, "link-null": true,
	"link-fifo": true, "link-link-fifo": true, "link-missing": true, "loop-a": true, "loop-b": true,
	"link-folder": true, "file": true}

// Unchanged returns nil if n is still what it was (the same type of file,
// the same link target, a folder still empty) and its folder holds no
// file that Make or Regular did not make; otherwise an error saying what
// changed.
func (n Node) Unchanged() error {
	fi, err := os.Lstat(n.Path)
	if err != nil {
		return fmt.Errorf("%s %s: %v", n.Name, n.Path, err)
	}
	if fi.Mode().Type() != n.mode {
		return fmt.Errorf("%s %s was replaced: it is now %v", n.Name, n.Path, fi.Mode())
	}
	if n.link != "" {
		if l, _ := os.Readlink(n.Path); l != n.link {
			return fmt.Errorf("%s %s now leads to %s, not %s", n.Name, n.Path, l, n.link)
		}
	}
	if n.mode.IsDir() {
		if ents, _ := os.ReadDir(n.Path); len(ents) > 0 {
			return fmt.Errorf("%s %s: %s was written into it", n.Name, n.Path, ents[0].Name())
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(n.Path))
	for _, e := range ents {
		if !names[e.Name()] {
			return fmt.Errorf("%s %s: %s was left beside it", n.Name, n.Path, e.Name())
		}
	}
	return nil
}
