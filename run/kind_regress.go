package run

import (
	"fmt"
	"io"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

func init() { Register(Regress) }

// Regress is the kind of run that predicts a number from a CSV table's
// row: the mlp reference network (`--model mlp --task regress`) or a model
// file of task regress, one output, trained with mse on the standardised
// target and scored by the test RMSE in the target's units.
var Regress = &regress{supervised{
	name:   "regress",
	file:   Config{Config: tableRecipe},
	loss:   "mse",
	tables: true,
	progress: Progress{Unit: "row", Rate: "rows",
		Headline: Headline{Name: "rmse", Column: "test_rmse", Summary: "test_rmse"}},
}}

// tableRecipe is a regression's recipe, the mlp's for images with mse.
var tableRecipe = train.Config{Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 1e-3, Loss: "mse"}

// regress is the kind of Regress.
type regress struct{ supervised }

var _ SupervisedKind = Regress

// adopts implements adopter: the mlp reference network regresses a
// table's rows.
func (*regress) adopts(model string) bool { return model == "mlp" }

// Recipe implements Kind: the table recipe, for a model file and the mlp.
func (k *regress) Recipe(c *Config) (Config, error) {
	if IsModelFile(c.Model) || k.adopts(c.Model) {
		return k.file, nil
	}
	return Config{}, errors.Errorf("model %s does not regress: use mlp or a model file of task regress", c.Model)
}

// Data implements SupervisedKind: a CSV table whose target is a number.
func (*regress) Data(c *Config) (*Data, error) {
	if !datasets.IsTable(c.Dataset) {
		return nil, errors.Errorf("dataset %q: regression reads a CSV table (a .csv file, with --target COLUMN)", c.Dataset)
	}
	return loadTable(c, datasets.TaskRegress)
}

// Build implements SupervisedKind: a row's inputs in, one number out.
func (*regress) Build(c *Config, d *Data) (*nn.Sequential, train.Task, error) {
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	p := d.Preprocessing
	if p == nil || p.Task != datasets.TaskRegress {
		return nil, nil, errors.Errorf("dataset %s has no numeric target: regression needs a table's", d.Name)
	}
	model, err := network(c, d, d.Shape, 1)
	if err != nil {
		return nil, nil, err
	}
	return model, &train.Regress{Shape: d.Shape, TargetStd: p.TargetStd}, nil
}

// NewTask implements Kind.
func (*regress) NewTask(info *train.ModelInfo) (train.Task, error) { return info.NewTask() }

// Check implements Kind: the preprocessing agrees with the model's input
// and target scale; the loop agrees with the model (checkLoop).
func (k *regress) Check(c *Config, info *train.ModelInfo, ck *train.Config) error {
	if err := checkTable(c, info.InputShape); err != nil {
		return err
	}
	if c.Table != nil && c.Table.Preprocessing != nil && c.Table.Preprocessing.TargetStd != info.TargetStd {
		return errors.Errorf("config.json: table.preprocessing.target_std %v, but model.json's target_std is %v", c.Table.Preprocessing.TargetStd, info.TargetStd)
	}
	return checkLoop(k.Loop(c), info, ck)
}

// evalData loads table name (the run's if "") for evaluating regressor r.
func (*regress) evalData(r *Run, name string) (*Data, error) {
	name, err := evalDataset(r, name)
	if err != nil {
		return nil, err
	}
	if !datasets.IsTable(name) {
		return nil, errors.Errorf("dataset %q: a regressor is evaluated on a CSV table", name)
	}
	return tableEvalData(r, name)
}

// Evaluate implements Kind: the loss (mean squared error of the
// standardised target), RMSE and MAE in the target's units, on the test
// rows.
func (k *regress) Evaluate(r *Run, o EvalOptions) (Report, error) {
	if err := agentOptions(k, o); err != nil {
		return nil, err
	}
	d, err := k.evalData(r, o.Data)
	if err != nil {
		return nil, err
	}
	ev, err := r.Model.Evaluate(d.Test)
	if err != nil {
		return nil, errors.Wrapf(err, "evaluating on %s", d.Name)
	}
	return &RegressionReport{Dataset: d.Name, Target: d.Preprocessing.Target, Loss: ev.Loss,
		RMSE: ev.Metrics[train.RMSE.Name], MAE: ev.Metrics[train.MAE.Name], Rows: d.Test.Len()}, nil
}

// Tensors implements Kind: a row's preprocessed inputs in (the input
// contract of docs/data.md: the run's table.preprocessing, in the
// metadata, makes them from a row's columns), the prediction out, in the
// target's units.
func (*regress) Tensors(r *Run) (*Tensors, error) {
	tc := r.Config.Table
	if tc == nil || tc.Preprocessing == nil {
		return nil, errors.Errorf("run folder %s: config.json records no table.preprocessing, which a regressor's inputs are made by", r.Dir)
	}
	p := tc.Preprocessing
	return &Tensors{
		Shape:    r.Model.Info.InputShape,
		InputDoc: "a table's rows as the run's preprocessing makes them (the preprocessing in the metadata)",
		Pad:      true,
		Outputs: []Output{{Name: ValueName, Head: Scaled, Scale: p.TargetStd, Shift: p.TargetMean, Shape: []int{1}, Serve: true, Export: true,
			Doc: "the predicted " + p.Target}},
		Meta:  map[string]any{"preprocessing": p, "feature_names": p.Inputs()},
		Table: p,
	}, nil
}

// RegressionReport is an evaluation of a regressor on a table's test rows:
// the loss (mean squared error of the standardised target), RMSE and MAE
// in the target's units, over Rows rows.
type RegressionReport struct {
	Dataset string  `json:"dataset"`
	Target  string  `json:"target"`
	Loss    float64 `json:"loss"`
	RMSE    float64 `json:"rmse"`
	MAE     float64 `json:"mae"`
	Rows    int     `json:"rows"`
}

// Print implements Report.
func (r *RegressionReport) Print(w io.Writer) {
	fmt.Fprintf(w, "%s: %s, target %s, loss %.4f, rmse %.4f, mae %.4f\n", r.Dataset, plural(r.Rows, "row"), r.Target, r.Loss, r.RMSE, r.MAE)
}

// runData implements dataLoading.
func (k *regress) runData(r *Run, name string) (*Data, error) { return k.evalData(r, name) }
