// Package music holds dlrun's representation of music and its Standard
// MIDI File input and output.
//
// A piece is a Roll: a sequence of steps on a regular grid (a quarter,
// an 8th or a 16th note a step), each step the set of the 88 piano keys
// (MIDI notes 21 to 108, A0 to C8) sounding then. This is the piano roll
// of the polyphonic-music benchmarks (Boulanger-Lewandowski et al. 2012):
// a note held over several steps and a note struck again on each of them
// look the same.
//
// ReadFile reads a Standard MIDI File of type 0 or 1 into a Song (its
// notes in ticks, drums on channel 10 left out); Song.Roll quantises it
// to a grid. WriteFile writes a Roll as a type 1 file of 480 ticks per
// quarter note with its tempo and time signature, a key sounding over
// consecutive steps written as one note. MIDI is decoded and encoded by
// gitlab.com/gomidi/midi; before decoding, the reader checks the file's
// chunk and event framing against its length and the limits of
// limits.go, so a malformed or hostile file is a one-line error naming
// the file and what is wrong, and memory stays bounded by the file's
// size.
//
// Measure computes the corpus statistics that say whether music sounds
// like four-part chorales (how often 3 or 4 notes sound, how many notes
// lie in the piece's scale), and RenderWAV renders a Roll to audio with
// FluidSynth and a General MIDI soundfont.
//
// The package imports nothing else of dlrun's public packages.
package music
