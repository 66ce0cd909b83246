//go:build !linux

package serve

import "os/exec"

// dieWithParent has no portable form outside Linux.
func dieWithParent(*exec.Cmd) {}
