package board

import (
	"embed"
	"io/fs"
)

// static holds the page: index.html, board.js, board.css, and the
// vendored uPlot (static/vendor/uplot, MIT licence). Nothing is fetched
// from elsewhere.
//
//go:embed static
var static embed.FS

// staticFS is static's folder.
var staticFS, _ = fs.Sub(static, "static")
