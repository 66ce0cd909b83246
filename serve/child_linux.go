package serve

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes a child server get SIGTERM when this process dies,
// even by SIGKILL, so no orphan keeps serving on a loopback port.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
