package datasets_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
)

// wantTest is the split rule of datasets.Ratings, written independently:
// n/10 rounded half to even, at least one.
func wantTest(n int) int { return max(1, int(math.RoundToEven(float64(n)/10))) }

// checkSplit checks that r's split follows the rule: each user's test
// ratings are their last wantTest(n) by (time, movie id), and Train and Test
// are ordered by user, time, movie.
func checkSplit(t *testing.T, r *datasets.Ratings) {
	t.Helper()
	key := func(x datasets.Rating) []int64 {
		return []int64{int64(x.User), x.Time, int64(r.MovieIDs[x.Movie])}
	}
	for name, s := range map[string][]datasets.Rating{"train": r.Train, "test": r.Test} {
		if !slices.IsSortedFunc(s, func(a, b datasets.Rating) int { return slices.Compare(key(a), key(b)) }) {
			t.Errorf("%s ratings are not ordered by user, time, movie", name)
		}
	}
	nTrain, nTest := make([]int, len(r.UserIDs)), make([]int, len(r.UserIDs))
	last := make([][]int64, len(r.UserIDs))
	for _, x := range r.Train {
		nTrain[x.User]++
		last[x.User] = key(x)
	}
	for _, x := range r.Test {
		if nTest[x.User] == 0 && nTrain[x.User] > 0 && slices.Compare(key(x), last[x.User]) < 0 {
			t.Errorf("user %d: a test rating precedes a training rating", r.UserIDs[x.User])
		}
		nTest[x.User]++
	}
	for u := range nTest {
		if n := nTrain[u] + nTest[u]; nTest[u] != wantTest(n) {
			t.Errorf("user %d: %d of %d ratings in test, want %d", r.UserIDs[u], nTest[u], n, wantTest(n))
		}
	}
}

// readBundledRatings parses the bundled ratings.csv.gz simply, for comparison.
func readBundledRatings(t *testing.T) [][4]string {
	t.Helper()
	b, err := datasets.BundledFile("movielens/ratings.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")[1:]
	out := make([][4]string, len(lines))
	for i, l := range lines {
		copy(out[i][:], strings.Split(l, ","))
	}
	return out
}

