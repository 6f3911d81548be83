package datasets

// The limits on what the readers accept. Every size that comes from a file
// (an IDX header, a file's length, an image's declared dimensions, the
// length a gzip stream inflates to) is checked against what the file can
// hold and against these limits before memory is reserved for it; an input
// beyond a limit is a one-line error naming the file and the limit, which
// wraps safeio.ErrTooLarge.
const (
	// MaxSplitBytes bounds the data of one split of an image dataset: the
	// pixel bytes an IDX file holds, or the records of a split's CIFAR-10
	// batches together (1 GiB). Pixels are read as float32, four bytes per
	// stored byte, so a split at the limit takes 4 GiB once loaded. The
	// largest IDX set in common use, EMNIST ByClass, holds 547 MB.
	MaxSplitBytes = 1 << 30

	// MaxImagePixels bounds the declared width × height of an image that
	// ReadImage decodes: PIL's Image.MAX_IMAGE_PIXELS, which torchvision's
	// image loaders inherit (PIL warns above it and refuses twice it;
	// ReadImage refuses above it). Decoding an image at the limit takes up
	// to 8 bytes a pixel (16-bit PNG), about 700 MB.
	MaxImagePixels = 89_478_485

	// MaxImageDecodedBytes bounds the memory that decoding one image
	// takes: width × height × channels × bytes per sample, as the image's
	// header declares them (image.DecodeConfig), checked before decoding
	// (512 MiB). It admits an 8-bit RGBA image at MaxImagePixels (358 MB)
	// and refuses a 16-bit RGBA one past 67 million pixels, which would
	// take 8 bytes a pixel. `dlrun serve` takes a smaller bound
	// (serve.DefaultMaxImageBytes).
	MaxImageDecodedBytes = 512 << 20

	// MaxImageFileBytes bounds the bytes ReadImage reads from an image file
	// (256 MiB).
	MaxImageFileBytes = 256 << 20

	// MaxTextBytes bounds a text file, after decompression (256 MiB; the
	// enwik8 benchmark is 100 MB). Each character becomes an int token id,
	// so a text at the limit takes up to 2 GiB of ids once loaded.
	MaxTextBytes = 256 << 20

	// MaxTextVocab bounds the distinct characters of a text: the size of
	// a character-level model's embedding and output layers (65,536).
	MaxTextVocab = 1 << 16

	// MaxRatingsBytes bounds each file of a rating dataset, after
	// decompression (1 GiB; MovieLens's largest, ml-latest, has an 891 MB
	// ratings.csv). Each rating takes 32 bytes once parsed.
	MaxRatingsBytes = 1 << 30

	// MaxLineBytes bounds a line of a rating dataset's files, and a record
	// of a CSV file, quoted line breaks included (64 KiB; MovieLens's
	// lines are under 1 KB). A CSV record takes up to some 150 bytes a
	// byte while it is parsed (a line of commas is as many fields).
	MaxLineBytes = 64 << 10

	// MaxClassesBytes bounds a classes.txt file (1 MiB).
	MaxClassesBytes = 1 << 20

	// MaxMIDIFiles bounds the MIDI files of a music dataset's folder
	// (65,536). Each file is bounded by the music package's limits.
	MaxMIDIFiles = 1 << 16

	// MaxMusicSteps bounds the steps of a music dataset's pieces together
	// (33,554,432: 512 MiB of piano rolls, 16 bytes a step; the JSB
	// Chorales hold 23,134).
	MaxMusicSteps = 1 << 25
	// MaxClasses bounds the classes of a dataset: an image folder's class
	// folders, a table's target values (4,096, train.MaxClasses).
	MaxClasses = 1 << 12

	// MaxImageFiles bounds the images of an image folder (4,194,304;
	// ImageNet's training set holds 1.28 million). Opening a folder keeps
	// some 200 bytes an image, its path among them.
	MaxImageFiles = 1 << 22

	// MaxTextFiles bounds the text files of a folder (1,048,576).
	MaxTextFiles = 1 << 20

	// MaxTableBytes bounds a CSV table, after decompression (256 MiB).
	// The table is read three times (kinds, statistics, values), holding
	// its model inputs, 4 bytes a value, and 16 bytes a row.
	MaxTableBytes = 256 << 20

	// MaxTableColumns bounds the columns of a table (4,096), checked on
	// its header before any row is read.
	MaxTableColumns = 1 << 12

	// MaxCategories bounds the categories of one column of a table
	// (65,536); a column of more distinct text values is an error (an id
	// or free text: ignore it).
	MaxCategories = 1 << 16

	// MaxColumnNameBytes bounds a column's name, a category or a class of
	// a table (1 KiB).
	MaxColumnNameBytes = 1 << 10

	// MaxPreprocessingBytes bounds a saved preprocessing (64 MiB).
	MaxPreprocessingBytes = 64 << 20
)

// maxGzipRatio is the most a deflate stream inflates: a 2-bit code per
// 258-byte match, 1032:1. A gzip file of n bytes holds at most
// maxGzipRatio·n bytes of data.
const maxGzipRatio = 1032
