package datasets

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"maps"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// Rating is one rating of a Ratings dataset. User and Movie are dense
// indices: the positions of the original ids in Ratings.UserIDs and
// Ratings.MovieIDs, which are sorted by original id, so the indices follow
// the ids' numeric order whatever the order of the file.
type Rating struct {
	User  int     // dense user index, 0 ≤ User < len(UserIDs)
	Movie int     // dense movie index, 0 ≤ Movie < len(MovieIDs)
	Value float32 // the rating, on the file's scale
	Time  int64   // when it was given: Unix time in seconds
}

// Ratings is a MovieLens-style rating dataset: the users and movies, each
// known by its original id and a dense index, the movies' titles and genres,
// and the ratings split into a training and a test set.
//
// Indices cover all ratings, training and test: a user or movie that only
// the test set holds still has an index (a model simply has nothing to learn
// about it). Movies listed in the movies file but never rated get none.
//
// The split is by time within each user: a user's n ratings, ordered by
// (Time, original movie id), put the last k in Test and the rest in Train,
// where k is n/10 rounded to the nearest integer, ties to even (as R's and
// Python's round do), and at least 1. In integer arithmetic: k = n/10 (the
// quotient), plus one if n%10 > 5 or if n%10 == 5 and k is odd, then
// max(k, 1). So a user with 1 to 14 ratings has 1 test rating, with 15 to
// 25 has 2, 26 to 34 has 3, 35 to 45 has 4; a user with a single rating has
// it in Test and nothing in Train (GroupLens's users have at least 20).
// Train and Test are each ordered by user index, then time, then movie
// index. The split depends only on the ratings, not on the order of the
// file.
type Ratings struct {
	Name     string     // "movielens", or the folder it was read from
	SHA256   string     // hex SHA-256 over the source files as stored (ratings, then movies)
	UserIDs  []int      // original id of each dense user index, ascending
	MovieIDs []int      // original id of each dense movie index, ascending
	Titles   []string   // by movie index; "" when the movies file lacks the movie
	Genres   [][]string // by movie index; empty when none is listed
	Min, Max float32    // the lowest and highest rating in the file
	Train    []Rating
	Test     []Rating
}

// Mean returns the mean of the training ratings (0 when there are none).
func (r *Ratings) Mean() float64 {
	if len(r.Train) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range r.Train {
		s += float64(x.Value)
	}
	return s / float64(len(r.Train))
}

// UserIndex returns the dense index of the user with original id id.
func (r *Ratings) UserIndex(id int) (int, bool) { return slices.BinarySearch(r.UserIDs, id) }

// MovieIndex returns the dense index of the movie with original id id.
func (r *Ratings) MovieIndex(id int) (int, bool) { return slices.BinarySearch(r.MovieIDs, id) }

var movielens struct {
	once sync.Once
	r    *Ratings
	err  error
}

// MovieLens returns the bundled MovieLens ratings, name "movielens": the
// data set movielens of R's dslabs package (Debian r-cran-dslabs 0.7.4-1), a
// MovieLens "latest small" release of 100,004 ratings, 0.5 to 5 stars in
// half steps, by 671 users of 9,066 movies, stored in MovieLens's CSV
// layout (see LoadRatingsDir); dslabs © 2019 Rafael A. Irizarry and Amy
// Gill, Artistic-2.0 (see MovieLensLicence). The split is the one
// documented on Ratings: 90,013 training and 9,991 test ratings, at least 2
// test ratings per user. The parsed dataset is cached; callers must not
// modify it.
func MovieLens() (*Ratings, error) {
	movielens.once.Do(func() {
		open := func(name string) (source, error) {
			b, err := bundled.ReadFile(path.Join("data/movielens", name))
			return bytesSource("bundled "+name, b), err
		}
		rs, err := open("ratings.csv.gz")
		if err != nil {
			movielens.err = err
			return
		}
		ms, err := open("movies.csv.gz")
		if err != nil {
			movielens.err = err
			return
		}
		movielens.r, movielens.err = readRatings("movielens", movieLensCSV, rs, ms, MaxRatingsBytes)
	})
	return movielens.r, movielens.err
}