func TestBundledMovieLens(t *testing.T) {
	r, err := datasets.MovieLens()
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "movielens" {
		t.Errorf("name %q", r.Name)
	}
	if n := len(r.Train) + len(r.Test); n != 100004 {
		t.Errorf("%d ratings, want 100,004", n)
	}
	if len(r.UserIDs) != 671 || len(r.MovieIDs) != 9066 {
		t.Errorf("%d users, %d movies; want 671 and 9,066", len(r.UserIDs), len(r.MovieIDs))
	}
	if r.Min != 0.5 || r.Max != 5 {
		t.Errorf("scale %g to %g, want 0.5 to 5", r.Min, r.Max)
	}
	if len(r.Train) != 90013 || len(r.Test) != 9991 {
		t.Errorf("split %d train, %d test; want 90,013 and 9,991", len(r.Train), len(r.Test))
	}
	checkSplit(t, r)
	if m := r.Mean(); math.Abs(m-3.553664) > 1e-6 {
		t.Errorf("train mean %.6f, want 3.553664", m)
	}
	if len(r.Titles) != 9066 || len(r.Genres) != 9066 {
		t.Fatalf("%d titles, %d genre lists", len(r.Titles), len(r.Genres))
	}
	for i, title := range r.Titles {
		if title == "" {
			t.Errorf("movie %d has no title", r.MovieIDs[i])
		}
	}
	i, ok := r.MovieIndex(1)
	if !ok || r.Titles[i] != "Toy Story (1995)" || strings.Join(r.Genres[i], "|") != "Adventure|Animation|Children|Comedy|Fantasy" {
		t.Errorf("movie 1: %q %q", r.Titles[i], r.Genres[i])
	}
	if i, ok := r.MovieIndex(83829); !ok || len(r.Genres[i]) != 0 {
		t.Errorf("movie 83829 (no genres listed): genres %q", r.Genres[i])
	}
	if i, ok := r.MovieIndex(11); !ok || r.Titles[i] != "American President, The (1995)" {
		t.Errorf("quoted title read as %q", r.Titles[i])
	}
	if i, ok := r.MovieIndex(163949); !ok || i != 9065 {
		t.Errorf("the highest movie id has index %d (%v), want 9065", i, ok)
	}
	if _, ok := r.MovieIndex(0); ok {
		t.Error("movie 0 is indexed but never rated")
	}
	// Nothing lost, nothing duplicated: train + test is the file's multiset.
	var got [][4]string
	for _, x := range slices.Concat(r.Train, r.Test) {
		got = append(got, [4]string{strconv.Itoa(r.UserIDs[x.User]), strconv.Itoa(r.MovieIDs[x.Movie]),
			strconv.FormatFloat(float64(x.Value), 'f', 1, 32), strconv.FormatInt(x.Time, 10)})
	}
	want := readBundledRatings(t)
	cmp4 := func(a, b [4]string) int { return slices.Compare(a[:], b[:]) }
	slices.SortFunc(got, cmp4)
	slices.SortFunc(want, cmp4)
	if !slices.Equal(got, want) {
		t.Error("train + test differ from the ratings of the file")
	}
	var raw []byte
	for _, f := range []string{"ratings.csv.gz", "movies.csv.gz"} {
		b, _ := datasets.BundledFile("movielens/" + f)
		raw = append(raw, b...)
	}
	if sum := sha256.Sum256(raw); r.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 %s is not over ratings then movies", r.SHA256)
	}
	if !strings.Contains(datasets.MovieLensLicence(), "Artistic") {
		t.Error("licence text missing")
	}
}

// The global-mean and ridge-fitted bias baselines on the bundled split
// (RMSE 1.070 and 0.897): a check of the split rule.
func TestMovieLensBaselines(t *testing.T) {
	r, err := datasets.MovieLens()
	if err != nil {
		t.Fatal(err)
	}
	mu := r.Mean()
	rmse := func(pred func(x datasets.Rating) float64) float64 {
		s := 0.0
		for _, x := range r.Test {
			d := pred(x) - float64(x.Value)
			s += d * d
		}
		return math.Sqrt(s / float64(len(r.Test)))
	}
	g := rmse(func(datasets.Rating) float64 { return mu })
	if math.Abs(g-1.070) > 0.0005 {
		t.Errorf("global mean: test RMSE %.4f, want 1.070", g)
	}
	// Alternating ridge fits of movie and user biases, λ = 5, 10 passes.
	const lambda = 5
	bu, bm := make([]float64, len(r.UserIDs)), make([]float64, len(r.MovieIDs))
	su, sm := make([]float64, len(bu)), make([]float64, len(bm))
	nu, nm := make([]float64, len(bu)), make([]float64, len(bm))
	for _, x := range r.Train {
		nu[x.User]++
		nm[x.Movie]++
	}
	for range 10 {
		clear(sm)
		for _, x := range r.Train {
			sm[x.Movie] += float64(x.Value) - mu - bu[x.User]
		}
		for i := range bm {
			bm[i] = sm[i] / (lambda + nm[i])
		}
		clear(su)
		for _, x := range r.Train {
			su[x.User] += float64(x.Value) - mu - bm[x.Movie]
		}
		for i := range bu {
			bu[i] = su[i] / (lambda + nu[i])
		}
	}
	b := rmse(func(x datasets.Rating) float64 { return mu + bu[x.User] + bm[x.Movie] })
	if math.Abs(b-0.897) > 0.0005 {
		t.Errorf("ridge biases: test RMSE %.4f, want 0.897", b)
	}
	t.Logf("test RMSE: global mean %.4f, ridge biases (λ=%d) %.4f", g, lambda, b)
}

