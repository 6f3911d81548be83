package synth

import (
	"math"
	"math/rand/v2"
)

// Shot describes one shot: what it shows and what happens in it.
type Shot struct {
	Source Source `json:"source"`
	Frames int    `json:"frames"`
	// Motion is the camera's: "static", "pan", "zoom" or "whip" (a pan
	// that races across the picture for a few frames: a hard negative).
	Motion string `json:"motion"`
	// The window's centre (fractions of the picture) and width (a
	// fraction of the picture's width) at the first and last frame.
	X0, Y0, S0 float64 `json:"-"`
	X1, Y1, S1 float64 `json:"-"`
	// WhipAt, WhipLen: the frames of a whip pan.
	WhipAt, WhipLen int `json:"-"`
	// Light: "" (steady), "drift" (gain moving slowly from Gain0 to
	// Gain1) or "switch" (jumping from Gain0 to Gain1 at SwitchAt: a light
	// switched, a hard negative).
	Light        string  `json:"light,omitempty"`
	Gain0, Gain1 float64 `json:"-"`
	SwitchAt     int     `json:"-"`
	// Noise is the standard deviation of per-pixel noise, 0 to 255.
	Noise float64 `json:"noise"`
	// Objects move across the frame; a Sweep object is large and fast (a
	// hard negative: something passing in front of the camera).
	Objects []Object `json:"objects,omitempty"`
	// Flashes are frames lit by a flash (hard negatives).
	Flashes []int `json:"flashes,omitempty"`
	// Skip is how many frames into a lavfi source the shot starts.
	Skip int `json:"-"`
}

// Object is a coloured disc or box moving in a straight line.
type Object struct {
	Box        bool       `json:"box"`
	Colour     [3]float32 `json:"-"`
	R          float64    `json:"-"` // radius, a fraction of the frame height
	X0, Y0     float64    `json:"-"` // start, fractions of the frame
	VX, VY     float64    `json:"-"` // per frame, fractions of the frame
	Sweep      bool       `json:"sweep"`
	Start, End int        `json:"-"` // frames it is on screen
}

// Negatives lists a shot's hard negatives as [kind, first frame, last
// frame] within the shot.
func (s *Shot) Negatives() []Span {
	var out []Span
	for _, f := range s.Flashes {
		out = append(out, Span{Kind: "flash", Start: f, End: f})
	}
	if s.Motion == "whip" {
		out = append(out, Span{Kind: "whip", Start: s.WhipAt, End: s.WhipAt + s.WhipLen - 1})
	}
	if s.Light == "switch" {
		out = append(out, Span{Kind: "light", Start: s.SwitchAt, End: s.SwitchAt})
	}
	for _, o := range s.Objects {
		if o.Sweep {
			out = append(out, Span{Kind: "sweep", Start: o.Start, End: o.End})
		}
	}
	return out
}