// MovieLensLicence returns the licence text of the bundled MovieLens ratings.
func MovieLensLicence() string {
	b, _ := bundled.ReadFile("data/movielens/COPYRIGHT.debian")
	return string(b)
}

// LoadRatingsDir reads a rating dataset from dir, in either of two layouts:
//
//   - MovieLens CSV, as GroupLens ships ml-latest-small, ml-latest and
//     ml-25m: ratings.csv with the header userId,movieId,rating,timestamp
//     and ratings 0.5 to 5 in half steps, and movies.csv with the header
//     movieId,title,genres (RFC 4180 quoting, UTF-8, genres joined with '|';
//     "(no genres listed)" means none);
//   - ml-100k: u.data, tab-separated user, item, rating (1 to 5, whole
//     stars), timestamp, no header; and u.item, '|'-separated movie id,
//     title (Latin-1, decoded to UTF-8), release date, video release date,
//     IMDb URL and 19 genre flags 0 or 1 (unknown, Action, …, Western; the
//     "unknown" flag means none).
//
// Each file may be gzipped (recognised by its magic bytes; the name may end
// in .gz). Ids are whole numbers ≥ 0, neither dense nor sorted necessarily.
// A malformed line (a wrong number of columns, a bad header, a value that is
// not a number, a rating that is not a finite decimal number on the
// layout's scale, such as NaN or Inf, a movie listed twice, a line longer
// than MaxLineBytes) is an error naming the file and the line, as is an
// empty file; a missing file, one that is not a regular file, and one that
// holds more than MaxRatingsBytes (after decompression) are errors naming
// it. The split is the one documented on Ratings.
func LoadRatingsDir(dir string) (*Ratings, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, errors.Wrap(err, "ratings folder")
	}
	if !st.IsDir() {
		return nil, errors.Errorf("ratings folder %s: not a folder", dir)
	}
	for _, l := range []ratingsLayout{movieLensCSV, movieLens100K} {
		rp, err := findIDX(dir, l.ratings)
		if err != nil {
			continue
		}
		mp, err := findIDX(dir, l.movies)
		if err != nil {
			return nil, err
		}
		rs, rdone, err := openSource(rp)
		if err != nil {
			return nil, err
		}
		defer rdone()
		ms, mdone, err := openSource(mp)
		if err != nil {
			return nil, err
		}
		defer mdone()
		return readRatings(dir, l, rs, ms, MaxRatingsBytes)
	}
	return nil, errors.Errorf("ratings folder %s: neither layout found: want ratings.csv and movies.csv (MovieLens CSV) or u.data and u.item (ml-100k), each optionally .gz", dir)
}

// ratingsLayout describes one on-disk layout of a rating dataset.
type ratingsLayout struct {
	ratings, movies string   // file names, without .gz
	ratingsHeader   string   // comma-joined header line; "" for none
	moviesHeader    string   // likewise for the movies file
	sep, moviesSep  rune     // column separators of the two files
	cols            []string // names of the four rating columns, for errors
	ml100k          bool     // ml-100k: ratings 1 to 5 whole, u.item movies; else 0.5 to 5 in half steps, movies.csv
}

var (
	movieLensCSV = ratingsLayout{
		ratings: "ratings.csv", movies: "movies.csv",
		ratingsHeader: "userId,movieId,rating,timestamp", moviesHeader: "movieId,title,genres",
		sep: ',', moviesSep: ',', cols: []string{"userId", "movieId", "rating", "timestamp"},
	}
	movieLens100K = ratingsLayout{
		ratings: "u.data", movies: "u.item",
		sep: '\t', moviesSep: '|', cols: []string{"user", "item", "rating", "timestamp"}, ml100k: true,
	}
)

// ml100kGenres are the genres of the 19 flags of ml-100k's u.item, in order.
var ml100kGenres = []string{
	"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
	"Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
	"Romance", "Sci-Fi", "Thriller", "War", "Western",
}

