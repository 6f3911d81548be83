// Package synth makes training and test material for shot boundary
// detection: clips of shots joined by known transitions, with exact
// labels, from sources that Debian packages ship (photographs and artwork
// from wallpaper packages, ffmpeg's lavfi generators).
//
// A shot is a window moving over a source (a still pan, zoom or whip pan
// over a photograph, or over a lavfi animation rendered at twice the
// frame size), with lighting that may drift or switch, sensor noise, and
// coloured objects moving across it. Hard negatives happen inside shots:
// flashes, whip pans, a light switched off or on, a large object sweeping
// across the frame. Shots are joined by hard cuts, dissolves of 5 to 30
// frames and fades through black; two shots of one source may meet at a
// cut, as a change of camera angle does.
//
// Sources are split by name (Split): no source of a test clip appears in
// a training clip. Everything follows from the seed: the same seed gives
// the same clips and labels.
package synth
