package canonical

// Allowed values of the enumerated fields (SPEC §2), in the order error
// messages list them.
var (
	directions     = []string{"inbound", "outbound"}
	senderTypes    = []string{"customer", "bot", "agent", "system"}
	messageKinds   = []string{"text", "template", "interactive", "media", "other"}
	channels       = []string{"whatsapp", "sms", "email"}
	caseEventKinds = []string{"opened", "handover", "completed", "resolved", "reopened"}
	writebackStats = []string{"success", "failed"}
	consentStats   = []string{"opt_in", "opt_out"}
	templateStats  = []string{"approved", "rejected", "paused", "disabled"}
	actionSteps    = []string{"link_opened", "identity_validated", "identity_failed", "action_started", "action_submitted"}
)

// defaultChannel is the channel of rows that do not name one.
const defaultChannel = "whatsapp"
