package run

import (
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/pkg/errors"
)

// ImageConfig says how a classifier's run reads an image folder, one
// folder of images per class (docs/data.md): what `dlrun train`'s
// --image-size, --channels, --augment and --skip-bad set, and config.json
// records under "images", so that evaluation and a resumed run read the
// folder alike. A zero field means its default.
type ImageConfig struct {
	// Size is the size every image is resized to, "HxW" (or "N" for
	// N×N). "": the images' own size, which must be the same for all.
	Size string `json:"image_size,omitempty" yaml:"image_size,omitempty"`
	// Channels is 1 (grayscale) or 3 (RGB); 0: 1 if every image is
	// grayscale, else 3.
	Channels int `json:"channels,omitempty" yaml:"channels,omitempty"`
	// Augment is the training-time augmentation, comma-separated: crop
	// (random crop with 4 pixels of padding; crop=N pads N), flip
	// (horizontal, half of the time). "" or none: none. Evaluation reads
	// the images as they are.
	Augment string `json:"augment,omitempty" yaml:"augment,omitempty"`
	// SkipBad skips the images that cannot be read, and counts them in
	// summary.json (skipped_images), instead of failing on the first.
	SkipBad bool `json:"skip_bad,omitempty" yaml:"skip_bad,omitempty"`
}

// options returns the image folder options ic says, checked: a one-line
// error names the setting at fault. A nil ic is the defaults.
func (ic *ImageConfig) options() (datasets.ImageFolderOptions, error) {
	var o datasets.ImageFolderOptions
	if ic == nil {
		return o, nil
	}
	if ic.Size != "" {
		h, w, err := ParseImageSize(ic.Size)
		if err != nil {
			return o, err
		}
		o.Height, o.Width = h, w
	}
	if ic.Channels != 0 && ic.Channels != 1 && ic.Channels != 3 {
		return o, errors.Errorf("channels %d: want 1 (grayscale) or 3 (RGB)", ic.Channels)
	}
	o.Channels = ic.Channels
	a, err := datasets.ParseAugmentation(ic.Augment)
	if err != nil {
		return o, err
	}
	o.Augment, o.SkipBad = a, ic.SkipBad
	return o, nil
}

// set reports whether ic sets anything.
func (ic *ImageConfig) set() bool { return ic != nil && *ic != ImageConfig{} }

// first names the first setting ic sets, with its value, as errors give
// it.
func (ic *ImageConfig) first() string {
	switch {
	case ic.Size != "":
		return "image_size " + strconv.Quote(ic.Size)
	case ic.Channels != 0:
		return "channels " + strconv.Itoa(ic.Channels)
	case ic.Augment != "":
		return "augment " + strconv.Quote(ic.Augment)
	}
	return "skip_bad"
}

// ParseImageSize reads an image size, "HxW" (height by width, as Keras's
// image_size=(H, W)) or "N" for N×N: positive whole numbers of at most
// datasets.MaxImagePixels pixels together.
func ParseImageSize(s string) (height, width int, err error) {
	hs, ws, two := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if !two {
		ws = hs
	}
	h, herr := strconv.Atoi(strings.TrimSpace(hs))
	w, werr := strconv.Atoi(strings.TrimSpace(ws))
	switch {
	case herr != nil || werr != nil || h < 1 || w < 1:
		return 0, 0, errors.Errorf("image_size %q: want HxW, a height and a width in pixels (28x28), or N for N×N", s)
	case h > datasets.MaxImagePixels/w:
		return 0, 0, errors.Errorf("image_size %q: more than the %d pixels an image may have", s, datasets.MaxImagePixels)
	}
	return h, w, nil
}

// labelled loads the labelled examples of dataset name: an image folder
// (datasets.IsImageFolder), read with ic's options and workers goroutines
// opening it, or what datasets.Load reads (a bundled dataset, IDX files,
// CIFAR-10 batches). shape, if not nil, is the [channels height width]
// a trained model reads, which an image folder's images are converted to
// whatever ic says. strict refuses image options for data that is not an
// image folder, as training does; evaluating another dataset ignores
// them.
func labelled(name string, ic *ImageConfig, workers int, shape []int, strict bool) (*Data, error) {
	if !datasets.IsImageFolder(name) {
		if strict && ic.set() {
			return nil, errors.Errorf("%s: the image options read an image folder (one folder of images per class), and dataset %s is not one", ic.first(), name)
		}
		d, err := datasets.Load(name)
		if err != nil {
			return nil, err
		}
		return FromDataset(d), nil
	}
	opt, err := ic.options()
	if err != nil {
		return nil, err
	}
	opt.Workers = workers
	if len(shape) == 3 {
		opt.Channels, opt.Height, opt.Width = shape[0], shape[1], shape[2]
	}
	f, err := datasets.OpenImageFolder(name, opt)
	if err != nil {
		return nil, err
	}
	return FromImageFolder(f), nil
}

// FromImageFolder presents an image folder for classification: its
// splits are read image by image as training needs them (train.Source).
func FromImageFolder(f *datasets.ImageFolder) *Data {
	return &Data{Name: f.Name, SHA256: f.SHA256, Shape: f.Shape, Classes: f.Classes, Train: f.Train, Test: f.Test, Skipped: f.Skipped}
}
