package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
)

func init() { extraCommands = append(extraCommands, newKeygenCmd) }

func newKeygenCmd(g *globals) *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen --out KEYFILE",
		Short: "Make an Ed25519 key pair for signing evidence bundles",
		Long: "Write an Ed25519 private key to KEYFILE (PKCS#8 PEM, mode 0600) and its public key to\n" +
			"KEYFILE.pub (SubjectPublicKeyInfo PEM). Both are standard: openssl pkey -in KEYFILE -text.\n" +
			"Point evidence.signing_key_file at KEYFILE and give KEYFILE.pub to reviewers, who pin it\n" +
			"with closedloop verify --pubkey. Existing files are kept unless --force.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out KEYFILE is required")
			}
			pub, err := audit.WriteKeyPair(out, force)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s (private key, PKCS#8 PEM, mode 0600) and %s.pub (public key, PEM)\n", out, out)
			fmt.Fprintf(w, "public key sha256: %s\n", audit.KeyFingerprint(pub))
			fmt.Fprintf(w, "sign with it: evidence.signing_key_file: %s (or closedloop evidence --key %s)\n", out, out)
			fmt.Fprintf(w, "reviewers pin it: closedloop verify BUNDLE.zip --pubkey %s.pub\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "private key file to write (the public key goes to KEYFILE.pub)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing key pair")
	return cmd
}
