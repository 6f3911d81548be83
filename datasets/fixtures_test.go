package datasets_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
)

// fixtures is the folder of the datasets fixtures, relative to the package.
const fixtures = "../testdata/datasets"

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite the fixtures in "+fixtures)

// TestWriteFixtures writes the fixtures of ../testdata/datasets, when run
// with -update-fixtures: go test ./datasets -run TestWriteFixtures -update-fixtures
func TestWriteFixtures(t *testing.T) {
	if !*updateFixtures {
		t.Skip("run with -update-fixtures to rewrite " + fixtures)
	}
	for name, b := range fixtureFiles(t) {
		path := filepath.Join(fixtures, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(b) > 64<<10 {
			t.Errorf("%s: %d bytes, more than a fixture should hold", name, len(b))
		}
	}
}

// gzBest gzips b at the best compression, the way a bomb is made.
func gzBest(b []byte) []byte {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// idxHeader is the header of an IDX file of unsigned bytes.
func idxHeader(dims ...uint32) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// pngChunk encodes one PNG chunk.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// tinyImage is an 8×8 image: black on the left, red on the right.
func tinyImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			c := color.RGBA{0, 0, 0, 255}
			if x >= 4 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

const fixtureText = "It is a truth universally acknowledged, that a single man in possession\n" +
	"of a good fortune, must be in want of a wife.\n"

const fixtureRatings = "userId,movieId,rating,timestamp\n" +
	"1,10,4.0,100\n1,20,3.5,200\n2,10,5.0,150\n2,30,0.5,160\n"

const fixtureMovies = "movieId,title,genres\n" +
	"10,Heat (1995),Action|Crime|Thriller\n20,\"American President, The (1995)\",Comedy|Drama|Romance\n" +
	"30,Nixon (1995),Drama\n"

// fixtureFiles returns the fixtures by path under testdata/datasets.
func fixtureFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	idx := map[string][]byte{
		"train-images-idx3-ubyte": idxBytes([]int{3, 2, 2}, []byte{0, 51, 102, 255, 1, 2, 3, 4, 5, 6, 7, 8}),
		"train-labels-idx1-ubyte": idxBytes([]int{3}, []byte{0, 1, 2}),
		"t10k-images-idx3-ubyte":  idxBytes([]int{1, 2, 2}, []byte{255, 0, 0, 255}),
		"t10k-labels-idx1-ubyte":  idxBytes([]int{1}, []byte{1}),
	}
	for n, b := range idx {
		files["idx-valid/"+n] = b
		files["idx-valid-gz/"+n+".gz"] = gz(b)
	}
	files["idx-valid/classes.txt"] = []byte("zero\none\ntwo\n")
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	files["idx-truncated-data"] = good[:len(good)-2]
	files["idx-trailing-bytes"] = append(append([]byte{}, good...), 9)
	files["idx-truncated-header"] = good[:6]
	files["idx-bad-magic"] = []byte("hello world, not an idx file")
	files["idx-float-type"] = []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}
	files["idx-header-claims-1tib"] = append(idxHeader(1<<20, 1<<20), 1, 2)
	// 1 GiB claimed, 4 KiB of zeros given: a gzip file this small cannot
	// hold what the header claims.
	files["idx-gzip-bomb-header-1gib.gz"] = gzBest(append(idxHeader(16384, 256, 256), make([]byte, 4<<10)...))
	// Valid: 4 MiB of zeros, as the header says, in about 4 KB.
	files["idx-gzip-zeros-4mib.gz"] = gzBest(append(idxHeader(64, 256, 256), make([]byte, 4<<20)...))
	// A header claiming 4 bytes, followed by 32 MiB of zeros.
	files["idx-gzip-bomb-trailing-32mib.gz"] = gzBest(append(idxHeader(1, 2, 2), make([]byte, 32<<20)...))
	z := gz(idxBytes([]int{1, 2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	files["idx-gzip-truncated.gz"] = z[:len(z)-12]
	bad := append([]byte{}, z...)
	bad[len(bad)-8] ^= 0xff // the CRC-32 of the trailer
	files["idx-gzip-bad-checksum.gz"] = bad

	files["cifar-valid/data_batch_1.bin"] = cifarRecords(3, 9)
	files["cifar-valid/test_batch.bin"] = cifarRecords(7)
	files["cifar-truncated.bin"] = cifarRecords(0)[:3000]
	files["cifar-bad-label.bin"] = cifarRecords(10)

	files["text-valid.txt"] = []byte(fixtureText)
	files["text-valid.txt.gz"] = gz([]byte(fixtureText))
	files["text-invalid-utf8.txt"] = []byte("first line\nsecond \xff line\n")
	files["text-gzip-bomb-1mib.gz"] = gzBest([]byte(strings.Repeat("a", 1<<20)))
	zt := gz([]byte(fixtureText))
	files["text-gzip-truncated.gz"] = zt[:len(zt)-12]

	files["ratings-csv-valid/ratings.csv"] = []byte(fixtureRatings)
	files["ratings-csv-valid/movies.csv"] = []byte(fixtureMovies)
	files["ratings-csv-valid-gz/ratings.csv.gz"] = gz([]byte(fixtureRatings))
	files["ratings-csv-valid-gz/movies.csv.gz"] = gz([]byte(fixtureMovies))
	head := "userId,movieId,rating,timestamp\n1,10,4.0,100\n"
	files["ratings-nan.csv"] = []byte(head + "1,20,NaN,200\n")
	files["ratings-inf.csv"] = []byte(head + "1,20,+Inf,200\n")
	files["ratings-overflow-1e999.csv"] = []byte(head + "1,20,1e999,200\n")
	files["ratings-hex-float.csv"] = []byte(head + "1,20,0x1p1,200\n")
	files["ratings-gzip-bomb-long-line.csv.gz"] = gzBest(append([]byte(head), make([]byte, 32<<20)...))
	zr := gz([]byte(fixtureRatings))
	files["ratings-gzip-truncated.csv.gz"] = zr[:len(zr)-12]
	files["movies-listed-twice.csv"] = []byte(fixtureMovies + "10,Heat again (1995),Action\n")
	flags := "|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0"
	files["ml-100k-valid/u.data"] = []byte("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250950\n")
	files["ml-100k-valid/u.item"] = []byte("242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)" + flags + "\n" +
		"302|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x" + flags + "\n")
	files["ml-100k-nan-u.data"] = []byte("196\t242\t3\t881250949\n186\t302\tnan\t891717742\n")
	files["ml-100k-wrong-columns-u.item"] = []byte("242|Kolya (1996)|24-Jan-1997\n")

	files["classes-wrong-count.txt"] = []byte("zero\none\n")
	files["classes-empty-name.txt"] = []byte("zero\n\ntwo\n")

	var pngb, jpgb bytes.Buffer
	if err := png.Encode(&pngb, tinyImage()); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpgb, tinyImage(), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	files["image-valid.png"] = pngb.Bytes()
	files["image-valid.jpg"] = jpgb.Bytes()
	files["image-truncated.png"] = pngb.Bytes()[:pngb.Len()/2]
	files["image-not-an-image.png"] = []byte("not an image\n")
	// A PNG declaring 60000×60000 RGB pixels, with an empty zlib stream.
	ihdr := append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 60000), 60000), 8, 2, 0, 0, 0)
	bomb := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	bomb = append(bomb, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	files["image-png-60000x60000.png"] = append(bomb, pngChunk("IEND", nil)...)
	// A JFIF marker and a baseline frame header declaring 60000×60000,
	// and nothing else.
	files["image-jpeg-60000x60000.jpg"] = []byte{0xff, 0xd8,
		0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
		0xff, 0xc0, 0, 17, 8, 0xea, 0x60, 0xea, 0x60, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
		0xff, 0xd9}
	var gifb bytes.Buffer
	if err := gif.Encode(&gifb, tinyImage(), nil); err != nil {
		t.Fatal(err)
	}
	files["image-valid.gif"] = gifb.Bytes()
	// The tiny image as lossless WebP, made by ffmpeg 5.1 with libwebp
	// (ffmpeg -i image-valid.png -c:v libwebp -lossless 1 image-valid.webp):
	// Go has no WebP encoder.
	files["image-valid.webp"] = []byte{
		0x52, 0x49, 0x46, 0x46, 0x1e, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
		0x56, 0x50, 0x38, 0x4c, 0x11, 0x00, 0x00, 0x00, 0x2f, 0x07, 0xc0, 0x01,
		0x00, 0x0f, 0x10, 0xf3, 0x1f, 0xf3, 0x1f, 0x86, 0xc2, 0x47, 0xf4, 0x3f,
		0x00, 0x00}
	// A GIF whose logical screen is 65535×65535, with a two-colour
	// palette and no frames.
	files["image-gif-65535x65535.gif"] = []byte{'G', 'I', 'F', '8', '9', 'a', 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0,
		0, 0, 0, 255, 255, 255, 0x3b}
	// A WebP whose extended header (VP8X) declares a 16384×16384 canvas,
	// and nothing else.
	files["image-webp-16384x16384.webp"] = []byte{'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', 'X', 10, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x3f, 0, 0xff, 0x3f, 0}
	tableFixtures(t, files)
	return files
}

// fixtureTable is a small table with a numeric, a categorical (with a
// quoted comma) and a target column.
const fixtureTable = "x,colour,y\n1.5,red,a\n2.5,\"blue, dark\",b\n3.5,red,a\n4.5,green,b\n5.5,red,a\n"

// tableFixtures adds the CSV tables and preprocessings to files.
func tableFixtures(t *testing.T, files map[string][]byte) {
	files["table-valid.csv"] = []byte(fixtureTable)
	files["table-valid.csv.gz"] = gzBest([]byte(fixtureTable))
	files["table-ragged.csv"] = []byte("x,colour,y\n1.5,red,a\n2.5,b\n")
	files["table-missing.csv"] = []byte("x,colour,y\n1.5,red,a\n,blue,b\n3.5,NA,a\n")
	files["table-not-utf8.csv"] = []byte("x,colour,y\n1.5,r\xe9d,a\n2.5,blue,b\n")
	files["table-infinite.csv"] = []byte("x,colour,y\n1.5,red,a\ninf,blue,b\n3.5,red,a\n")
	files["table-header-100000-columns.csv.gz"] = gzBest([]byte(strings.Repeat(",", 99_999) + "y\n"))
	path := filepath.Join(t.TempDir(), "table.csv")
	if err := os.WriteFile(path, []byte(fixtureTable), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := datasets.LoadTable(path, datasets.TableOptions{Target: "y", HeldOut: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	if files["preprocessing-valid.json"], err = tab.Preprocessing.WriteJSON(); err != nil {
		t.Fatal(err)
	}
	files["preprocessing-bad-kind.json"] = []byte(`{"task":"classify","target":"y","classes":["a","b"],"columns":[{"name":"x","kind":"ordinal"}]}`)
}
