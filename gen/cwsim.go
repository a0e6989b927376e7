package gen

// Chatwoot side of a conversation case: every change of the conversation
// is applied to the live state and a snapshot is recorded as the webhook
// Chatwoot would post at that moment.

func (s *caseSim) openConversation(t int64, status string) {
	s.convSeq++
	s.conv = &cwConv{id: 1000 + s.convSeq, q: s.q, cust: s.cust, status: status,
		attrs:   cwAttrs{Queue: s.q.name, Category: s.cat.name},
		created: t, lastActivity: t, updated: t, waitingSince: t}
	// The contact_inbox dates from the customer's first contact with this
	// inbox, some time before the period; it is the same in every
	// conversation of the customer.
	h := splitmix64(uint64(s.seed) ^ uint64(s.cust.contactInboxID(s.q)))
	s.conv.ciCreated = isoMs(s.start - int64(h%(400*uint64(day))))
	s.cwConvEvent(t, "conversation_created", nil)
}

func (s *caseSim) cwConvEvent(t int64, event string, changes []map[string]cwChange) {
	s.conv.updated = t
	s.emitChatwoot(t, event, cwConvEvent{cwConversation: s.conv.snapshot(), Event: event, ChangedAttributes: changes})
}

func (s *caseSim) emitChatwoot(t int64, event string, v any) {
	s.out.add(&s.out.chatwoot, t, s.enc.line(v))
	if t < s.end {
		s.counts["chatwoot."+event]++
	}
	s.touch(t)
}

// setStatus changes the conversation status with the changed_attributes
// newer Chatwoot versions send.
func (s *caseSim) setStatus(t int64, status string) {
	prev := s.conv.status
	s.conv.status = status
	if status == "resolved" {
		s.conv.waitingSince = 0
	}
	s.cwConvEvent(t, "conversation_status_changed",
		[]map[string]cwChange{{"status": {PreviousValue: prev, CurrentValue: status}}})
}

// setLabels applies closure labels (conversation_updated), as an agent or
// the bot does just before resolving.
func (s *caseSim) setLabels(t int64, labels []string) {
	prev := s.conv.labels
	if prev == nil {
		prev = []string{}
	}
	s.conv.labels = labels
	s.cwConvEvent(t, "conversation_updated",
		[]map[string]cwChange{{"label_list": {PreviousValue: prev, CurrentValue: labels}}})
}

// assign gives the conversation to an agent (conversation_updated).
func (s *caseSim) assign(t int64, agent int) {
	a := s.assignee(agent)
	var prev any
	if s.conv.assignee != nil {
		prev = s.conv.assignee.ID
	}
	s.conv.assignee = &a
	s.cwConvEvent(t, "conversation_updated",
		[]map[string]cwChange{{"assignee_id": {PreviousValue: prev, CurrentValue: a.ID}}})
}

func (s *caseSim) assignee(agent int) cwAssignee {
	name := s.q.agents[agent]
	return cwAssignee{ID: agentID(s.q, agent), Name: name, AvailableName: name,
		AvatarURL: "", Type: "user", AvailabilityStatus: "online"}
}

func (s *caseSim) agentUser(agent int) cwUser {
	name := s.q.agents[agent]
	return cwUser{ID: agentID(s.q, agent), Name: name, Email: agentEmail(name), Type: "user"}
}

// cwIncoming records message_created for a customer message.
func (s *caseSim) cwIncoming(t int64, in inbound, id string) {
	var att []cwAttachment
	switch in.typ {
	case "image":
		att = []cwAttachment{s.attachment("image", "jpg")}
	case "document":
		att = []cwAttachment{s.attachment("file", "pdf")}
	}
	s.conv.unread++
	s.conv.contactSeen = t
	if s.conv.waitingSince == 0 {
		s.conv.waitingSince = t
	}
	c := s.conv.contact()
	s.cwMessage(t, cwIncoming, c, "Contact", c.ID, in.text, "text", id, att)
}

