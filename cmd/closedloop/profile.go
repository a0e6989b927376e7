package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"

	"github.com/spf13/cobra"
)

// addProfileFlags registers the hidden --cpuprofile and --memprofile flags
// (bench/run uses them; so can anyone chasing a slow command). The CPU
// profile starts in the root's PersistentPreRunE, once the flags are
// parsed, and both profiles are written when the command ends, whether it
// succeeded or not (a cobra finalizer).
func addProfileFlags(root *cobra.Command) {
	var cpuFile, memFile string
	f := root.PersistentFlags()
	f.StringVar(&cpuFile, "cpuprofile", "", "write a CPU profile (pprof) of the command to FILE")
	f.StringVar(&memFile, "memprofile", "", "write a heap profile (pprof) to FILE when the command ends")
	_ = f.MarkHidden("cpuprofile")
	_ = f.MarkHidden("memprofile")
	prev := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := startProfiles(cpuFile, memFile); err != nil {
			return err
		}
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
	finalizeOnce.Do(func() { cobra.OnFinalize(stopProfiles) })
}

var (
	finalizeOnce sync.Once
	profMu       sync.Mutex
	profCPU      *os.File
	profMem      string
)

func startProfiles(cpuFile, memFile string) error {
	profMu.Lock()
	defer profMu.Unlock()
	profMem = memFile
	if cpuFile == "" || profCPU != nil {
		return nil
	}
	w, err := os.Create(cpuFile)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(w); err != nil {
		w.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	profCPU = w
	return nil
}

func stopProfiles() {
	profMu.Lock()
	defer profMu.Unlock()
	if profCPU != nil {
		pprof.StopCPUProfile()
		profCPU.Close()
		profCPU = nil
	}
	if profMem != "" {
		if w, err := os.Create(profMem); err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(w)
			w.Close()
		} else {
			fmt.Fprintln(os.Stderr, "closedloop: --memprofile:", err)
		}
		profMem = ""
	}
}
