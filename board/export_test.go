package board

// SetMaxCurvesBytes sets the most bytes of curves one answer may hold
// until the returned restore is called.
func SetMaxCurvesBytes(n int) (restore func()) {
	old := maxCurvesBytes
	maxCurvesBytes = n
	return func() { maxCurvesBytes = old }
}
