package board_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dlrun/dlrun/board"
)

// A board over two run folders: one finished, one whose process is gone
// before its summary.json. Serve it with s.Serve, or as an http.Handler.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "board-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	files := map[string]string{
		"mlp/seed-1/config.json":  `{"model": "mlp", "task": "classify", "dataset": "fashion-mnist", "epochs": 2, "seed": 1}`,
		"mlp/seed-1/metrics.csv":  "epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds\n1,0.9,0.6,0.8,0.71,0.001,1.0\n2,0.6,0.7,0.6,0.78,0.001,1.0\n",
		"mlp/seed-1/summary.json": `{"model": "mlp", "task": "classify", "epochs": 2, "test_accuracy": 0.78, "early_stopped": false}`,
		"mlp/seed-2/config.json":  `{"model": "mlp", "task": "classify", "dataset": "fashion-mnist", "epochs": 2, "seed": 2}`,
		"mlp/seed-2/metrics.csv":  "epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds\n1,0.9,0.6,0.8,0.69,0.001,1.0\n",
	}
	for name, content := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			panic(err)
		}
	}
	s, err := board.New(dir, board.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	for _, r := range s.Runs() {
		fmt.Printf("%s: %s, %d/%d epochs, test %s %.2f\n", r.ID, r.Status, r.Done, r.Planned, r.Metric, r.Final)
	}
	// Output:
	// mlp/seed-1: finished, 2/2 epochs, test accuracy 0.78
	// mlp/seed-2: failed, 1/2 epochs, test accuracy 0.69
}
