package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// ImageFolderOptions say how OpenImageFolder reads a folder of images. A
// zero field means its documented default.
type ImageFolderOptions struct {
	// Height and Width are the size every image is resized to, with
	// golang.org/x/image/draw's BiLinear (widened when shrinking, so
	// every pixel counts). Both 0: the images' own size, which must then
	// be the same for all of them.
	Height, Width int
	// Channels is 1 (grayscale) or 3 (RGB). 0: 1 if every image is
	// grayscale (its file says so: a gray PNG or JPEG, a GIF of grays),
	// else 3.
	Channels int
	// HeldOut is the share of each class's images held out for testing
	// when the folder has no test folder (default 0.2, as Keras's
	// validation_split is commonly set; at most 0.9).
	HeldOut float64
	// SkipBad skips images that cannot be read instead of failing on the
	// first: every image is decoded once while the folder is opened, and
	// those that fail are listed in ImageFolder.Skipped.
	SkipBad bool
	// Augment varies the training images (crop, flip) in training
	// passes; the test images are read as they are.
	Augment Augmentation
	// Workers is the number of files read at once while the folder is
	// opened (default runtime.GOMAXPROCS(0)). It does not change the
	// result.
	Workers int
}

// ImageFolder is an image classification dataset read from a folder of
// image files, one folder per class, as Keras's
// image_dataset_from_directory and torchvision's ImageFolder read them.
// Its splits are ImageFiles, which decode each image when it is read, so
// a folder larger than memory can be trained on.
type ImageFolder struct {
	Name    string   // the folder
	Shape   []int    // [channels height width]
	Classes []string // the class folders' names, sorted: label i is Classes[i]
	Train   *ImageFiles
	Test    *ImageFiles
	// Skipped lists the images skipped as unreadable (SkipBad), in order,
	// each as the one-line error that names it and what is wrong.
	Skipped []string
	// SHA256 is the hex SHA-256 over every image's path in the folder and
	// the SHA-256 of its bytes, in order (train, then test): the same
	// files with the same contents give the same hash.
	SHA256 string
}

// imageExts are the file name extensions of image folders' images (in
// lower case); other files are ignored, as Keras and torchvision ignore
// them.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp"}

// testFolderNames are the names a folder's test split may have, in the
// order they are looked for.
var testFolderNames = []string{"test", "val", "validation"}