// readRatings parses a ratings and a movies file of layout l, each at
// most limit bytes after decompression, maps the ids to dense indices and
// splits the ratings.
func readRatings(name string, l ratingsLayout, rs, ms source, limit int64) (*Ratings, error) {
	h := sha256.New()
	var all []Rating
	err := eachRecord(rs, h, l.sep, limit, func(recs *records) error {
		var err error
		all, err = parseRatings(recs, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	r := indexRatings(name, all)
	r.Titles = make([]string, len(r.MovieIDs))
	r.Genres = make([][]string, len(r.MovieIDs))
	if err := eachRecord(ms, h, l.moviesSep, limit, func(recs *records) error { return parseMovies(recs, l, r) }); err != nil {
		return nil, err
	}
	r.SHA256 = hex.EncodeToString(h.Sum(nil))
	return r, nil
}

// eachRecord feeds s's bytes to h, decompresses them if they are gzipped,
// bounds them to limit bytes, and calls parse on the records; it then reads
// s to its end, so that h sees the whole file.
func eachRecord(s source, h hash.Hash, sep rune, limit int64, parse func(*records) error) error {
	raw := s.r
	s.r = io.TeeReader(raw, h)
	in, err := unpack(s, limit)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := parse(newRecords(in, s.name, sep, limit, "a ratings file may hold, decompressed (MaxRatingsBytes)")); err != nil {
		return err
	}
	if _, err := io.Copy(h, raw); err != nil {
		return errors.Wrapf(err, "reading %s", s.name)
	}
	return nil
}

// parseRatings reads the ratings of layout l, with original ids in User and
// Movie.
func parseRatings(recs *records, l ratingsLayout) ([]Rating, error) {
	if err := recs.header(l.ratingsHeader); err != nil {
		return nil, err
	}
	var all []Rating
	for {
		rec, err := recs.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 4 {
			return nil, recs.errorf("%d columns, want 4 (%s)", len(rec), strings.Join(l.cols, ","))
		}
		u, err := recs.id(rec[0], l.cols[0])
		if err != nil {
			return nil, err
		}
		m, err := recs.id(rec[1], l.cols[1])
		if err != nil {
			return nil, err
		}
		v, err := recs.rating(rec[2], l.cols[2])
		if err != nil {
			return nil, err
		}
		if !l.ml100k && !(v >= 0.5 && v <= 5 && v*2 == float64(int(v*2))) {
			return nil, recs.errorf("%s %s is outside the scale 0.5 to 5 in steps of 0.5", l.cols[2], rec[2])
		}
		if l.ml100k && !(v >= 1 && v <= 5 && v == float64(int(v))) {
			return nil, recs.errorf("%s %s is outside the scale 1 to 5 in whole steps", l.cols[2], rec[2])
		}
		t, err := strconv.ParseInt(strings.TrimSpace(rec[3]), 10, 64)
		if err != nil {
			return nil, recs.errorf("%s %q is not a whole number", l.cols[3], rec[3])
		}
		all = append(all, Rating{User: u, Movie: m, Value: float32(v), Time: t})
	}
	if len(all) == 0 {
		if recs.line == 0 {
			return nil, errors.Errorf("%s:1: empty file", recs.name)
		}
		return nil, errors.Errorf("%s:%d: no ratings", recs.name, recs.line+1)
	}
	return all, nil
}

// parseMovies reads the movies file of layout l into r's Titles and Genres.
func parseMovies(recs *records, l ratingsLayout, r *Ratings) error {
	if err := recs.header(l.moviesHeader); err != nil {
		return err
	}
	want, idCol := 3, "movieId"
	if l.ml100k {
		want, idCol = 5+len(ml100kGenres), "movie id"
	}
	seen := map[int]int{} // id -> line
	for {
		rec, err := recs.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(rec) != want {
			return recs.errorf("%d columns, want %d", len(rec), want)
		}
		id, err := recs.id(rec[0], idCol)
		if err != nil {
			return err
		}
		if first, ok := seen[id]; ok {
			return recs.errorf("movie %d is listed again (first on line %d)", id, first)
		}
		seen[id] = recs.line
		var title string
		var genres []string
		if l.ml100k {
			title = latin1(rec[1])
			for i, f := range rec[5:] {
				switch {
				case f == "1" && i > 0:
					genres = append(genres, ml100kGenres[i])
				case f != "0" && f != "1":
					return recs.errorf("genre flag %d (%s) is %q, want 0 or 1", i+1, ml100kGenres[i], f)
				}
			}
		} else {
			title = rec[1]
			if rec[2] != "(no genres listed)" {
				genres = strings.FieldsFunc(rec[2], func(c rune) bool { return c == '|' })
			}
		}
		if i, ok := r.MovieIndex(id); ok {
			r.Titles[i], r.Genres[i] = title, genres
		}
	}
	if recs.line == 0 {
		return errors.Errorf("%s:1: empty file", recs.name)
	}
	return nil
}

// indexRatings maps the original ids in all to dense indices, in id order,
// and splits the ratings (see Ratings). It reuses all's memory for Train.
func indexRatings(name string, all []Rating) *Ratings {
	users, movies := map[int]struct{}{}, map[int]struct{}{}
	r := &Ratings{Name: name, Min: all[0].Value, Max: all[0].Value}
	for _, x := range all {
		users[x.User] = struct{}{}
		movies[x.Movie] = struct{}{}
		r.Min, r.Max = min(r.Min, x.Value), max(r.Max, x.Value)
	}
	r.UserIDs = slices.Sorted(maps.Keys(users))
	r.MovieIDs = slices.Sorted(maps.Keys(movies))
	for i := range all {
		all[i].User, _ = r.UserIndex(all[i].User)
		all[i].Movie, _ = r.MovieIndex(all[i].Movie)
	}
	// Movie indices follow movie ids, so ordering by index orders by id.
	slices.SortFunc(all, func(a, b Rating) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Time, b.Time), cmp.Compare(a.Movie, b.Movie))
	})
	k := 0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].User == all[i].User {
			j++
		}
		t := testCount(j - i)
		r.Test = append(r.Test, all[j-t:j]...)
		k += copy(all[k:], all[i:j-t])
		i = j
	}
	r.Train = all[:k:k]
	return r
}