// Span is a labelled run of frames, [Start, End] inclusive.
type Span struct {
	Kind  string `json:"kind"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// planShot draws a shot of frames frames from src. hard is the chance of
// a hard negative in it.
func planShot(r *rand.Rand, src Source, frames int, hard float64) Shot {
	s := Shot{Source: src, Frames: frames, Motion: "static", Gain0: 1, Gain1: 1}
	s.S0 = 0.3 + 0.5*r.Float64()
	s.X0, s.Y0 = 0.25+0.5*r.Float64(), 0.25+0.5*r.Float64()
	s.X1, s.Y1, s.S1 = s.X0, s.Y0, s.S0
	switch m := r.Float64(); {
	case m < 0.35:
		s.Motion = "pan"
		d := 0.05 + 0.3*r.Float64()
		a := 2 * math.Pi * r.Float64()
		s.X1, s.Y1 = s.X0+d*math.Cos(a), s.Y0+d*math.Sin(a)*0.5
	case m < 0.6:
		s.Motion = "zoom"
		s.S1 = s.S0 * (0.5 + r.Float64())
	}
	if src.Kind == "lavfi" {
		s.Skip = r.IntN(100)
	}
	if r.Float64() < 0.3 {
		s.Light = "drift"
		s.Gain0, s.Gain1 = 0.6+0.6*r.Float64(), 0.6+0.6*r.Float64()
	}
	if r.Float64() < 0.6 {
		s.Noise = 2 + 8*r.Float64()
	}
	for n := r.IntN(3); n > 0; n-- {
		s.Objects = append(s.Objects, planObject(r, frames, false))
	}
	if r.Float64() < hard && frames >= 20 {
		at := 5 + r.IntN(frames-10)
		switch r.IntN(4) {
		case 0:
			s.Flashes = append(s.Flashes, at)
			if r.IntN(2) == 0 && at+1 < frames {
				s.Flashes = append(s.Flashes, at+1)
			}
		case 1:
			s.Motion = "whip"
			s.WhipAt, s.WhipLen = at, min(3+r.IntN(6), frames-at)
			s.X1, s.Y1, s.S1 = s.X0, s.Y0, s.S0
		case 2:
			s.Light = "switch"
			s.SwitchAt = at
			s.Gain0 = 0.9 + 0.3*r.Float64()
			s.Gain1 = s.Gain0 * (0.3 + 0.25*r.Float64())
			if r.IntN(2) == 0 {
				s.Gain0, s.Gain1 = s.Gain1, s.Gain0
			}
		case 3:
			o := planObject(r, frames, true)
			o.Start = at
			o.End = min(frames-1, at+4+r.IntN(8))
			s.Objects = append(s.Objects, o)
		}
	}
	return s
}

func planObject(r *rand.Rand, frames int, sweep bool) Object {
	o := Object{Box: r.IntN(2) == 0, End: frames - 1}
	for c := range o.Colour {
		o.Colour[c] = float32(255 * r.Float64())
	}
	o.R = 0.05 + 0.15*r.Float64()
	o.X0, o.Y0 = r.Float64(), r.Float64()
	v := 0.003 + 0.02*r.Float64()
	a := 2 * math.Pi * r.Float64()
	o.VX, o.VY = v*math.Cos(a), v*math.Sin(a)
	if sweep {
		o.Sweep = true
		o.R = 0.6 + 0.4*r.Float64()
		o.Y0 = 0.5
		o.X0 = -o.R
		o.VX, o.VY = 0.15+0.15*r.Float64(), 0
		if r.IntN(2) == 0 {
			o.X0, o.VX = 1+o.R, -o.VX
		}
	}
	return o
}

// render draws the shot's frames at w x h, 8-bit RGB, from base (a
// photograph) or anim (a lavfi source's frames).
func (s *Shot) render(r *rand.Rand, base *picture, anim []*picture, w, h int) [][]byte {
	frames := make([][]byte, s.Frames)
	buf := make([]float32, w*h*3)
	px := make([]float32, 3)
	acc := make([]float32, 3)
	for i := range frames {
		pic := base
		if anim != nil {
			pic = anim[min(s.Skip+i, len(anim)-1)]
		}
		t := 0.0
		if s.Frames > 1 {
			t = float64(i) / float64(s.Frames-1)
		}
		t = t * t * (3 - 2*t) // ease in and out, as a camera operator does
		cx, cy, sc := s.X0+(s.X1-s.X0)*t, s.Y0+(s.Y1-s.Y0)*t, s.S0+(s.S1-s.S0)*t
		sub := 1 // samples per pixel along the motion: motion blur
		dx := 0.0
		if s.Motion == "whip" && i >= s.WhipAt {
			k := min(i-s.WhipAt+1, s.WhipLen)
			dx = float64(k) * 0.12
			if i < s.WhipAt+s.WhipLen {
				sub = 6
			}
		}
		s.window(pic, buf, w, h, cx+dx, cy, sc, sub, px, acc)
		s.drawObjects(buf, w, h, i)
		gain := float32(s.gain(i))
		if containsInt(s.Flashes, i) {
			gain *= 1.8
			for j := range buf {
				buf[j] += 90
			}
		}
		out := make([]byte, len(buf))
		noise := float32(s.Noise)
		for j, v := range buf {
			v *= gain
			if noise > 0 {
				v += noise * gauss[r.Uint32()&(gaussN-1)]
			}
			out[j] = clamp8(v)
		}
		frames[i] = out
	}
	return frames
}

// gauss holds standard normal quantiles at evenly spaced probabilities:
// indexed by random bits, a cheap draw of Gaussian noise.
const gaussN = 1 << 14

var gauss = func() []float32 {
	g := make([]float32, gaussN)
	for i := range g {
		g[i] = float32(math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/gaussN-1))
	}
	return g
}()

// window samples the picture through a window centred at (cx, cy)
// (fractions, wrapping around) sc of the picture's width wide, with the
// frame's aspect; sub > 1 averages sub positions across a whip's travel.
func (s *Shot) window(p *picture, buf []float32, w, h int, cx, cy, sc float64, sub int, px, acc []float32) {
	ww := sc * float64(p.w)
	if p.w != 0 && s.Source.Kind == "lavfi" {
		ww = float64(p.w) * (0.5 + 0.5*sc)
	}
	wh := ww * float64(h) / float64(w)
	if wh > float64(p.h) {
		wh = float64(p.h)
		ww = wh * float64(w) / float64(h)
	}
	// Keep the window inside the picture (a pan that would leave it bounces).
	x0 := reflect01(cx)*(float64(p.w)-ww) + 0
	y0 := reflect01(cy) * (float64(p.h) - wh)
	step := ww / float64(w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			acc[0], acc[1], acc[2] = 0, 0, 0
			for k := 0; k < sub; k++ {
				off := 0.0
				if sub > 1 {
					off = float64(k) / float64(sub) * 0.12 * float64(p.w)
					ox := x0 + off + (float64(x)+0.5)*step
					ox = math.Mod(ox, float64(p.w)-1)
					p.sample(ox, y0+(float64(y)+0.5)*step, px)
				} else {
					p.sample(x0+(float64(x)+0.5)*step, y0+(float64(y)+0.5)*step, px)
				}
				acc[0] += px[0]
				acc[1] += px[1]
				acc[2] += px[2]
			}
			j := (y*w + x) * 3
			buf[j], buf[j+1], buf[j+2] = acc[0]/float32(sub), acc[1]/float32(sub), acc[2]/float32(sub)
		}
	}
}

// reflect01 folds a position into [0, 1], bouncing at the ends.
func reflect01(v float64) float64 {
	v = math.Mod(math.Abs(v), 2)
	if v > 1 {
		v = 2 - v
	}
	return v
}

func (s *Shot) gain(i int) float64 {
	switch s.Light {
	case "drift":
		return s.Gain0 + (s.Gain1-s.Gain0)*float64(i)/float64(max(1, s.Frames-1))
	case "switch":
		if i >= s.SwitchAt {
			return s.Gain1
		}
		return s.Gain0
	}
	return 1
}

func (s *Shot) drawObjects(buf []float32, w, h, i int) {
	for _, o := range s.Objects {
		if i < o.Start || i > o.End {
			continue
		}
		k := float64(i - o.Start)
		cx := (o.X0 + o.VX*k) * float64(w)
		cy := (o.Y0 + o.VY*k) * float64(h)
		if !o.Sweep {
			cx = reflect01(o.X0+o.VX*k) * float64(w)
			cy = reflect01(o.Y0+o.VY*k) * float64(h)
		}
		rad := o.R * float64(h)
		for y := max(0, int(cy-rad)); y < min(h, int(cy+rad)+1); y++ {
			for x := max(0, int(cx-rad)); x < min(w, int(cx+rad)+1); x++ {
				ddx, ddy := float64(x)+0.5-cx, float64(y)+0.5-cy
				if !o.Box && ddx*ddx+ddy*ddy > rad*rad {
					continue
				}
				j := (y*w + x) * 3
				buf[j], buf[j+1], buf[j+2] = o.Colour[0], o.Colour[1], o.Colour[2]
			}
		}
	}
}

func clamp8(v float32) byte {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v + 0.5)
}

func containsInt(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}
