//go:build mpi

package mpi

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestWorld runs TestWorldChild in 3 processes under mpirun.
func TestWorld(t *testing.T) {
	if os.Getenv("DLRUN_MPI_CHILD") != "" {
		t.Skip("the parent's test")
	}
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Fatal("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	args := []string{"--oversubscribe", "-np", "3", "-x", "DLRUN_MPI_CHILD"}
	if os.Geteuid() == 0 {
		args = append([]string{"--allow-run-as-root"}, args...)
	}
	cmd := exec.Command("mpirun", append(args, os.Args[0], "-test.run", "^TestWorldChild$", "-test.v")...)
	cmd.Env = append(os.Environ(), "DLRUN_MPI_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Count(string(out), "--- PASS: TestWorldChild") != 3 {
		t.Fatalf("mpirun -np 3: %v\n%s", err, out)
	}
}

// TestWorldChild is one of TestWorld's processes (or, alone, a world of
// one): Allgather puts every rank's bytes in rank order; Alltoall sends
// each rank its block; Broadcast copies the root's; wrong lengths and
// roots are errors.
func TestWorldChild(t *testing.T) {
	w, err := Init()
	if err != nil {
		t.Fatal(err)
	}
	r, n := w.Rank(), w.Size()
	if os.Getenv("DLRUN_MPI_CHILD") != "" && n != 3 {
		t.Fatalf("size %d under mpirun -np 3", n)
	}
	send := []byte(fmt.Sprintf("rank %d.", r))
	recv := make([]byte, len(send)*n)
	if err := w.Allgather(send, recv); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for p := 0; p < n; p++ {
		fmt.Fprintf(&want, "rank %d.", p)
	}
	if !bytes.Equal(recv, want.Bytes()) {
		t.Errorf("Allgather: %q, want %q", recv, want.Bytes())
	}
	// Alltoall: rank r sends "r>q" to rank q.
	a2a := make([]byte, 0, 3*n)
	for q := 0; q < n; q++ {
		a2a = append(a2a, byte('0'+r), '>', byte('0'+q))
	}
	got := make([]byte, len(a2a))
	if err := w.Alltoall(a2a, got); err != nil {
		t.Fatal(err)
	}
	want.Reset()
	for p := 0; p < n; p++ {
		fmt.Fprintf(&want, "%d>%d", p, r)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("Alltoall: %q, want %q", got, want.Bytes())
	}
	buf := []byte("........")
	root := n - 1
	if r == root {
		copy(buf, "fromroot")
	}
	if err := w.Broadcast(buf, root); err != nil {
		t.Fatal(err)
	}
	if string(buf) != "fromroot" {
		t.Errorf("Broadcast: %q", buf)
	}
	if err := w.Allgather(send, recv[:1]); err == nil {
		t.Error("Allgather into a short buffer: no error")
	}
	if err := w.Broadcast(buf, n); err == nil {
		t.Error("Broadcast from a rank past the world: no error")
	}
	if err := w.Barrier(); err != nil {
		t.Fatal(err)
	}
	if err := w.Finalize(); err != nil {
		t.Fatal(err)
	}
}