// testCount is the number of a user's n ratings that go to the test set:
// n/10 rounded to nearest, ties to even, and at least 1.
func testCount(n int) int {
	k, rem := n/10, n%10
	if rem > 5 || (rem == 5 && k%2 == 1) {
		k++
	}
	return max(k, 1)
}

// latin1 decodes s, read as ISO 8859-1, to UTF-8.
func latin1(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// records reads the lines of a rating dataset file as records of separated
// fields: RFC 4180 CSV for ',', plain lines split at the separator
// otherwise. Blank lines are skipped. line is the line number of the last
// record read (0 before the first).
type records struct {
	name  string
	line  int
	csv   *csv.Reader
	sc    *bufio.Scanner
	sep   string
	limit int64 // the most bytes the file may hold, for errors
	// limitText says what the limit bounds, for errors: "a ratings file
	// may hold, decompressed (MaxRatingsBytes)".
	limitText string
}

// newRecords reads the records of r, at most limit bytes (what
// limitText says), whose lines (CSV: records) are at most MaxLineBytes
// long.
func newRecords(r io.Reader, name string, sep rune, limit int64, limitText string) *records {
	recs := &records{name: name, limit: limit, limitText: limitText}
	if sep == ',' {
		recs.csv = csv.NewReader(&recordLimit{r: r, line: 1, start: 1})
		recs.csv.FieldsPerRecord = -1
		recs.csv.ReuseRecord = true
	} else {
		recs.sc = bufio.NewScanner(r)
		recs.sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes+2) // and "\r\n"
		recs.sep = string(sep)
	}
	return recs
}

// recordLimit passes r's bytes on until a record runs past MaxLineBytes,
// and then fails with a *longLine: csv.Reader itself would buffer a record
// of any length, and reserve some 150 bytes for each of its fields. A
// record ends at a line break outside double quotes (RFC 4180; a doubled
// quote inside a quoted field leaves it quoted).
type recordLimit struct {
	r      io.Reader
	line   int  // the line the next byte is on
	start  int  // the line the current record starts on
	run    int  // bytes of the current record read so far
	quoted bool // whether the next byte is inside a quoted field
}

// longLine is the error of a record longer than MaxLineBytes.
type longLine struct{ line int }

func (e *longLine) Error() string {
	return fmt.Sprintf("line %d is longer than %d bytes", e.line, MaxLineBytes)
}

