package chtest

import "syscall"

// procAttr puts the server in its own process group and has the kernel kill
// it if the test binary dies (a timeout panic), so no server outlives a run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