// OpenImageFolder reads the listing of an image folder and the header of
// each image (and, with SkipBad, its pixels), without keeping any pixels:
//
//	dir/CLASS/.../IMAGE              one folder per class
//	dir/train/CLASS/..., dir/test/CLASS/...   (or val/, validation/)
//
// A class's images are the PNG, JPEG, GIF and WebP files (.png, .jpg,
// .jpeg, .gif, .webp, in any case) anywhere under its folder; files and
// folders whose names begin with a dot are skipped, as are other files.
// Class names are the folder names, sorted. Without a test folder, each
// class's images are ordered by the SHA-256 of their path within the
// class folder and the first HeldOut share of them (rounded) is held out
// for testing: a split that depends only on the file names, not on the
// order a file system lists them or on a seed, and that moves at most one
// image when one is added.
//
// Every image's format comes from its first bytes, and its header is
// read: an image declaring more than MaxImagePixels pixels, or a file of
// more than MaxImageFileBytes, is refused before it is decoded. Hostile
// or broken folders are one-line errors naming the folder or the file:
// no class folders, a single class, an empty class, a test class the
// training folder lacks, images of different sizes without Height and
// Width, more than MaxImageFiles images or MaxClasses classes, an
// unreadable image (unless SkipBad).
func OpenImageFolder(dir string, opt ImageFolderOptions) (*ImageFolder, error) {
	if err := opt.check(); err != nil {
		return nil, errors.Wrapf(err, "image folder %s", dir)
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, errors.Wrap(err, "image folder")
	} else if !st.IsDir() {
		return nil, errors.Errorf("image folder %s: not a folder", dir)
	}
	trainDir, testDir := dir, ""
	if isDir(filepath.Join(dir, "train")) {
		trainDir = filepath.Join(dir, "train")
		for _, n := range testFolderNames {
			if p := filepath.Join(dir, n); isDir(p) {
				testDir = p
				break
			}
		}
	}
	classes, train, err := listClasses(trainDir, nil)
	if err != nil {
		return nil, err
	}
	var test []imageFile
	if testDir != "" {
		if _, test, err = listClasses(testDir, classes); err != nil {
			return nil, err
		}
		for i := range test {
			test[i].test = true
		}
	}
	if n := len(train) + len(test); n > MaxImageFiles {
		return nil, fmt.Errorf("image folder %s: more than the %d images a folder may hold (MaxImageFiles): %w", dir, MaxImageFiles, safeio.ErrTooLarge)
	}
	all := append(train, test...)
	scanImages(all, opt)
	f := &ImageFolder{Name: dir, Classes: classes}
	h := sha256.New()
	var first imageFile // the first readable image
	gray := true
	kept := all[:0]
	for i := range all {
		im := &all[i]
		if im.err != nil {
			if !opt.SkipBad {
				return nil, im.err
			}
			f.Skipped = append(f.Skipped, im.err.Error())
			continue
		}
		if first.path == "" {
			first = *im
		} else if opt.Height == 0 && (im.hdr.width != first.hdr.width || im.hdr.height != first.hdr.height) {
			return nil, errors.Errorf("%s: %dx%d pixels, but %s has %dx%d: images of different sizes need a size to be resized to (the image size option, --image-size HxW)",
				im.path, im.hdr.width, im.hdr.height, first.path, first.hdr.width, first.hdr.height)
		}
		gray = gray && im.hdr.gray
		rel, _ := filepath.Rel(dir, im.path)
		fmt.Fprintf(h, "%s\x00%x\n", filepath.ToSlash(rel), im.sum)
		kept = append(kept, *im)
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	train, test = kept[:0:0], kept[:0:0]
	for _, im := range kept {
		if im.test {
			test = append(test, im)
		} else {
			train = append(train, im)
		}
	}
	if err := checkClassesFilled(trainDir, classes, train, opt.SkipBad); err != nil {
		return nil, err
	}
	if testDir == "" {
		train, test = holdOut(train, len(classes), opt.heldOut())
		if len(test) == 0 {
			return nil, errors.Errorf("image folder %s: %d images are too few to hold out a %g share of each class for testing: add images or a test folder", dir, len(train), opt.heldOut())
		}
	} else if len(test) == 0 {
		return nil, errors.Errorf("%s: no readable images in its class folders", testDir)
	}
	c, height, width := opt.Channels, opt.Height, opt.Width
	if c == 0 {
		c = 3
		if gray {
			c = 1
		}
	}
	if height == 0 {
		height, width = first.hdr.height, first.hdr.width
	}
	if err := checkImageShape(dir, []int{c, height, width}, MaxImagePixels); err != nil {
		return nil, err
	}
	f.Shape = []int{c, height, width}
	split := func(ims []imageFile, aug Augmentation) *ImageFiles {
		s := &ImageFiles{shape: f.Shape, classes: len(classes), augment: aug}
		for _, im := range ims {
			s.paths = append(s.paths, im.path)
			s.labels = append(s.labels, im.label)
		}
		return s
	}
	f.Train, f.Test = split(train, opt.Augment), split(test, Augmentation{})
	return f, nil
}

// IsImageFolder reports whether dir is a folder that holds neither IDX
// files nor CIFAR-10 batches (LoadDir's formats): a folder that is read as
// an image folder (OpenImageFolder), whose errors then say what it lacks.
func IsImageFolder(dir string) bool {
	if !isDir(dir) {
		return false
	}
	if ok, _ := hasIDX(dir); ok {
		return false
	}
	_, _, cifar := cifarFiles(dir)
	return !cifar
}

// check reports the first option out of range.
func (o ImageFolderOptions) check() error {
	switch {
	case (o.Height == 0) != (o.Width == 0) || o.Height < 0 || o.Width < 0:
		return errors.Errorf("image size %dx%d: give both a height and a width, positive, or neither", o.Height, o.Width)
	case o.Height > 0 && o.Width > MaxImagePixels/o.Height:
		return errors.Errorf("image size %dx%d: more than the %d pixels an image may have (MaxImagePixels)", o.Height, o.Width, MaxImagePixels)
	case o.Channels != 0 && o.Channels != 1 && o.Channels != 3:
		return errors.Errorf("channels %d: want 1 (grayscale) or 3 (RGB)", o.Channels)
	case !(o.HeldOut >= 0 && o.HeldOut <= 0.9):
		return errors.Errorf("held-out share %g: want a number from 0 to 0.9 (0: %g)", o.HeldOut, DefaultHeldOut)
	case o.Workers < 0:
		return errors.Errorf("workers %d: must not be negative (0: one per CPU)", o.Workers)
	}
	return o.Augment.Check()
}

// heldOut returns the held-out share, with its default.
func (o ImageFolderOptions) heldOut() float64 {
	if o.HeldOut == 0 {
		return DefaultHeldOut
	}
	return o.HeldOut
}

// imageFile is one image of a folder while it is opened.
type imageFile struct {
	path  string
	label int
	test  bool // from the test folder
	key   [sha256.Size]byte
	hdr   imageHeader
	sum   [sha256.Size]byte // of the file's bytes
	err   error
}

// isDir reports whether path is a folder (following a symbolic link).
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// hidden reports whether a file or folder name is hidden (begins with a
// dot, as macOS's ._ resource files do).
func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// isImageName reports whether name has an image folder's extension.
func isImageName(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

// listClasses lists the class folders of dir, sorted, and their images,
// labelled by their index among known (dir's own class names when known is
// nil: a test folder's classes must be among the training folder's).
func listClasses(dir string, known []string) ([]string, []imageFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, errors.Wrap(err, "image folder")
	}
	var classes []string
	loose := ""
	for _, e := range entries {
		name := e.Name()
		switch {
		case hidden(name):
		case isDir(filepath.Join(dir, name)):
			classes = append(classes, name)
		case loose == "" && isImageName(name):
			loose = name
		}
	}
	slices.Sort(classes)
	switch {
	case len(classes) == 0 && loose != "":
		return nil, nil, errors.Errorf("image folder %s: holds images (%s) but no class folders: put each class's images in a folder named after the class", dir, loose)
	case len(classes) == 0:
		return nil, nil, errors.Errorf("folder %s: no class folders: want one folder of images per class (IDX files and CIFAR-10 batches: neither format found either)", dir)
	case known == nil && len(classes) == 1:
		return nil, nil, errors.Errorf("image folder %s: one class folder (%s): a classifier needs at least two", dir, classes[0])
	case len(classes) > MaxClasses:
		return nil, nil, fmt.Errorf("image folder %s: %d class folders, more than the %d classes a dataset may have (MaxClasses): %w", dir, len(classes), MaxClasses, safeio.ErrTooLarge)
	}
	if known == nil {
		known = classes
	}
	var files []imageFile
	for _, class := range classes {
		label := slices.Index(known, class)
		if label < 0 {
			return nil, nil, errors.Errorf("%s: a class the training folder does not have (its classes: %s)", filepath.Join(dir, class), quotedList(known))
		}
		root := filepath.Join(dir, class)
		n := 0
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != root && hidden(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !isImageName(d.Name()) {
				return nil
			}
			if len(files) >= MaxImageFiles {
				return fmt.Errorf("image folder %s: more than the %d images a folder may hold (MaxImageFiles): %w", dir, MaxImageFiles, safeio.ErrTooLarge)
			}
			rel, _ := filepath.Rel(root, path)
			files = append(files, imageFile{path: path, label: label, key: sha256.Sum256([]byte(filepath.ToSlash(rel)))})
			n++
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, errors.Errorf("%s: an empty class: no %s files (.png, .jpg, .jpeg, .gif, .webp)", root, imageFormatNames)
		}
	}
	return classes, files, nil
}

// checkClassesFilled reports a class left without a readable image once
// unreadable ones are skipped.
func checkClassesFilled(dir string, classes []string, train []imageFile, skipped bool) error {
	n := make([]int, len(classes))
	for _, im := range train {
		n[im.label]++
	}
	for c, k := range n {
		if k == 0 && skipped {
			return errors.Errorf("%s: an empty class once its unreadable images are skipped", filepath.Join(dir, classes[c]))
		}
	}
	return nil
}

// holdOut splits the images of each class: the first share of them, in
// the order of their keys, go to the test split (round(share·n)); both
// splits keep the images' order.
func holdOut(ims []imageFile, classes int, share float64) (train, test []imageFile) {
	byClass := make([][]int, classes)
	for i, im := range ims {
		byClass[im.label] = append(byClass[im.label], i)
	}
	isTest := make([]bool, len(ims))
	for _, idx := range byClass {
		slices.SortFunc(idx, func(a, b int) int {
			if c := strings.Compare(string(ims[a].key[:]), string(ims[b].key[:])); c != 0 {
				return c
			}
			return strings.Compare(ims[a].path, ims[b].path)
		})
		k := int(share*float64(len(idx)) + 0.5)
		for _, i := range idx[:k] {
			isTest[i] = true
		}
	}
	for i, im := range ims {
		if isTest[i] {
			test = append(test, im)
		} else {
			train = append(train, im)
		}
	}
	return train, test
}

// scanImages reads every image's header and hashes its bytes (decoding
// it whole with SkipBad), opt.Workers files at a time, setting each
// image's hdr, sum and err.
func scanImages(ims []imageFile, opt ImageFolderOptions) {
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(ims), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range next {
				im := &ims[i]
				buf, im.err = readImageFile(im.path, buf)
				if im.err != nil {
					continue
				}
				im.sum = sha256.Sum256(buf)
				if opt.SkipBad {
					_, im.hdr, im.err = decodeImageFile(buf, im.path, MaxImagePixels, MaxImageDecodedBytes, "MaxImageDecodedBytes")
				} else {
					if im.hdr, im.err = readImageHeader(buf, im.path, MaxImagePixels); im.err == nil {
						im.err = im.hdr.checkDecoded(im.path, MaxImageDecodedBytes, "MaxImageDecodedBytes")
					}
				}
				if cap(buf) > maxKeptImageBuffer {
					buf = nil
				}
			}
		}()
	}
	for i := range ims {
		next <- i
	}
	close(next)
	wg.Wait()
}

