// Command imagefolder writes image folders and measures training from
// them: the plan of docs/performance.md's "Image folders".
//
//	go run ./bench/imagefolder fashion -out /tmp/fashion-png
//	go run ./bench/imagefolder noise -out /tmp/noise-2g -bytes 2000000000
//	go run ./bench/imagefolder train -data /tmp/fashion-png -idx /usr/share/datasets/fashion-mnist
//	go run ./bench/imagefolder train -data /tmp/noise-2g -image-size 32x32
//
// fashion writes the full Fashion-MNIST of Debian's dataset-fashion-mnist
// (the IDX files of -idx) as 70,000 grayscale PNG files:
// OUT/train/N-name/NNNNN.png and OUT/test/N-name/NNNNN.png, N the label
// (so the folders sort in label order) and NNNNN the image's index in its
// IDX file. noise writes colour PNGs of random pixels, which do not
// compress, in 10 class folders (and a test folder of a tenth as many),
// until they hold -bytes: a folder far larger than the memory its
// training should take. Both write into OUT.tmp and rename it to OUT at
// the end; an existing OUT (or OUT.tmp) is left alone.
//
// train trains the cnn (Adam, batch 64, seed 1) for -epochs on the folder
// streamed by -workers readers, each -repeat times in a fresh process,
// and prints the median training throughput (samples/s, evaluation
// excluded) and peak RSS (getrusage's maxrss) of the runs; with -idx it
// does the same for the IDX files read into memory, the two taking
// turns, and prints the folder's speed as a share of theirs. Timings need
// a quiet machine.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "fashion":
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		idx := fs.String("idx", "/usr/share/datasets/fashion-mnist", "folder of Fashion-MNIST's IDX files")
		out := fs.String("out", "", "folder to write (must not exist)")
		fs.Parse(args)
		err = writeFolder(*out, func(tmp string) error { return writeFashion(*idx, tmp) })
	case "noise":
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		out := fs.String("out", "", "folder to write (must not exist)")
		size := fs.Int("size", 96, "width and height of each image")
		total := fs.Int64("bytes", 2_000_000_000, "bytes of images to write, training and test together")
		fs.Parse(args)
		err = writeFolder(*out, func(tmp string) error { return writeNoise(tmp, *size, *total) })
	case "train":
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		var o trainOptions
		fs.StringVar(&o.data, "data", "", "image folder")
		fs.StringVar(&o.idx, "idx", "", "IDX folder to compare with, read into memory")
		fs.IntVar(&o.epochs, "epochs", 1, "epochs of each run")
		fs.IntVar(&o.workers, "workers", 0, "readers of the folder (0: one per CPU)")
		fs.IntVar(&o.repeat, "repeat", 3, "runs of each, in fresh processes")
		fs.StringVar(&o.size, "image-size", "", "resize the images to HxW")
		fs.StringVar(&o.child, "child", "", "(internal) run one training: folder or idx")
		fs.Parse(args)
		err = trainCmd(o)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagefolder:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: imagefolder fashion|noise|train [flags] (see go doc ./bench/imagefolder)")
	os.Exit(2)
}

