// Command closedloop is the command line of the closedloop pipeline:
// ingest WhatsApp service events, compute KPIs, write packs and evidence.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	err := newRootCmd().Execute()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "closedloop:", ee.msg)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "closedloop:", err)
	if isUsage(err) {
		os.Exit(2)
	}
	os.Exit(1)
}
