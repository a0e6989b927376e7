package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/pii"
)

func init() { extraCommands = append(extraCommands, newEvidenceCmd) }

type evidenceFlags struct {
	db, from, to, tz, caseID, customer, out, key string
	reveal                                       bool
}

func newEvidenceCmd(g *globals) *cobra.Command {
	var f evidenceFlags
	cmd := &cobra.Command{
		Use:   "evidence --db FILE|DSN (--from DATE --to DATE | --case ID | --customer ID) --out FILE.zip [--reveal]",
		Short: "Write a signed audit evidence bundle for a period, a case or a customer",
		Long: "Write one zip with the events in scope (CSV and Parquet), the KPI figures with their SQL,\n" +
			"the audit-chain segment, manifest.json (SHA-256 of every file, Merkle root over the events,\n" +
			"scope, as-of, tool version), its Ed25519 signature and a README for the reviewer.\n" +
			"The period is [--from, --to) in the reporting time zone, as for `closedloop kpi`.\n" +
			"The signing key is evidence.signing_key_file (default closedloop-signing.key; created\n" +
			"with a warning when missing), or --key. Customers appear as pseudonyms; --reveal adds\n" +
			"the list of customer ids in scope and is allowed only to the roles in\n" +
			"evidence.reveal_roles ($CLOSEDLOOP_ROLE names yours). Every export, and every refused\n" +
			"--reveal, is recorded in the audit log. Check a bundle with `closedloop verify`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runEvidence(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "store: DuckDB file path")
	fl.StringVar(&f.from, "from", "", "first day of the period (YYYY-MM-DD, inclusive)")
	fl.StringVar(&f.to, "to", "", "day after the period (YYYY-MM-DD, exclusive)")
	fl.StringVar(&f.tz, "tz", "", "time zone of the dates (IANA; default: report.timezone from config, else UTC)")
	fl.StringVar(&f.caseID, "case", "", "case id: the case's events, its customers' consent, its templates, the audit links naming it")
	fl.StringVar(&f.customer, "customer", "", "customer pseudonym (c_…) or phone number (pseudonymised with the configured key)")
	fl.StringVar(&f.out, "out", "", "bundle to write (FILE.zip)")
	fl.StringVar(&f.key, "key", "", "Ed25519 private key (default: evidence.signing_key_file from config)")
	fl.BoolVar(&f.reveal, "reveal", false, "add the customer ids in scope (roles in evidence.reveal_roles only; audited)")
	return cmd
}

func runEvidence(cmd *cobra.Command, g *globals, f evidenceFlags) error {
	ctx := cmd.Context()
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if f.out == "" {
		return usagef("--out FILE.zip is required")
	}
	n := 0
	for _, set := range []bool{f.from != "" || f.to != "", f.caseID != "", f.customer != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usagef("give exactly one scope: --from DATE --to DATE, --case ID or --customer ID")
	}
	var scope audit.Scope
	switch {
	case f.caseID != "":
		scope = audit.Scope{Kind: audit.ScopeCase, CaseID: strings.TrimSpace(f.caseID)}
	case f.customer != "":
		id, err := customerPseudonym(cfg, f.db, f.customer)
		if err != nil {
			return err
		}
		scope = audit.Scope{Kind: audit.ScopeCustomer, CustomerID: id}
	default:
		tz := f.tz
		if tz == "" {
			tz = cfg.Report.Timezone
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return usagef("--tz %q is not an IANA time zone", tz)
		}
		from, to, err := period(f.from, f.to, loc)
		if err != nil {
			return err
		}
		scope = audit.PeriodScope(from, to)
		scope.FromDate, scope.ToDate, scope.Timezone = f.from, f.to, tz
	}
	actor, role := auditIdentity()

	st, err := openStore(ctx, f.db, false)
	if err != nil {
		return err
	}
	defer st.Close()

	if f.reveal && !cfg.Evidence.MayReveal(role) {
		if err := audit.Append(ctx, st, actor, role, "evidence.reveal_denied", "evidence_bundle", filepath.Base(f.out),
			map[string]any{"scope": audit.ScopeTag(scope), "reason": "role not in evidence.reveal_roles"}); err != nil {
			return err
		}
		return &exitError{code: exitFailure, msg: fmt.Sprintf("--reveal refused: role %q may not reveal customer identifiers (evidence.reveal_roles: %s; $CLOSEDLOOP_ROLE names your role); the request was recorded in the audit log",
			role, strings.Join(cfg.Evidence.RevealRoles, ", "))}
	}
	if cfg.PII.KeepRaw && !f.reveal {
		return &exitError{code: exitFailure, msg: "this store keeps raw customer identifiers (pii.keep_raw: true), so a bundle would carry them: run with --reveal (roles in evidence.reveal_roles)"}
	}
	key, keyFile, err := signingKey(cfg, f.key, func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) })
	if err != nil {
		return err
	}

	dir := filepath.Dir(f.out)
	tmp, err := os.CreateTemp(dir, ".evidence-*.zip.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.out, err)
	}
	defer os.Remove(tmp.Name())
	res, err := audit.Export(ctx, st, tmp, audit.ExportOptions{Scope: scope, Key: key, Figures: kpiFigures{g: g, cfg: cfg}, Reveal: f.reveal,
		Actor: actor, Role: role, Output: filepath.Base(f.out)})
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.out); err != nil {
		return fmt.Errorf("writing %s: %w", f.out, err)
	}
	m := res.Manifest
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "wrote %s: %s\n", f.out, scope.String())
	for _, t := range m.Tables {
		fmt.Fprintf(w, "  %-17s %6d rows\n", t.Table, t.Rows)
	}
	fmt.Fprintf(w, "  %d events, Merkle root %s\n", m.Merkle.Leaves, m.Merkle.Root)
	fmt.Fprintf(w, "  audit-chain segment: %d links (%d in scope)\n", m.AuditChain.Links, m.AuditChain.InScope)
	if !m.KPIs.Available {
		fmt.Fprintln(w, "  KPI figures: not available (see kpis.json)")
	}
	fmt.Fprintf(w, "  signed with %s (public key sha256 %s) at %s\n", keyFile, m.Signature.PublicKeySHA256, m.SignedAt)
	fmt.Fprintf(w, "  recorded in the audit log as %s\n", res.Link.AuditID)
	fmt.Fprintf(w, "check it with: closedloop verify %s --pubkey %s.pub\n", f.out, keyFile)
	return nil
}