// The embedded MovieLens files are byte for byte those listed in its SHA256SUMS.
func TestBundledMovieLensChecksums(t *testing.T) {
	sums, err := datasets.BundledFile("movielens/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"COPYRIGHT.debian": "c9b2b7b1c07a8064c982121ad9f99601820281aa5b6ea9b849978837ac2a988d",
		"movies.csv.gz":    "e409d8427d78adfaf1e2cf2c630d4a620b8617c64389a1757c929a509c50d9c9",
		"ratings.csv.gz":   "6b1302a7d1d891675b33b62a39c84ff1b209e39c8204028c04d103c852bfd327",
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		b, err := datasets.BundledFile("movielens/" + f[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f[0] || want[f[1]] != f[0] {
			t.Errorf("%s: SHA-256 differs from SHA256SUMS or from the recorded sum", f[1])
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%d files checked, want %d", n, len(want))
	}
}

// writeFiles writes name -> content into dir, gzipping the names ending in .gz.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, s := range files {
		b := []byte(s)
		if strings.HasSuffix(name, ".gz") {
			b = gz(b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A tiny MovieLens CSV folder: user ids 1000, 42, 7 (unsorted, sparse);
// user 7 has a single rating, which goes to the test set, of movie 999,
// which nobody else rated; movie 300 is missing from movies.csv and movie
// 2 is listed there but never rated.
const tinyRatings = "userId,movieId,rating,timestamp\r\n" +
	"1000,300,4.5,50\r\n" +
	"42,5,3.0,20\r\n" +
	"1000,5,0.5,10\r\n" +
	"\r\n" +
	"42,12,5.0,10\r\n" +
	"7,999,2.5,99\r\n" +
	"42,77,1.0,20\r\n"

const tinyMovies = "movieId,title,genres\n" +
	"77,\"Cry, the Beloved Country (1995)\",Drama\n" +
	"5,Father of the Bride Part II (1995),Comedy\n" +
	"12,\"Dracula: Dead and Loving It (1995)\",Comedy|Horror\n" +
	"2,Jumanji (1995),Adventure|Children|Fantasy\n" +
	"999,Scorpio Rising (1964),(no genres listed)\n"

func TestLoadRatingsDirCSV(t *testing.T) {
	for _, names := range [][2]string{{"ratings.csv", "movies.csv"}, {"ratings.csv.gz", "movies.csv"}, {"ratings.csv", "movies.csv.gz"}} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{names[0]: tinyRatings, names[1]: tinyMovies})
		r, err := datasets.LoadRatingsDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != dir || !slices.Equal(r.UserIDs, []int{7, 42, 1000}) || !slices.Equal(r.MovieIDs, []int{5, 12, 77, 300, 999}) {
			t.Fatalf("%v: name %s, users %v, movies %v", names, r.Name, r.UserIDs, r.MovieIDs)
		}
		if r.Min != 0.5 || r.Max != 5 {
			t.Errorf("scale %g to %g", r.Min, r.Max)
		}
		// User 42: (10, 12), (20, 5), (20, 77): 1 test rating, the last by
		// (time, movie id). User 1000: 2 ratings, 1 test. User 7: 1, in test.
		wantTrain := []datasets.Rating{{1, 1, 5, 10}, {1, 0, 3, 20}, {2, 0, 0.5, 10}}
		wantTest := []datasets.Rating{{0, 4, 2.5, 99}, {1, 2, 1, 20}, {2, 3, 4.5, 50}}
		if !slices.Equal(r.Train, wantTrain) || !slices.Equal(r.Test, wantTest) {
			t.Fatalf("%v:\ntrain %v, want %v\ntest %v, want %v", names, r.Train, wantTrain, r.Test, wantTest)
		}
		checkSplit(t, r)
		if m := r.Mean(); math.Abs(m-8.5/3) > 1e-9 {
			t.Errorf("mean %g", m)
		}
		wantTitles := []string{"Father of the Bride Part II (1995)", "Dracula: Dead and Loving It (1995)", "Cry, the Beloved Country (1995)", "", "Scorpio Rising (1964)"}
		if !slices.Equal(r.Titles, wantTitles) {
			t.Errorf("titles %q", r.Titles)
		}
		if strings.Join(r.Genres[1], "+") != "Comedy+Horror" || len(r.Genres[3]) != 0 || len(r.Genres[4]) != 0 {
			t.Errorf("genres %q", r.Genres)
		}
		// User 7 and movie 999 appear only in the test set, yet are indexed.
		if u, ok := r.UserIndex(7); !ok || u != 0 {
			t.Errorf("user 7: %d %v", u, ok)
		}
		if m, ok := r.MovieIndex(999); !ok || m != 4 {
			t.Errorf("movie 999: %d %v", m, ok)
		}
		if _, ok := r.MovieIndex(2); ok {
			t.Error("unrated movie 2 has an index")
		}
		if _, ok := r.UserIndex(8); ok {
			t.Error("unknown user 8 has an index")
		}
		var raw []byte
		for _, n := range names {
			b, _ := os.ReadFile(filepath.Join(dir, n))
			raw = append(raw, b...)
		}
		if sum := sha256.Sum256(raw); r.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%v: SHA256 is not over the files as stored", names)
		}
	}
}

func TestLoadRatingsDir100K(t *testing.T) {
	flags := func(on ...int) string {
		f := make([]string, 19)
		for i := range f {
			f[i] = "0"
		}
		for _, i := range on {
			f[i] = "1"
		}
		return strings.Join(f, "|")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"u.data": "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250950\n",
		"u.item.gz": "242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)|" + flags(5) + "\n" +
			"302|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x|" + flags(8, 18) + "\n" +
			"267|unknown||||" + flags(0) + "\n",
	})
	r, err := datasets.LoadRatingsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.UserIDs, []int{186, 196}) || !slices.Equal(r.MovieIDs, []int{242, 302}) || r.Min != 3 || r.Max != 5 {
		t.Fatalf("users %v, movies %v, scale %g to %g", r.UserIDs, r.MovieIDs, r.Min, r.Max)
	}
	if !slices.Equal(r.Train, []datasets.Rating{{1, 0, 3, 881250949}}) || len(r.Test) != 2 {
		t.Fatalf("train %v, test %v", r.Train, r.Test)
	}
	checkSplit(t, r)
	if r.Titles[1] != "Misérables, Les (1995)" || strings.Join(r.Genres[1], "+") != "Drama+Western" || strings.Join(r.Genres[0], "+") != "Comedy" {
		t.Errorf("titles %q, genres %q", r.Titles, r.Genres)
	}
}