// maxKeptImageBuffer is the largest file buffer a reader keeps for the
// next image (1 MiB); a larger image's is left to the collector.
const maxKeptImageBuffer = 1 << 20

// ImageFiles is one split of an image folder: a list of image files and
// their labels, each decoded, resized and converted when it is read, so
// that only the images being read are in memory. It is the
// train.Source of a streamed training: Read is safe for concurrent use.
type ImageFiles struct {
	paths   []string
	labels  []int
	shape   []int
	classes int
	augment Augmentation
	scratch sync.Pool // *imageScratch
}

// imageScratch is the working memory of one Read.
type imageScratch struct {
	file []byte // the image file
	rgba *image.RGBA
	work []float32
}

// Len returns the number of images.
func (s *ImageFiles) Len() int { return len(s.paths) }

// Shape returns the per-example input shape, [channels height width].
func (s *ImageFiles) Shape() []int { return slices.Clone(s.shape) }

// NumClasses returns the number of classes of the folder.
func (s *ImageFiles) NumClasses() int { return s.classes }

// Path returns the file of image i.
func (s *ImageFiles) Path(i int) string { return s.paths[i] }

// Label returns the label of image i.
func (s *ImageFiles) Label(i int) int { return s.labels[i] }

// Augments reports whether Read varies the images of training passes:
// the training split's, when the folder was opened with an augmentation.
func (s *ImageFiles) Augments() bool { return s.augment.Active() }

