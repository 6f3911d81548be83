package music

import (
	"encoding/binary"
	"fmt"
)

// The framing check. gomidi's reader (v1.11.1) trusts a file's framing: it
// reserves whatever length a meta or system-exclusive event claims (up to
// 4 GiB) before reading it, reads a track that lacks its end-of-track
// event on into the next chunk, and panics on some malformed events (an
// empty system-exclusive event, a data byte where a status byte belongs).
// So frame walks the chunks and events first, checking every length
// against the bytes that hold it and against the limits, and hands gomidi
// a checked copy that holds only what Read decodes: note-on and note-off
// events with their status bytes written out, tempo and time-signature
// events, and an end-of-track event closing every track.

// smfHeader is what a file's MThd chunk says.
type smfHeader struct {
	format   int // 0 or 1
	tracks   int // MTrk chunks declared
	division int // ticks a quarter note
}

// framer walks one file.
type framer struct {
	name   string
	b      []byte
	out    []byte
	events int
}

// fail returns an ErrMalformed error naming the file, the byte offset at
// and what is wrong.
func (f *framer) fail(at int, format string, args ...any) error {
	return fmt.Errorf("%s: %w at byte %d: %s", f.name, ErrMalformed, at, fmt.Sprintf(format, args...))
}

// frame checks the file b, named name, and returns its header and the
// checked copy for gomidi.
func frame(name string, b []byte) (smfHeader, []byte, error) {
	f := &framer{name: name, b: b}
	var h smfHeader
	if len(b) < 14 || string(b[:4]) != "MThd" {
		return h, nil, fmt.Errorf("%s: %w: not a Standard MIDI File (it does not start with an MThd header)", name, ErrMalformed)
	}
	hl := int(binary.BigEndian.Uint32(b[4:8]))
	if hl < 6 || hl > len(b)-8 {
		return h, nil, f.fail(4, "header chunk of %d bytes (want 6, within the file's %d)", hl, len(b))
	}
	format := int(binary.BigEndian.Uint16(b[8:10]))
	h.tracks = int(binary.BigEndian.Uint16(b[10:12]))
	division := binary.BigEndian.Uint16(b[12:14])
	switch {
	case format == 2:
		return h, nil, fmt.Errorf("%s: %w: type 2 (independent patterns); dlrun reads types 0 and 1", name, ErrUnsupported)
	case format > 2:
		return h, nil, f.fail(8, "format %d (want 0 or 1)", format)
	case h.tracks == 0:
		return h, nil, f.fail(10, "the header declares no tracks")
	case h.tracks > MaxTracks:
		return h, nil, fmt.Errorf("%s: declares %d tracks, more than the %d a file may hold (MaxTracks): %w", name, h.tracks, MaxTracks, ErrTooLarge)
	case division&0x8000 != 0:
		return h, nil, fmt.Errorf("%s: %w: timed in SMPTE frames, not beats, so its notes have no place on a beat grid", name, ErrUnsupported)
	case division == 0:
		return h, nil, f.fail(12, "zero ticks a quarter note")
	}
	h.format, h.division = format, int(division)

	f.out = make([]byte, 0, 14+len(b)+len(b)/3)
	f.out = append(f.out, "MThd\x00\x00\x00\x06\x00\x01"...)
	f.out = binary.BigEndian.AppendUint16(f.out, uint16(h.tracks))
	f.out = binary.BigEndian.AppendUint16(f.out, division)
	at, track := 8+hl, 0
	for track < h.tracks {
		if len(b)-at < 8 {
			return h, nil, f.fail(at, "the header declares %d tracks, the file ends after %d", h.tracks, track)
		}
		n := int(binary.BigEndian.Uint32(b[at+4 : at+8]))
		if n > len(b)-at-8 {
			return h, nil, f.fail(at, "a chunk of %d bytes, but only %d remain (truncated?)", n, len(b)-at-8)
		}
		if string(b[at:at+4]) == "MTrk" {
			track++
			if err := f.track(track, at+8, at+8+n); err != nil {
				return h, nil, err
			}
		}
		at += 8 + n
	}
	return h, f.out, nil
}

