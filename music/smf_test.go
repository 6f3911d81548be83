package music

import (
	"encoding/binary"
)

// The tests build MIDI files byte by byte, so that what a file holds is
// written out in the test, independent of the package's writer.

// smfFile returns a Standard MIDI File: an MThd chunk of format, the
// number of tracks given and division, then each track as an MTrk chunk.
func smfFile(format, division int, tracks ...[]byte) []byte {
	b := []byte("MThd\x00\x00\x00\x06")
	b = binary.BigEndian.AppendUint16(b, uint16(format))
	b = binary.BigEndian.AppendUint16(b, uint16(len(tracks)))
	b = binary.BigEndian.AppendUint16(b, uint16(division))
	for _, t := range tracks {
		b = append(b, chunk("MTrk", t)...)
	}
	return b
}

// chunk returns a chunk of type typ holding data.
func chunk(typ string, data []byte) []byte {
	b := append([]byte(typ), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[4:], uint32(len(data)))
	return append(b, data...)
}

// ev returns an event: delta as a variable-length quantity, then bytes.
func ev(delta uint32, bytes ...byte) []byte { return append(appendVarint(nil, delta), bytes...) }

// cat joins events into a track's data.
func cat(events ...[]byte) []byte {
	var b []byte
	for _, e := range events {
		b = append(b, e...)
	}
	return b
}

// Common events.
var (
	eot = ev(0, 0xFF, 0x2F, 0x00)
)

// tempoEv returns a tempo event of us microseconds a quarter note.
func tempoEv(delta uint32, us int) []byte {
	return ev(delta, 0xFF, 0x51, 0x03, byte(us>>16), byte(us>>8), byte(us))
}
