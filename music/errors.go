package music

import (
	"errors"

	"github.com/dlrun/dlrun/internal/safeio"
)

var (
	// ErrMalformed is wrapped by the errors of a file that is not a
	// well-formed Standard MIDI File.
	ErrMalformed = errors.New("malformed MIDI file")

	// ErrUnsupported is wrapped by the errors of a well-formed MIDI file
	// that dlrun does not read: type 2, or timed in SMPTE frames rather
	// than beats.
	ErrUnsupported = errors.New("unsupported MIDI file")

	// ErrTooLarge is wrapped by the errors of a file or roll beyond one of
	// the limits of limits.go (it is safeio.ErrTooLarge, which dlrun's
	// other readers wrap too).
	ErrTooLarge = safeio.ErrTooLarge

	// ErrNoSynth is wrapped by RenderWAV's error when FluidSynth or its
	// General MIDI soundfont is not installed.
	ErrNoSynth = errors.New("no synthesizer")
)