// track checks the events of track number track, b[from:to], and appends
// its checked copy to f.out.
func (f *framer) track(track, from, to int) error {
	f.out = append(f.out, "MTrk\x00\x00\x00\x00"...)
	head := len(f.out)
	var delta uint64 // ticks since the last event copied
	var running byte // the running status: the last channel status byte
	emit := func(ev ...byte) {
		for delta > maxDelta { // a delta too long for 4 bytes: carry it on empty text events
			f.out = appendVarint(f.out, maxDelta)
			f.out = append(f.out, 0xFF, 0x01, 0x00)
			delta -= maxDelta
		}
		f.out = appendVarint(f.out, uint32(delta))
		f.out = append(f.out, ev...)
		delta = 0
	}
	at := from
	for at < to {
		start := at
		if f.events++; f.events > MaxEvents {
			return fmt.Errorf("%s: more than the %d events a file may hold (MaxEvents): %w", f.name, MaxEvents, ErrTooLarge)
		}
		d, err := f.varint(&at, to, track, "delta time")
		if err != nil {
			return err
		}
		delta += uint64(d)
		if at == to {
			return f.fail(start, "track %d ends inside an event", track)
		}
		status := f.b[at]
		switch {
		case status == 0xFF: // meta event
			if to-at < 2 {
				return f.fail(at, "track %d ends inside a meta event", track)
			}
			typ := f.b[at+1]
			at += 2
			n, err := f.varint(&at, to, track, "meta event length")
			if err != nil {
				return err
			}
			if int(n) > to-at {
				return f.fail(start, "track %d: a meta event of %d bytes, but only %d remain in the track", track, n, to-at)
			}
			data := f.b[at : at+int(n)]
			at += int(n)
			switch typ {
			case 0x2F: // end of track: what follows in the chunk is not read
				emit(0xFF, 0x2F, 0x00)
				f.close(head)
				return nil
			case 0x51:
				if n != 3 {
					return f.fail(start, "track %d: a tempo event of %d bytes (want 3)", track, n)
				}
				if data[0]|data[1]|data[2] == 0 {
					return f.fail(start, "track %d: a tempo of 0 microseconds a quarter note", track)
				}
				emit(0xFF, 0x51, 0x03, data[0], data[1], data[2])
			case 0x58:
				if n != 4 {
					return f.fail(start, "track %d: a time signature event of %d bytes (want 4)", track, n)
				}
				if data[0] == 0 || data[1] > 6 {
					return f.fail(start, "track %d: time signature %d/2^%d (want 1 to 255 beats of a whole to a 64th note)", track, data[0], data[1])
				}
				emit(0xFF, 0x58, 0x04, data[0], data[1], data[2], data[3])
			}
		case status == 0xF0 || status == 0xF7: // system exclusive: skipped
			at++
			n, err := f.varint(&at, to, track, "system-exclusive length")
			if err != nil {
				return err
			}
			if int(n) > to-at {
				return f.fail(start, "track %d: a system-exclusive event of %d bytes, but only %d remain in the track", track, n, to-at)
			}
			at += int(n)
		case status > 0xF0:
			return f.fail(at, "track %d: status byte 0x%02X, which a MIDI file may not hold", track, status)
		default: // a channel message, its status given or running
			if status >= 0x80 {
				running = status
				at++
			} else if running == 0 {
				return f.fail(at, "track %d: data byte 0x%02X where a status byte belongs (no running status)", track, status)
			}
			size := 2
			if kind := running & 0xF0; kind == 0xC0 || kind == 0xD0 {
				size = 1
			}
			if to-at < size {
				return f.fail(start, "track %d ends inside a channel message", track)
			}
			for i := 0; i < size; i++ {
				if f.b[at+i] >= 0x80 {
					return f.fail(at+i, "track %d: byte 0x%02X where a data byte belongs (channel message 0x%02X)", track, f.b[at+i], running)
				}
			}
			if kind := running & 0xF0; kind == 0x80 || kind == 0x90 {
				emit(running, f.b[at], f.b[at+1])
			}
			at += size
		}
	}
	emit(0xFF, 0x2F, 0x00) // a track without its end-of-track event ends with its chunk
	f.close(head)
	return nil
}

// close writes the length of the track chunk whose events start at
// f.out[head].
func (f *framer) close(head int) {
	binary.BigEndian.PutUint32(f.out[head-4:head], uint32(len(f.out)-head))
}

// maxDelta is the largest variable-length quantity of four bytes.
const maxDelta = 1<<28 - 1

// varint reads a variable-length quantity (at most four bytes, as the
// format allows) at *at, before to, and moves *at past it.
func (f *framer) varint(at *int, to, track int, what string) (uint32, error) {
	var v uint32
	for i := 0; i < 4; i++ {
		if *at == to {
			return 0, f.fail(*at, "track %d ends inside a %s", track, what)
		}
		c := f.b[*at]
		*at++
		v = v<<7 | uint32(c&0x7F)
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, f.fail(*at-4, "track %d: a %s longer than 4 bytes", track, what)
}

// appendVarint appends v (at most maxDelta) as a variable-length quantity.
func appendVarint(b []byte, v uint32) []byte {
	var tmp [4]byte
	i := 3
	tmp[i] = byte(v & 0x7F)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7F) | 0x80
	}
	return append(b, tmp[i:]...)
}
