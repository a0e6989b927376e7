package main

import (
	"crypto/ed25519"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
)

func init() { extraCommands = append(extraCommands, newVerifyCmd) }

func newVerifyCmd(g *globals) *cobra.Command {
	var pubkey, event string
	cmd := &cobra.Command{
		Use:   "verify FILE.zip [--pubkey KEYFILE] [--event ID]",
		Short: "Check an evidence bundle offline and name what was altered, missing or added",
		Long: "Check an evidence bundle without the store: the Ed25519 signature of manifest.json,\n" +
			"the SHA-256 of every file, files missing or added, every event row against its signed\n" +
			"Merkle leaf, the Merkle root recomputed from the CSV rows, the audit-chain segment and\n" +
			"the KPI SQL digests. --pubkey pins the signing key (otherwise the bundle's own\n" +
			"signing_key.pub is used, which proves integrity but not who signed). --event ID\n" +
			"(or TABLE/ID) prints that event's inclusion proof: its path to the Merkle root.\n" +
			"Exit code 1 on any problem.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pin ed25519.PublicKey
			if pubkey != "" {
				k, err := audit.ReadPublicKeyFile(pubkey)
				if err != nil {
					return err
				}
				pin = k
			}
			res, err := audit.VerifyBundleFile(args[0], audit.VerifyOptions{PublicKey: pin, EventID: event})
			if err != nil {
				return &exitError{code: exitFailure, msg: err.Error()}
			}
			res.WriteReport(cmd.OutOrStdout(), args[0])
			if !res.Intact() {
				return &exitError{code: exitFailure}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "public key to pin (PEM from closedloop keygen, or 64 hex characters)")
	cmd.Flags().StringVar(&event, "event", "", "print the inclusion proof of this event (event_id or TABLE/event_id)")
	return cmd
}
