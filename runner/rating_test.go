package runner_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// A rating model's run writes its metrics by RMSE and MAE: metrics.csv's
// columns and summary.json's figures, and no accuracy, which it is not
// scored by. (Its quality, a test RMSE of at most
// 0.893 after mf's 20 epochs: BenchmarkQualityMFOnMovieLens.)
func TestRatingRunFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := runner.Train(run.Config{Model: "mf", Config: train.Config{Epochs: 1}}, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "epoch,train_loss,train_rmse,train_mae,test_loss,test_rmse,test_mae,learning_rate,seconds\n"; !strings.HasPrefix(string(b), want) {
		t.Errorf("metrics.csv header:\n%s", b[:bytes.IndexByte(b, '\n')+1])
	}
	sum, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || !bytes.Contains(sum, []byte(`"test_rmse"`)) || !bytes.Contains(sum, []byte(`"test_mae"`)) {
		t.Errorf("summary.json lacks test_rmse and test_mae: %s", sum)
	}
	if bytes.Contains(sum, []byte(`"test_accuracy"`)) {
		t.Errorf("summary.json gives a recommender an accuracy: %s", sum)
	}
}

// A recommender resumes bit for bit, as every model does.
func TestRatingResumeEqualsStraightThrough(t *testing.T) {
	cfg := run.Config{Model: "biases", Config: train.Config{Epochs: 2}}
	straight, split := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "split")
	if _, err := runner.Train(cfg, runner.Options{Out: straight}); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 1
	if _, err := runner.Train(cfg, runner.Options{Out: split}); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Resume(split, runner.Options{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(straight, "model.safetensors")), mustRead(t, filepath.Join(split, "model.safetensors"))) {
		t.Fatal("model.safetensors differs between the straight and the resumed run")
	}
	if metricsWithoutSeconds(t, straight) != metricsWithoutSeconds(t, split) {
		t.Fatal("metrics differ")
	}
}

// Settings that do not apply to the recommenders are refused.
func TestRecommenderSettings(t *testing.T) {
	for _, c := range []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Model: "biases", Dim: 8}, "dim 8 does not apply to model biases"},
		{run.Config{Model: "cnn", Dim: 8}, "dim 8 does not apply to model cnn"},
		{run.Config{Model: "mf", Config: train.Config{Loss: "cce"}}, "rating prediction trains with mse"},
		{run.Config{Model: "mf", Task: "classify"}, "task classify does not apply to model mf"},
	} {
		if err := c.cfg.Resolve(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	c := run.Config{Model: "mf"}
	if err := c.Resolve(); err != nil || c.Dim != 32 || c.Dataset != "movielens" || c.Loss != "mse" || c.Task != "rating" {
		t.Errorf("resolved mf: %v %+v", err, c)
	}
}
