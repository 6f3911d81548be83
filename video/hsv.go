package video

import "math"

// OpenCV's 8-bit RGB to HSV conversion (cv2.cvtColor with COLOR_BGR2HSV,
// imgproc/src/color_hsv.simd.hpp, RGB2HSV_b), which PySceneDetect's
// ContentDetector uses: hue in [0, 180], saturation and value in
// [0, 255], computed with 12-bit fixed-point reciprocal tables so that
// every pixel comes out as OpenCV's does.
const hsvShift = 12

var sdivTable, hdivTable [256]int32

func init() {
	for i := 1; i < 256; i++ {
		// saturate_cast<int>(double) rounds half to even (cvRound); no
		// entry here lies on a half.
		sdivTable[i] = int32(math.RoundToEven(float64(255<<hsvShift) / float64(i)))
		hdivTable[i] = int32(math.RoundToEven(float64(180<<hsvShift) / (6 * float64(i))))
	}
}

// hsvPixel converts one RGB pixel as OpenCV does.
func hsvPixel(r, g, b int32) (h, s, v uint8) {
	vv := max(r, g, b)
	vmin := min(r, g, b)
	diff := vv - vmin
	ss := (diff*sdivTable[vv] + 1<<(hsvShift-1)) >> hsvShift
	var hh int32
	switch {
	case vv == r:
		hh = g - b
	case vv == g:
		hh = b - r + 2*diff
	default:
		hh = r - g + 4*diff
	}
	hh = (hh*hdivTable[diff] + 1<<(hsvShift-1)) >> hsvShift
	if hh < 0 {
		hh += 180
	}
	return uint8(hh), uint8(ss), uint8(vv)
}

// toHSV converts packed RGB pixels into three planes.
func toHSV(rgb []byte, h, s, v []uint8) {
	for i, j := 0, 0; j+2 < len(rgb); i, j = i+1, j+3 {
		h[i], s[i], v[i] = hsvPixel(int32(rgb[j]), int32(rgb[j+1]), int32(rgb[j+2]))
	}
}
