package meta

// messageKind maps Meta's message `type` onto the canonical kind. Replies
// to buttons and lists (`button` from template quick replies,
// `interactive` from interactive messages) are interactive; every kind of
// attachment is media; the rest (location, contacts, reaction, order,
// system, unsupported, and types Meta adds later) is other, so a new type
// never rejects a body.
func messageKind(t string) string {
	switch t {
	case "text":
		return "text"
	case "button", "interactive":
		return "interactive"
	case "image", "document", "audio", "video", "sticker":
		return "media"
	}
	return "other"
}

// statusName maps Meta's status onto the canonical one. "played" (a voice
// message was listened to) implies it was read. Other values ("deleted",
// "warning", future ones) are not delivery states; ok is false for them.
func statusName(s string) (name string, ok bool) {
	switch s {
	case "sent", "delivered", "read", "failed":
		return s, true
	case "played":
		return "read", true
	}
	return "", false
}