// writeFolder has write fill out.tmp, then renames it to out; it refuses
// an out that exists, and removes out.tmp if write fails.
func writeFolder(out string, write func(tmp string) error) error {
	if out == "" {
		return fmt.Errorf("-out: name the folder to write")
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s exists: give a new folder", out)
	}
	tmp := out + ".tmp"
	if _, err := os.Lstat(tmp); err == nil {
		return fmt.Errorf("%s exists (left by a run that failed?): remove it, or give another folder", tmp)
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

// slug makes a class name a folder name: letters and digits, the rest
// dashes ("T-shirt/top" is "t-shirt-top").
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// writeFashion writes the IDX files of dir as PNGs under out.
func writeFashion(dir, out string) error {
	for _, split := range []struct{ name, images, labels string }{
		{"train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
		{"test", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
	} {
		images, err := readIDX(dir, split.images)
		if err != nil {
			return err
		}
		labels, err := readIDX(dir, split.labels)
		if err != nil {
			return err
		}
		if len(images.Dims) != 3 || len(labels.Dims) != 1 || images.Dims[0] != labels.Dims[0] {
			return fmt.Errorf("%s: images %v and labels %v do not match", dir, images.Dims, labels.Dims)
		}
		h, w := images.Dims[1], images.Dims[2]
		err = parallel(labels.Dims[0], func(i int) error {
			l := int(labels.Data[i])
			if l >= len(datasets.FashionMNISTClasses) {
				return fmt.Errorf("%s: label %d of image %d", split.labels, l, i)
			}
			img := &image.Gray{Pix: images.Data[i*h*w : (i+1)*h*w], Stride: w, Rect: image.Rect(0, 0, w, h)}
			class := fmt.Sprintf("%d-%s", l, slug(datasets.FashionMNISTClasses[l]))
			return writePNG(filepath.Join(out, split.name, class, fmt.Sprintf("%05d.png", i)), img)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// readIDX reads dir/name or dir/name.gz.
func readIDX(dir, name string) (*datasets.IDX, error) {
	for _, p := range []string{name, name + ".gz"} {
		f, err := os.Open(filepath.Join(dir, p))
		if err != nil {
			continue
		}
		defer f.Close()
		return datasets.ReadIDX(f, f.Name())
	}
	return nil, fmt.Errorf("%s: no %s (or .gz)", dir, name)
}

// writeNoise writes size×size RGB PNGs of random pixels, 10 classes, a
// tenth of them in test/, until they hold total bytes.
func writeNoise(out string, size int, total int64) error {
	// One image tells the size of all: random pixels do not compress.
	per, err := pngBytes(noiseImage(size, 0))
	if err != nil {
		return err
	}
	n := int(total / int64(len(per)))
	return parallel(n, func(i int) error {
		split := "train"
		if i/10%10 == 9 { // every class a tenth of its images
			split = "test"
		}
		path := filepath.Join(out, split, fmt.Sprintf("class%d", i%10), fmt.Sprintf("%07d.png", i))
		return writePNG(path, noiseImage(size, uint64(i)))
	})
}

// noiseImage is an image of random pixels, seeded by seed.
func noiseImage(size int, seed uint64) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	r := rand.New(rand.NewPCG(seed, 42))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

func pngBytes(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

// writePNG writes img to path as PNG, making its folder.
func writePNG(path string, img image.Image) error {
	b, err := pngBytes(img)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// parallel runs f(0..n-1) on every CPU and returns the first error.
func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

type trainOptions struct {
	data, idx, size, child  string
	epochs, workers, repeat int
}

// result is what one training child reports.
type result struct {
	SamplesPerSec []float64 `json:"samples_per_sec"` // per epoch
	PeakRSS       int64     `json:"peak_rss"`        // bytes
	TestAccuracy  float64   `json:"test_accuracy"`
	Images        int       `json:"images"`
	OpenSeconds   float64   `json:"open_seconds"`
	// FitCPUSeconds is the CPU time (user and system, every thread) of
	// Fit, training and evaluation: on a loaded machine a steadier
	// figure than the wall time.
	FitCPUSeconds float64 `json:"fit_cpu_seconds"`
}

func trainCmd(o trainOptions) error {
	if o.child != "" {
		r, err := trainOnce(o)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	if o.data == "" {
		return fmt.Errorf("-data: name the image folder")
	}
	kinds := []string{"folder"}
	if o.idx != "" {
		kinds = append(kinds, "idx")
	}
	// The kinds take turns, so that both see the same load.
	speeds, rss, cpu := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	for k := range o.repeat {
		for _, kind := range kinds {
			args := []string{"train", "-child", kind, "-data", o.data, "-idx", o.idx, "-epochs", fmt.Sprint(o.epochs),
				"-workers", fmt.Sprint(o.workers), "-image-size", o.size}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s run %d: %v", kind, k+1, err)
			}
			var r result
			if err := json.Unmarshal(out, &r); err != nil {
				return fmt.Errorf("%s run %d: %v", kind, k+1, err)
			}
			speeds[kind] = append(speeds[kind], median(r.SamplesPerSec))
			rss[kind] = append(rss[kind], float64(r.PeakRSS))
			cpu[kind] = append(cpu[kind], r.FitCPUSeconds)
			fmt.Printf("%s run %d: %.0f samples/s (epochs %s), Fit's CPU time %.1f s, peak RSS %.0f MiB, test accuracy %.4f, %d images, opened in %.1f s\n",
				kind, k+1, median(r.SamplesPerSec), fmtList(r.SamplesPerSec), r.FitCPUSeconds, float64(r.PeakRSS)/(1<<20), r.TestAccuracy, r.Images, r.OpenSeconds)
		}
	}
	med := map[string]float64{}
	for _, kind := range kinds {
		med[kind] = median(speeds[kind])
		fmt.Printf("%s: median of %d: %.0f samples/s, Fit's CPU time %.1f s, peak RSS %.0f MiB\n", kind, o.repeat, med[kind], median(cpu[kind]), median(rss[kind])/(1<<20))
	}
	if idx, ok := med["idx"]; ok {
		fmt.Printf("folder speed / IDX speed: %.2f; IDX CPU time / folder CPU time: %.2f\n", med["folder"]/idx, median(cpu["idx"])/median(cpu["folder"]))
	}
	return nil
}

func fmtList(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, strconv.FormatFloat(x, 'f', 0, 64))
	}
	return strings.Join(s, " ")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// trainOnce trains the cnn once on the data that o.child names.
func trainOnce(o trainOptions) (*result, error) {
	var trainData, testData train.Data
	var shape []int
	r := &result{}
	start := time.Now()
	switch o.child {
	case "idx":
		d, err := datasets.LoadIDXDir(o.idx)
		if err != nil {
			return nil, err
		}
		trainData, testData, shape = d.Train, d.Test, d.Shape
	default:
		var opt datasets.ImageFolderOptions
		if o.size != "" {
			if _, err := fmt.Sscanf(o.size, "%dx%d", &opt.Height, &opt.Width); err != nil {
				return nil, fmt.Errorf("-image-size %q: want HxW", o.size)
			}
		}
		f, err := datasets.OpenImageFolder(o.data, opt)
		if err != nil {
			return nil, err
		}
		trainData, testData, shape = f.Train, f.Test, f.Shape
	}
	r.OpenSeconds = time.Since(start).Seconds()
	r.Images = trainData.Len() + testData.Len()
	ref, err := nn.ReferenceByName("cnn")
	if err != nil {
		return nil, err
	}
	m, err := ref.New(shape, 10)
	if err != nil {
		return nil, err
	}
	tr, err := train.New(m, &train.Classify{Shape: shape, Outputs: 10}, train.Config{
		Epochs: o.epochs, BatchSize: 64, Optimizer: "adam", LearningRate: 0.001, Seed: 1, Workers: o.workers,
	})
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	cpu0 := cpuSeconds()
	hist, err := tr.Fit(trainData, testData, nil)
	if err != nil {
		return nil, err
	}
	r.FitCPUSeconds = cpuSeconds() - cpu0
	for _, s := range hist {
		r.SamplesPerSec = append(r.SamplesPerSec, float64(s.Samples)/s.TrainSeconds)
		r.TestAccuracy = s.TestAccuracy
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		r.PeakRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return r, nil
}

// cpuSeconds returns the process's CPU time so far, user and system.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
