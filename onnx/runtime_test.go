package onnx_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The tests run exported models with ONNX Runtime's Node.js binding,
// installed by .ci/run:
//
//	npm ci --prefix .ci/ort --ignore-scripts
//
// (onnxruntime-node 1.30; its install script, which downloads extra files,
// must be skipped). They look for it in DLRUN_ORT_MODULES or, by default,
// .ci/ort/node_modules, and skip with the reason where node or the runtime
// is missing, unless DLRUN_REQUIRE_ONNX is set (as .ci/run sets it), when
// they fail instead. The same goes for the ONNX checker of Debian's
// python3-onnx.

// ortModules returns the node_modules folder holding onnxruntime-node, or
// skips (fails under DLRUN_REQUIRE_ONNX) the test.
func ortModules(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DLRUN_ORT_MODULES")
	if dir == "" {
		dir = filepath.Join("..", ".ci", "ort", "node_modules")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node is not installed (apt-get install nodejs npm)")
	}
	cmd := exec.Command("node", "-e", "require('onnxruntime-node')")
	cmd.Env = append(os.Environ(), "NODE_PATH="+abs)
	if out, err := cmd.CombinedOutput(); err != nil {
		missing(t, "onnxruntime-node is not installed in "+abs+" (npm ci --prefix .ci/ort --ignore-scripts): "+firstLine(out))
	}
	return abs
}

// missing skips the test for want of a tool, or fails it where
// DLRUN_REQUIRE_ONNX says the tools must be there (CI).
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("DLRUN_REQUIRE_ONNX") != "" {
		t.Fatalf("DLRUN_REQUIRE_ONNX is set but %s", why)
	}
	t.Skipf("skipped: %s; .ci/run installs it", why)
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// ortTensor is a tensor as run_ort.js reads and writes it.
type ortTensor struct {
	DType string    `json:"dtype,omitempty"`
	Dims  []int     `json:"dims"`
	Data  []float64 `json:"data"`
}

// runORT runs model file path with ONNX Runtime on the inputs and returns
// its outputs by name.
func runORT(t *testing.T, modules, path string, inputs map[string]ortTensor) map[string]ortTensor {
	t.Helper()
	req, err := json.Marshal(map[string]any{"model": path, "inputs": inputs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "run_ort.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ONNX Runtime on %s: %v: %s", filepath.Base(path), err, stderr.String())
	}
	var res struct {
		Outputs map[string]ortTensor `json:"outputs"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ONNX Runtime's answer: %v", err)
	}
	return res.Outputs
}

// checkONNX runs the ONNX checker (python3-onnx, with shape inference) on
// path, or skips that part where it is missing.
func checkONNX(t *testing.T, path string) {
	t.Helper()
	py, err := exec.LookPath("/usr/bin/python3")
	if err == nil {
		err = exec.Command(py, "-c", "import onnx").Run()
	}
	if err != nil {
		if os.Getenv("DLRUN_REQUIRE_ONNX") != "" {
			t.Fatalf("DLRUN_REQUIRE_ONNX is set but /usr/bin/python3 cannot import onnx (apt-get install python3-onnx)")
		}
		t.Logf("not checked by the ONNX checker: /usr/bin/python3 cannot import onnx (apt-get install python3-onnx)")
		return
	}
	out, err := exec.Command(py, "-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path).CombinedOutput()
	if err != nil {
		t.Fatalf("the ONNX checker refuses %s: %v\n%s", filepath.Base(path), err, out)
	}
}