func TestLoadRatingsDirErrors(t *testing.T) {
	item := "1|A (1990)|||u|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n"
	cases := []struct {
		name  string
		files map[string]string
		want  string // the error, after the folder and a "/"
	}{
		{"columns", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3.0,4\n1,2,3.0\n", "movies.csv": tinyMovies},
			"ratings.csv:3: 3 columns, want 4 (userId,movieId,rating,timestamp)"},
		{"above scale", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,5.5,4\n", "movies.csv": tinyMovies},
			"ratings.csv:2: rating 5.5 is outside the scale 0.5 to 5 in steps of 0.5"},
		{"between steps", map[string]string{"ratings.csv.gz": "userId,movieId,rating,timestamp\n\n1,2,3.25,4\n", "movies.csv": tinyMovies},
			"ratings.csv.gz:3: rating 3.25 is outside the scale 0.5 to 5 in steps of 0.5"},
		{"zero", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,0,4\n", "movies.csv": tinyMovies},
			"ratings.csv:2: rating 0 is outside the scale 0.5 to 5 in steps of 0.5"},
		{"not a number", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,good,4\n", "movies.csv": tinyMovies},
			`ratings.csv:2: rating "good" is not a number`},
		{"NaN", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,NaN,4\n", "movies.csv": tinyMovies},
			`ratings.csv:2: rating "NaN" is not a finite number`},
		{"Inf", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3,4\n1,2,-inf,4\n", "movies.csv": tinyMovies},
			`ratings.csv:3: rating "-inf" is not a finite number`},
		{"infinity", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,Infinity,4\n", "movies.csv": tinyMovies},
			`ratings.csv:2: rating "Infinity" is not a finite number`},
		{"hex", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,0x1.8p1,4\n", "movies.csv": tinyMovies},
			`ratings.csv:2: rating "0x1.8p1" is not a decimal number`},
		{"100k NaN", map[string]string{"u.data": "1\t1\tNaN\t5\n", "u.item": "1|A (1990)|||u|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n"},
			`u.data:1: rating "NaN" is not a finite number`},
		{"bad user", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3,4\nx,2,3,4\n", "movies.csv": tinyMovies},
			`ratings.csv:3: userId "x" is not a whole number ≥ 0`},
		{"negative movie", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,-2,3,4\n", "movies.csv": tinyMovies},
			`ratings.csv:2: movieId "-2" is not a whole number ≥ 0`},
		{"bad time", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3,4.5\n", "movies.csv": tinyMovies},
			`ratings.csv:2: timestamp "4.5" is not a whole number`},
		{"empty ratings", map[string]string{"ratings.csv": "", "movies.csv": tinyMovies},
			"ratings.csv:1: empty file (want the header userId,movieId,rating,timestamp)"},
		{"empty gzipped ratings", map[string]string{"ratings.csv.gz": "", "movies.csv": tinyMovies},
			"ratings.csv.gz:1: empty file (want the header userId,movieId,rating,timestamp)"},
		{"header only", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n", "movies.csv": tinyMovies},
			"ratings.csv:2: no ratings"},
		{"bad header", map[string]string{"ratings.csv": "user,movie,rating,time\n1,2,3,4\n", "movies.csv": tinyMovies},
			`ratings.csv:1: header "user,movie,rating,time", want userId,movieId,rating,timestamp`},
		{"bare quote", map[string]string{"ratings.csv": tinyRatings, "movies.csv": "movieId,title,genres\n1,A \"B\" (1990),Drama\n"},
			`movies.csv:2: bare " in non-quoted-field`},
		{"movie columns", map[string]string{"ratings.csv": tinyRatings, "movies.csv": "movieId,title,genres\n1,A (1990),Drama\n2,B, (1991),Drama\n"},
			"movies.csv:3: 4 columns, want 3"},
		{"movie twice", map[string]string{"ratings.csv": tinyRatings, "movies.csv": "movieId,title,genres\n1,A,Drama\n\n1,B,Drama\n"},
			"movies.csv:4: movie 1 is listed again (first on line 2)"},
		{"empty movies", map[string]string{"ratings.csv": tinyRatings, "movies.csv.gz": ""},
			"movies.csv.gz:1: empty file (want the header movieId,title,genres)"},
		{"missing movies", map[string]string{"ratings.csv": tinyRatings},
			"missing movies.csv (or movies.csv.gz)"},
		{"100k columns", map[string]string{"u.data": "1\t1\t3\t5\n1\t1 3 5\n", "u.item": item},
			"u.data:2: 2 columns, want 4 (user,item,rating,timestamp)"},
		{"100k half star", map[string]string{"u.data": "1\t1\t3.5\t5\n", "u.item": item},
			"u.data:1: rating 3.5 is outside the scale 1 to 5 in whole steps"},
		{"100k six stars", map[string]string{"u.data.gz": "1\t1\t3\t5\r\n1\t1\t6\t5\r\n", "u.item": item},
			"u.data.gz:2: rating 6 is outside the scale 1 to 5 in whole steps"},
		{"100k empty", map[string]string{"u.data": "", "u.item": item},
			"u.data:1: empty file"},
		{"100k long line", map[string]string{"u.data": "1\t1\t3\t5\n" + strings.Repeat("1", datasets.MaxLineBytes+1) + "\n", "u.item": item},
			"u.data:2: line longer than 65536 bytes"},
		{"100k long line, just", map[string]string{"u.data": "1\t1\t3\t" + strings.Repeat("0", datasets.MaxLineBytes-7) + "5\r\n1\t1\t3\tx\n", "u.item": item},
			`u.data:2: timestamp "x" is not a whole number`},
		{"long line", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3,4\n" + strings.Repeat(",", datasets.MaxLineBytes+1) + "\n", "movies.csv": tinyMovies},
			"ratings.csv:3: line longer than 65536 bytes"},
		{"long quoted record", map[string]string{"ratings.csv": tinyRatings, "movies.csv": "movieId,title,genres\n1,A,B\n2,\"" + strings.Repeat("a\n", datasets.MaxLineBytes/2) + "\",C\n"},
			"movies.csv:3: line longer than 65536 bytes"},
		{"long line, just", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3," + strings.Repeat("0", datasets.MaxLineBytes-7) + "4\n1,2,3,x\n", "movies.csv": tinyMovies},
			`ratings.csv:3: timestamp "x" is not a whole number`},
		{"100k item columns", map[string]string{"u.data": "1\t1\t3\t5\n", "u.item": item + "2|B|||u|0\n"},
			"u.item:2: 6 columns, want 24"},
		{"100k genre flag", map[string]string{"u.data": "1\t1\t3\t5\n", "u.item": strings.Replace(item, "|1\n", "|2\n", 1)},
			`u.item:1: genre flag 19 (Western) is "2", want 0 or 1`},
		{"100k empty item", map[string]string{"u.data": "1\t1\t3\t5\n", "u.item": ""},
			"u.item:1: empty file"},
		{"100k missing item", map[string]string{"u.data": "1\t1\t3\t5\n"},
			"missing u.item (or u.item.gz)"},
		{"neither layout", map[string]string{"ratings.txt": "1,2,3,4\n"},
			"neither layout found: want ratings.csv and movies.csv (MovieLens CSV) or u.data and u.item (ml-100k), each optionally .gz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, c.files)
			_, err := datasets.LoadRatingsDir(dir)
			want := dir + string(filepath.Separator) + c.want
			if strings.HasPrefix(c.want, "missing") {
				want = dir + ": " + c.want
			} else if strings.HasPrefix(c.want, "neither") {
				want = "ratings folder " + dir + ": " + c.want
			}
			if err == nil || err.Error() != want {
				t.Fatalf("error %v\nwant  %s", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
	// A truncated gzip stream and a corrupt gzip header name the file.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"movies.csv": tinyMovies})
	z := gz([]byte(tinyRatings))
	os.WriteFile(filepath.Join(dir, "ratings.csv.gz"), z[:len(z)-12], 0o644)
	if _, err := datasets.LoadRatingsDir(dir); err == nil || err.Error() != filepath.Join(dir, "ratings.csv.gz")+":9: truncated: the gzip stream ends early" {
		t.Fatalf("truncated gzip: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "ratings.csv.gz"), []byte{0x1f, 0x8b, 0, 0}, 0o644)
	if _, err := datasets.LoadRatingsDir(dir); err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "ratings.csv.gz")+": bad gzip header") {
		t.Fatalf("bad gzip header: %v", err)
	}
	// A folder that does not exist, and a file instead of a folder.
	if _, err := datasets.LoadRatingsDir(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("missing folder: %v", err)
	}
	if _, err := datasets.LoadRatingsDir(filepath.Join(dir, "movies.csv")); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("file as folder: %v", err)
	}
}
