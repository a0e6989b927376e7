package gen

// WhatsApp Cloud API webhook bodies, shaped like the published examples in
// testdata/real/whatsapp_cloud: object → entry[] → changes[] → value with
// messages[] (inbound) or statuses[] (delivery reports of outbound messages).

type metaBody struct {
	Object string      `json:"object"`
	Entry  []metaEntry `json:"entry"`
}

type metaEntry struct {
	ID      string       `json:"id"`
	Changes []metaChange `json:"changes"`
}

type metaChange struct {
	Value metaValue `json:"value"`
	Field string    `json:"field"`
}

type metaValue struct {
	MessagingProduct string        `json:"messaging_product"`
	Metadata         metaMetadata  `json:"metadata"`
	Contacts         []metaContact `json:"contacts,omitempty"`
	Messages         []metaMessage `json:"messages,omitempty"`
	Statuses         []metaStatus  `json:"statuses,omitempty"`
}

type metaMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type metaContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

type metaMessage struct {
	Context     *metaContext     `json:"context,omitempty"`
	From        string           `json:"from"`
	ID          string           `json:"id"`
	Timestamp   string           `json:"timestamp"`
	Type        string           `json:"type"`
	Text        *metaText        `json:"text,omitempty"`
	Image       *metaMedia       `json:"image,omitempty"`
	Document    *metaMedia       `json:"document,omitempty"`
	Interactive *metaInteractive `json:"interactive,omitempty"`
	Button      *metaButton      `json:"button,omitempty"`
}

type metaContext struct {
	From string `json:"from"`
	ID   string `json:"id"`
}

type metaText struct {
	Body string `json:"body"`
}

type metaMedia struct {
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	ID       string `json:"id"`
}

type metaInteractive struct {
	Type        string     `json:"type"`
	ButtonReply *metaReply `json:"button_reply,omitempty"`
	ListReply   *metaReply `json:"list_reply,omitempty"`
}

type metaReply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type metaButton struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

type metaStatus struct {
	ID           string            `json:"id"`
	Status       string            `json:"status"`
	Timestamp    string            `json:"timestamp"`
	RecipientID  string            `json:"recipient_id"`
	Conversation *metaConversation `json:"conversation,omitempty"`
	Pricing      *metaPricing      `json:"pricing,omitempty"`
	Errors       []metaError       `json:"errors,omitempty"`
}

type metaConversation struct {
	ID                  string `json:"id"`
	ExpirationTimestamp string `json:"expiration_timestamp,omitempty"`
	Origin              struct {
		Type string `json:"type"`
	} `json:"origin"`
}

type metaPricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Type         string `json:"type"`
	Category     string `json:"category"`
}

type metaError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	Href string `json:"href"`
}

const metaErrorHref = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

func newMetaError(e metaErrorSpec) metaError {
	me := metaError{Code: e.code, Title: e.title, Message: e.title, Href: metaErrorHref}
	me.ErrorData.Details = e.details
	return me
}

// metaItem is one inbound message or one status of a case, kept until the
// case is written so that items can be ordered, repeated and batched.
type metaItem struct {
	ts    int64 // when it happened
	order int64 // where it goes in the file (ts, or earlier for out-of-order delivery)
	seq   int   // creation order, for stable sorting
	msg   *metaMessage
	from  metaContact // the sender, for inbound messages
	st    *metaStatus
}

// metaValueFor wraps items (all inbound, or all statuses) of one business number.
func metaValueFor(q *queue, items []*metaItem) metaValue {
	v := metaValue{MessagingProduct: "whatsapp",
		Metadata: metaMetadata{DisplayPhoneNumber: q.display, PhoneNumberID: q.phoneID}}
	for _, it := range items {
		if it.msg != nil {
			v.Contacts = append(v.Contacts, it.from)
			v.Messages = append(v.Messages, *it.msg)
		} else {
			v.Statuses = append(v.Statuses, *it.st)
		}
	}
	return v
}

// metaBodyOf builds a webhook body: one change per group of items.
func metaBodyOf(q *queue, groups ...[]*metaItem) metaBody {
	e := metaEntry{ID: wabaID}
	for _, g := range groups {
		e.Changes = append(e.Changes, metaChange{Value: metaValueFor(q, g), Field: "messages"})
	}
	return metaBody{Object: "whatsapp_business_account", Entry: []metaEntry{e}}
}