// signingKey reads --key, or evidence.signing_key_file; the default file
// is created (with its .pub) when missing, with a warning.
func signingKey(cfg *config.Config, flagKey string, warn func(string)) (ed25519.PrivateKey, string, error) {
	path := flagKey
	if path == "" {
		path = cfg.Evidence.SigningKeyFile
	}
	if path == "" {
		path = config.DefaultSigningKeyFile
	}
	k, err := audit.ReadPrivateKeyFile(path)
	if err == nil {
		return k, path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || flagKey != "" || path != config.DefaultSigningKeyFile {
		return nil, "", err
	}
	pub, err := audit.WriteKeyPair(path, false)
	if err != nil {
		return nil, "", fmt.Errorf("creating signing key %s: %w", path, err)
	}
	warn(fmt.Sprintf("warning: no signing key at %s; generated one (public key %s.pub, sha256 %s) — give the .pub file to reviewers so they can pin it", path, path, audit.KeyFingerprint(pub)))
	k, err = audit.ReadPrivateKeyFile(path)
	return k, path, err
}

// customerPseudonym accepts a pseudonym as is, or pseudonymises a phone
// number with the configured key (never creating one).
func customerPseudonym(cfg *config.Config, dsn, id string) (string, error) {
	n := pii.Normalise(id)
	if pii.IsPseudonym(n) || cfg.PII.KeepRaw {
		return n, nil
	}
	keyFile := cfg.PII.KeyFile
	if keyFile == "" {
		if strings.Contains(dsn, "://") {
			keyFile = "closedloop-pii.key"
		} else {
			keyFile = dsn + ".key"
		}
	}
	if os.Getenv(cfg.PII.KeyEnv) == "" {
		if _, err := os.Stat(keyFile); err != nil {
			return "", usagef("--customer %q is not a pseudonym (c_ + 32 hex) and there is no pseudonymisation key ($%s or %s) to make one", id, cfg.PII.KeyEnv, keyFile)
		}
	}
	ps, err := pseudonymiser(cfg, dsn, func(string) {})
	if err != nil {
		return "", err
	}
	return ps.Customer(n), nil
}
