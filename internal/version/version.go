// Package version holds dlrun's version, recorded in every run folder.
package version

// Version is the dlrun release this code is.
const Version = "0.1.0"