func (s *caseSim) attachment(fileType, ext string) cwAttachment {
	id := int(s.r.Int64N(9_000_000)) + 1_000_000
	return cwAttachment{ID: id, FileType: fileType, AccountID: accountID, Extension: ext,
		DataURL:  "https://chat.northwind.example/rails/active_storage/blobs/redirect/" + hexID(s.r, 24) + "/upload." + ext,
		FileSize: int(s.r.Int64N(900_000)) + 40_000}
}

// cwOutgoing records message_created for a bot or agent reply; source_id is
// the wamid WhatsApp gave the message.
func (s *caseSim) cwOutgoing(t int64, sender cwUser, senderType string, content, contentType, id string) {
	if s.conv.firstReply == nil {
		f := isoMs(t)
		s.conv.firstReply = &f
	}
	s.conv.unread = 0
	s.conv.agentSeen = t
	s.conv.waitingSince = 0
	s.cwMessage(t, cwOutgoing, sender, senderType, sender.ID, content, contentType, id, nil)
}

func (s *caseSim) cwMessage(t int64, mtype int, sender any, senderType string, senderID int, content, contentType, sourceID string, att []cwAttachment) {
	s.cwMsgSeq++
	src := sourceID
	pm := &cwPushMessage{ID: s.cwMsgSeq, Content: content, AccountID: accountID, InboxID: s.q.inboxID,
		ConversationID: s.conv.id, MessageType: mtype, CreatedAt: t / 1000, UpdatedAt: isoMs(t),
		Status: "sent", SourceID: &src, ContentType: contentType, SenderType: senderType, SenderID: senderID}
	s.conv.last = pm
	s.conv.lastActivity = t
	s.conv.updated = t
	for i := range att {
		att[i].MessageID = pm.ID
	}
	ev := cwMessageEvent{ID: pm.ID, Content: content, CreatedAt: isoMs(t), MessageType: cwMessageTypeName(mtype),
		ContentType: contentType, SourceID: &src, Sender: sender, Inbox: s.conv.inboxRef(),
		Conversation: s.conv.snapshot(), Account: cwRef{ID: accountID, Name: accountName},
		Attachments: att, Event: "message_created"}
	s.emitChatwoot(t, "message_created", ev)
}

func cwMessageTypeName(t int) string {
	if t == cwIncoming {
		return "incoming"
	}
	return "outgoing"
}

// typing records an agent's typing indicator (noise for closedloop).
func (s *caseSim) typing(t int64, agent int, on bool) {
	ev := "conversation_typing_off"
	if on {
		ev = "conversation_typing_on"
	}
	s.emitChatwoot(t, ev, cwTypingEvent{Event: ev, User: s.agentUser(agent), Conversation: s.conv.snapshot()})
}

// widgetNoise records a webwidget_triggered from the website inbox, which
// has nothing to do with WhatsApp (closedloop skips it).
func (s *caseSim) widgetNoise(t int64) {
	var ev cwWidgetEvent
	ev.ID = 900000 + int(s.r.Int64N(100000))
	ev.Contact = cwUser{ID: 800000 + int(s.r.Int64N(100000)), Name: "visitor-" + hexID(s.r, 6), Type: "contact"}
	ev.Inbox = cwRef{ID: 9, Name: "website"}
	ev.Account = cwRef{ID: accountID, Name: accountName}
	ev.SourceID = hexID(s.r, 8) + "-" + hexID(s.r, 4) + "-" + hexID(s.r, 4) + "-" + hexID(s.r, 4) + "-" + hexID(s.r, 12)
	ev.Event = "webwidget_triggered"
	ev.EventInfo.WidgetLanguage = "en"
	ev.EventInfo.BrowserLanguage = pick(s.r, []string{"en", "es", "en-GB", "zh"})
	ev.EventInfo.Browser.BrowserName = pick(s.r, []string{"Chrome", "Safari", "Firefox", "Edge"})
	ev.EventInfo.Browser.BrowserVersion = "124.0"
	ev.EventInfo.Browser.DeviceName = "Unknown"
	ev.EventInfo.Browser.PlatformName = pick(s.r, []string{"macOS", "Windows", "iOS", "Android"})
	ev.EventInfo.Browser.PlatformVersion = "14"
	s.out.add(&s.out.chatwoot, t, s.enc.line(ev))
	if t < s.end {
		s.counts["chatwoot.webwidget_triggered"]++
	}
}