func (l *recordLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for rest := p[:n]; len(rest) > 0 && l.run <= MaxLineBytes; {
		i := bytes.IndexAny(rest, "\"\n")
		if i < 0 {
			l.run += len(rest)
			break
		}
		l.run += i
		switch {
		case rest[i] == '"':
			l.quoted = !l.quoted
			l.run++
		case l.quoted:
			l.line++
			l.run++
		case l.run <= MaxLineBytes:
			l.line++
			l.start, l.run = l.line, 0
		}
		rest = rest[i+1:]
	}
	if l.run > MaxLineBytes {
		return 0, &longLine{l.start}
	}
	return n, err
}

// next returns the next record, io.EOF at the end, or an error naming the
// file and line.
func (r *records) next() ([]string, error) {
	if r.csv != nil {
		rec, err := r.csv.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return nil, err
		case errors.As(err, &pe):
			return nil, errors.Errorf("%s:%d: %v", r.name, pe.Line, pe.Err)
		case err != nil:
			return nil, r.readError(err)
		}
		r.line, _ = r.csv.FieldPos(0)
		return rec, nil
	}
	for r.sc.Scan() {
		r.line++
		l := strings.TrimSuffix(r.sc.Text(), "\r")
		if len(l) > MaxLineBytes {
			return nil, errors.Errorf("%s:%d: line longer than %d bytes", r.name, r.line, MaxLineBytes)
		}
		if l != "" {
			return strings.Split(l, r.sep), nil
		}
	}
	switch err := r.sc.Err(); {
	case err == bufio.ErrTooLong:
		return nil, errors.Errorf("%s:%d: line longer than %d bytes", r.name, r.line+1, MaxLineBytes)
	case err != nil:
		return nil, r.readError(err)
	}
	return nil, io.EOF
}

// readError reports a failure to read the line after the current one.
func (r *records) readError(err error) error {
	var long *longLine
	switch {
	case err == io.ErrUnexpectedEOF:
		return errors.Errorf("%s:%d: truncated: the gzip stream ends early", r.name, r.line+1)
	case errors.As(err, &long):
		return errors.Errorf("%s:%d: line longer than %d bytes", r.name, long.line, MaxLineBytes)
	case errors.Is(err, safeio.ErrTooLarge):
		return fmt.Errorf("%s:%d: more than the %d bytes %s: %w", r.name, r.line+1, r.limit, r.limitText, safeio.ErrTooLarge)
	}
	return errors.Errorf("%s:%d: %v", r.name, r.line+1, err)
}

// header reads and checks the header line want (comma-joined column
// names); an empty want means the file has none.
func (r *records) header(want string) error {
	if want == "" {
		return nil
	}
	rec, err := r.next()
	if err == io.EOF {
		return errors.Errorf("%s:1: empty file (want the header %s)", r.name, want)
	}
	if err != nil {
		return err
	}
	if len(rec) > 0 {
		rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	}
	if got := strings.Join(rec, ","); got != want {
		return r.errorf("header %q, want %s", got, want)
	}
	return nil
}

// id parses a whole number ≥ 0 from column col of the current record.
func (r *records) id(s, col string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, r.errorf("%s %q is not a whole number ≥ 0", col, s)
	}
	return v, nil
}

// rating parses a rating from column col of the current record: a finite
// number in decimal notation (not NaN, Inf or a hexadecimal float, all of
// which strconv.ParseFloat accepts).
func (r *records) rating(s, col string) (float64, error) {
	s = strings.TrimSpace(s)
	v, why := parseDecimal(s)
	if why != "" {
		return 0, r.errorf("%s %q is %s", col, s, why)
	}
	return v, nil
}

// parseDecimal parses s as a finite number in decimal notation, and
// otherwise says what it is not: "not a number", "not a finite number"
// (NaN, Inf, 1e999) or "not a decimal number" (a hexadecimal float,
// which strconv.ParseFloat accepts too).
func parseDecimal(s string) (float64, string) {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, "not a number"
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return 0, "not a finite number"
	case strings.Trim(s, "0123456789.eE+-") != "":
		return 0, "not a decimal number"
	}
	return v, ""
}

// errorf returns an error naming the file and the current line.
func (r *records) errorf(format string, args ...any) error {
	return errors.Errorf("%s:%d: %s", r.name, r.line, fmt.Sprintf(format, args...))
}
