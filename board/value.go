package board

import (
	"math"
	"strconv"
)

// Value is a number that may be unknown (NaN): JSON writes an unknown or
// infinite value as null.
type Value float64

// Unknown is the Value of a figure the run folder does not give.
var Unknown = Value(math.NaN())

// Known reports whether v is a number.
func (v Value) Known() bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// MarshalJSON writes v as a JSON number, or null if it is not known.
func (v Value) MarshalJSON() ([]byte, error) { return appendNumber(nil, float64(v)), nil }

// appendNumber appends x to b as a JSON number in the shortest form that
// reads back the same, or null for NaN and the infinities.
func appendNumber(b []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, x, 'g', -1, 64)
}
