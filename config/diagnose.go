package config

// Defaults of the diagnose section (issue 10: "which workflow to automate
// next, and is the pilot ready to scale").
const (
	DefaultMinRoutineShare  = 0.15
	DefaultPathCoverage     = 0.80
	DefaultMaxOutcomePaths  = 4 // fewer than 5
	DefaultMaxIdentitySteps = 2
	DefaultScaleGateMinWins = 3
	DefaultDiagnoseDays     = 30
)

// Diagnose holds the thresholds of `closedloop diagnose` (resolution fit
// of each workflow and case category) and of the pilot's scale gate
// (`closedloop compare`, the pack's pilot section).
type Diagnose struct {
	// Days is the window: cases opened in the last Days days before the
	// cutoff (default 30; --days overrides it).
	Days int `yaml:"days"`
	// MinRoutineShare: a good first candidate has at least this share of
	// all cases opened in the window (default 0.15).
	MinRoutineShare float64 `yaml:"min_routine_share"`
	// PathCoverage is the share of a candidate's cases its common outcome
	// paths must cover (default 0.80).
	PathCoverage float64 `yaml:"path_coverage"`
	// MaxOutcomePaths: a good candidate needs at most this many outcome
	// paths to cover PathCoverage of its cases (default 4, i.e. fewer than 5).
	MaxOutcomePaths int `yaml:"max_outcome_paths"`
	// MaxIdentitySteps: a good candidate needs at most this many identity
	// steps (median per completed case) before the action (default 2; 0 is
	// a valid choice: no identity check at all).
	MaxIdentitySteps *int `yaml:"max_identity_steps"`
	// ScaleGateMinWins: the pilot is ready to scale when it is
	// significantly better than the baseline on at least this many of
	// completion, time to resolution, writeback success, exception rate and
	// manual wrap-up, and significantly worse on none (default 3).
	ScaleGateMinWins int `yaml:"scale_gate_min_wins"`
}

func (d *Diagnose) applyDefaults() {
	if d.Days == 0 {
		d.Days = DefaultDiagnoseDays
	}
	if d.MinRoutineShare == 0 {
		d.MinRoutineShare = DefaultMinRoutineShare
	}
	if d.PathCoverage == 0 {
		d.PathCoverage = DefaultPathCoverage
	}
	if d.MaxOutcomePaths == 0 {
		d.MaxOutcomePaths = DefaultMaxOutcomePaths
	}
	if d.MaxIdentitySteps == nil {
		n := DefaultMaxIdentitySteps
		d.MaxIdentitySteps = &n
	}
	if d.ScaleGateMinWins == 0 {
		d.ScaleGateMinWins = DefaultScaleGateMinWins
	}
}

// IdentitySteps returns max_identity_steps or its default.
func (d Diagnose) IdentitySteps() int {
	if d.MaxIdentitySteps == nil {
		return DefaultMaxIdentitySteps
	}
	return *d.MaxIdentitySteps
}

// gateMeasures is how many measures the scale gate weighs.
const gateMeasures = 5

func (d Diagnose) validate(p *problems, path string) {
	if d.Days < 0 {
		p.add(path+".days", "must be a positive number of days")
	}
	if d.MinRoutineShare < 0 || d.MinRoutineShare > 1 {
		p.add(path+".min_routine_share", "must be a share between 0 and 1 (e.g. 0.15 for 15%%)")
	}
	if d.PathCoverage < 0 || d.PathCoverage > 1 {
		p.add(path+".path_coverage", "must be a share between 0 and 1 (e.g. 0.8 for 80%%)")
	}
	if d.MaxOutcomePaths < 0 {
		p.add(path+".max_outcome_paths", "must be at least 1")
	}
	if d.MaxIdentitySteps != nil && *d.MaxIdentitySteps < 0 {
		p.add(path+".max_identity_steps", "must be 0 or more")
	}
	if d.ScaleGateMinWins < 0 || d.ScaleGateMinWins > gateMeasures {
		p.add(path+".scale_gate_min_wins", "must be between 1 and %d (the measures the gate weighs)", gateMeasures)
	}
}