// Read decodes image i into dst (prod(Shape) values, in [0, 1]) and
// returns its label. With rng not nil and an augmentation set, the image
// is augmented by draws from rng. An image that cannot be read, or that
// is larger than the limits, is a one-line error naming the file.
func (s *ImageFiles) Read(i int, dst []float32, rng *rand.Rand) (int, error) {
	c, h, w := s.shape[0], s.shape[1], s.shape[2]
	if i < 0 || i >= len(s.paths) {
		return 0, errors.Errorf("image %d of %d: no such image", i, len(s.paths))
	}
	if len(dst) != c*h*w {
		return 0, errors.Errorf("%s: %d values to read into, want %d (shape %v)", s.paths[i], len(dst), c*h*w, s.shape)
	}
	if err := s.decode(s.paths[i], dst, rng); err != nil {
		return 0, err
	}
	return s.labels[i], nil
}

// decode reads the image at path into dst, augmented by rng if set.
func (s *ImageFiles) decode(path string, dst []float32, rng *rand.Rand) error {
	c, h, w := s.shape[0], s.shape[1], s.shape[2]
	sc, _ := s.scratch.Get().(*imageScratch)
	if sc == nil {
		sc = &imageScratch{}
	}
	defer s.scratch.Put(sc)
	var err error
	sc.file, err = readImageFile(path, sc.file)
	if cap(sc.file) > maxKeptImageBuffer {
		defer func() { sc.file = nil }()
	}
	if err != nil {
		return err
	}
	img, _, err := decodeImageFile(sc.file, path, MaxImagePixels, MaxImageDecodedBytes, "MaxImageDecodedBytes")
	if err != nil {
		return err
	}
	sc.rgba = imageInput(img, c, h, w, dst, sc.rgba)
	if rng != nil && s.augment.Active() {
		if len(sc.work) < len(dst) {
			sc.work = make([]float32, len(dst))
		}
		s.augment.Apply(dst, c, h, w, rng, sc.work)
	}
	return nil
}
