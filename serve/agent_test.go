package serve_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/serve"
	"github.com/dlrun/dlrun/train"
)

// An agent is served as its policy network: observations in, the value of
// each action and the greedy action out, as the run plays.
func TestServeAnAgent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dqn")
	if _, err := runner.Train(run.Config{Model: "dqn", Agent: &run.AgentConfig{Steps: 1500}}, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	_, base := startServer(t, serve.Options{}, dir)
	var md serve.ModelMetadata
	getJSON(t, base+"/v2/models/dqn", &md)
	if b, _ := json.Marshal(md.Outputs); md.Task != "play" || md.Inputs[0].Datatype != "FP32" || md.Describes["env"] != "cartpole" ||
		string(b) != `[{"name":"q_values","datatype":"FP32","shape":[-1,2]},{"name":"action","datatype":"INT64","shape":[-1]}]` {
		t.Errorf("an agent's metadata: %+v", md)
	}
	// Its parameters are counted from its weights (config.json records
	// none for an agent).
	info, err := train.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := info.NumParams(); err != nil || n == 0 || md.Parameters["params"] != float64(n) {
		t.Errorf("an agent's metadata: params %v, want %d (%v)", md.Parameters["params"], n, err)
	}
	obs := [][]float32{{0.01, 0.2, -0.03, -0.3}, {0, 0, 0.1, 1}}
	resp := infer(t, base, "dqn", inferRequest("FP32", []int{2, 4}, obs, ""))
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	actions, ok := resp.Outputs[1].Data.([]float32)
	if !ok || resp.Outputs[1].Name != "action" || resp.Outputs[1].Datatype != "INT64" || len(actions) != len(obs) {
		t.Fatalf("outputs %+v", resp.Outputs)
	}
	for i, o := range obs {
		want, err := r.Act(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if int(actions[i]) != want {
			t.Errorf("observation %d: served action %v, the run's %d", i, actions[i], want)
		}
	}
}

// Serving and exporting link neither the RL library, nor the games, nor
// the training runs and their plotting: using a run is apart from making
// one.
func TestLeanDeployment(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/dlrun/dlrun/serve", "github.com/dlrun/dlrun/onnx").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list -deps listed %d packages: %v", len(deps), deps)
	}
	for _, p := range deps {
		for _, banned := range []string{"github.com/dlrun/dlrun/rl", "github.com/dlrun/dlrun/env", "github.com/dlrun/dlrun/runner", "gonum.org/v1/plot"} {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("serve or onnx links %s", p)
			}
		}
	}
}
