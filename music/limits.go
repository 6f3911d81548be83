package music

// The limits on what ReadFile and Read accept. A file beyond one is a
// one-line error naming the file and the limit, which wraps ErrTooLarge.
// Within them a parse holds the file, a checked copy of its note events
// (at most 4/3 of its size) and its notes (40 bytes each, at most one a
// note-on event): a file at the limits takes some 200 MB while it is
// parsed, and the roll of a piece at most 16 MiB.
const (
	// MaxFileBytes bounds the size of a MIDI file (16 MiB; a file takes
	// about 8 bytes a note, so this is room for some two million notes).
	MaxFileBytes = 16 << 20

	// MaxTracks bounds the tracks a file declares (1,024; the format
	// allows 65,535, and a score takes one or two a part).
	MaxTracks = 1024

	// MaxEvents bounds the events of a file, all tracks together
	// (2,097,152; a note takes two, its note-on and note-off).
	MaxEvents = 1 << 21

	// MaxSteps bounds the steps of a Roll, and so the length of a piece
	// once quantised (1,048,576 steps: over nine hours of 16th notes at
	// 120 quarter notes a minute, 16 MiB of steps).
	MaxSteps = 1 << 20
)
