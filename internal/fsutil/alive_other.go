//go:build !unix

package fsutil

// alive cannot tell on this system, so every temporary file is kept.
func alive(int) bool { return true }
