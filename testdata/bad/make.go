//go:build ignore

// make.go writes the bad-input corpus next to it: go run testdata/bad/make.go
// (from the repository root). The files are committed; README.md says what
// each one probes and what ingest must do with it, and
// ingest/badinput_test.go checks exactly that.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

const dir = "testdata/bad"

// Good lines, one per source, that every file may mix with its bad part.
const (
	goodCase1 = `{"case_id":"bad-c1","customer_id":"447700900101","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"support"}`
	goodCase2 = `{"case_id":"bad-c1","customer_id":"447700900101","event":"resolved","ts":"2026-03-02T10:00:00Z","queue":"support"}`
	goodCase3 = `{"case_id":"bad-c2","customer_id":"+44 7700 900102","event":"opened","ts":1772442000,"queue":"support"}`
)

// metaBody is a one-message Meta webhook with the message's fields.
func metaBody(object, message string) string {
	return `{"object":"` + object + `","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15550001111","phone_number_id":"106540352242904"},` +
		`"contacts":[{"profile":{"name":"Test Name"},"wa_id":"447700900201"}],"messages":[` + message + `]},"field":"messages"}]}]}`
}

func metaMsg(id, from, ts string) string {
	return `{"from":"` + from + `","id":"` + id + `","timestamp":"` + ts + `","text":{"body":"hello"},"type":"text"}`
}

func metaStatusBody(status string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15550001111","phone_number_id":"106540352242904"},"statuses":[` + status + `]},"field":"messages"}]}]}`
}

// chatwootMsg is a Chatwoot message_created body.
func chatwootMsg(event, convID, createdAt, phone string) string {
	return `{"event":"` + event + `","id":501,"content":"hi","created_at":"` + createdAt + `","message_type":"incoming","content_type":"text",` +
		`"private":false,"source_id":"wamid.bad501","sender":{"id":14,"name":"Jane","phone_number":"` + phone + `","type":"contact"},` +
		`"inbox":{"id":3,"name":"support"},"conversation":{"id":` + convID + `,"inbox_id":3,"status":"open",` +
		`"meta":{"sender":{"id":14,"phone_number":"` + phone + `","type":"contact"}},"custom_attributes":{"queue":"support"},` +
		`"created_at":1772442000,"updated_at":1772442000,"timestamp":1772442000},"account":{"id":1,"name":"Acme"}}`
}

func lines(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// gzRepeat compresses n copies of unit without holding them in memory.
func gzRepeat(unit []byte, n int) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	for i := 0; i < n; i++ {
		w.Write(unit)
	}
	w.Close()
	return buf.Bytes()
}

func main() {
	files := map[string][]byte{}
	add := func(name string, b []byte) {
		if _, dup := files[name]; dup {
			panic("duplicate " + name)
		}
		files[name] = b
	}
	rng := rand.New(rand.NewPCG(12, 34))

	// --- JSON syntax ---
	add("01_truncated_line.jsonl", lines(goodCase1, `{"case_id":"bad-c1","event":"handover","ts":"2026-03-02T09:0`, goodCase2))
	add("02_truncated_whole.json", []byte(metaBody("whatsapp_business_account", metaMsg("wamid.bad02", "447700900202", "1772442000"))[:180]))
	add("03_truncated_array.json", []byte("[\n"+goodCase1+",\n"+goodCase2+",\n"+goodCase3[:40]))
	add("04_trailing_garbage.jsonl", lines(goodCase1, goodCase2+` xyz`, goodCase3))
	add("05_unquoted_keys.jsonl", lines(goodCase1, `{case_id:"bad-c5",event:"opened",ts:"2026-03-02T09:00:00Z"}`, goodCase2))
	add("06_single_quotes.jsonl", lines(goodCase1, `{'case_id':'bad-c6','event':'opened','ts':'2026-03-02T09:00:00Z'}`, goodCase2))
	add("07_nan_infinity.jsonl", lines(goodCase1,
		`{"writeback_id":"wb-7","case_id":"bad-c1","attempt":NaN,"status":"success","ts":"2026-03-02T09:00:00Z"}`,
		`{"writeback_id":"wb-8","case_id":"bad-c1","attempt":Infinity,"status":"success","ts":"2026-03-02T09:00:00Z"}`, goodCase2))
	add("08_comment_lines.jsonl", lines(goodCase1, `// a comment`, `# another`, goodCase2))
	add("09_commented_whole.json", []byte("{\n  // Meta's docs annotate bodies like this\n  \"object\": \"whatsapp_business_account\",\n  \"entry\": []\n}\n"))
	add("10_two_docs_one_line.jsonl", lines(goodCase1, goodCase2+goodCase3))
	add("11_unclosed_string.jsonl", lines(goodCase1, `{"case_id":"bad-c11,"event":"opened","ts":"2026-03-02T09:00:00Z"}`, goodCase2))

	// --- wrong types ---
	add("12_meta_timestamp_bool.json", []byte(metaBody("whatsapp_business_account",
		`{"from":"447700900212","id":"wamid.bad12","timestamp":true,"text":{"body":"x"},"type":"text"}`)))
	add("13_meta_entry_object.json", []byte(`{"object":"whatsapp_business_account","entry":{"id":"1","changes":[]}}`))
	add("14_meta_messages_string.json", []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","messages":"lots"}}]}]}`))
	add("15_chatwoot_conversation_array.json", []byte(`{"event":"message_created","id":1,"content":"hi","created_at":"2026-03-02T09:00:00Z","message_type":"incoming","sender":{"type":"contact"},"conversation":[1,2],"account":{"id":1}}`))
	add("16_canonical_ts_bool.jsonl", lines(goodCase1, `{"case_id":"bad-c16","event":"opened","ts":true}`, goodCase2))
	add("17_canonical_attempt_word.jsonl", lines(goodCase1,
		`{"writeback_id":"wb-17","case_id":"bad-c1","attempt":"three","status":"success","ts":"2026-03-02T09:00:00Z"}`, goodCase2))
	add("18_canonical_case_id_object.jsonl", lines(goodCase1, `{"case_id":{"id":"bad-c18"},"event":"opened","ts":"2026-03-02T09:00:00Z"}`, goodCase2))
	add("19_scalar_lines.jsonl", lines(goodCase1, `42`, `"just a string"`, `null`, `true`, goodCase2))
	add("20_array_line.jsonl", lines(goodCase1, `[1,2,3]`, goodCase2))

	// --- huge and deep ---
	huge := `{"case_id":"bad-c21","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"` + strings.Repeat("q", 17<<20) + `"}`
	add("21_huge_line.jsonl.gz", gz(lines(goodCase1, huge, goodCase2)))
	add("22_big_field.jsonl", lines(goodCase1, `{"case_id":"bad-c22","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"`+strings.Repeat("Q", 256<<10)+`"}`, goodCase2))
	add("23_deep_array.json", []byte(strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)))
	add("24_deep_object.jsonl", lines(goodCase1, strings.Repeat(`{"a":`, 100_000)+`1`+strings.Repeat(`}`, 100_000), goodCase2))
	add("25_deep_unclosed.jsonl", lines(goodCase1, strings.Repeat(`[`, 100_000), goodCase2))
	add("26_deep_in_meta.json", []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":`+
		strings.Repeat(`{"x":`, 20_000)+`1`+strings.Repeat(`}`, 20_000)+`}]}]}`))
	add("27_many_keys.jsonl", lines(goodCase1, func() string {
		var b strings.Builder
		b.WriteString(`{"case_id":"bad-c27","event":"opened","ts":"2026-03-02T09:00:00Z"`)
		for i := 0; i < 50_000; i++ {
			fmt.Fprintf(&b, `,"k%d":%d`, i, i)
		}
		return b.String() + "}"
	}(), goodCase2))

	// --- encodings ---
	add("28_invalid_utf8.jsonl", lines(goodCase1, "{\"case_id\":\"bad-c28\",\"event\":\"opened\",\"ts\":\"2026-03-02T09:00:00Z\",\"queue\":\"sup\xff\xfeport\"}", goodCase2))
	add("29_overlong_utf8.jsonl", lines(goodCase1, "{\"case_id\":\"bad-c29\xc0\xaf\",\"event\":\"opened\",\"ts\":\"2026-03-02T09:00:00Z\"}", goodCase2))
	add("30_utf16le_bom.json", utf16le("\ufeff"+goodCase1+"\n"))
	add("31_utf8_bom.jsonl", append([]byte("\xef\xbb\xbf"), lines(goodCase1, goodCase2)...))
	add("32_crlf.jsonl", []byte(goodCase1+"\r\n"+goodCase2+"\r\n"+goodCase3+"\r\n"))
	add("33_bom_crlf.csv", []byte("\xef\xbb\xbfcase_id,customer_id,event,ts,queue\r\nbad-c33,447700900133,opened,2026-03-02T09:00:00Z,support\r\nbad-c33,447700900133,resolved,2026-03-02T10:00:00Z,support\r\n"))
	add("34_nul_bytes.jsonl", lines(goodCase1, "{\"case_id\":\"bad-c34\",\x00\"event\":\"opened\"}", goodCase2))
	add("35_escaped_nul_and_controls.jsonl", lines(goodCase1, `{"case_id":"bad-c35","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"a\u0000b\u0007c\u001b[31m"}`, goodCase2))
	add("36_lone_surrogate.jsonl", lines(goodCase1, `{"case_id":"bad-c36\ud800","event":"opened","ts":"2026-03-02T09:00:00Z"}`, goodCase2))
	add("37_bom_midfile.jsonl", lines(goodCase1, "\xef\xbb\xbf"+goodCase2))

	// --- timestamps ---
	add("38_ts_future.jsonl", lines(goodCase1, `{"case_id":"bad-c38","event":"opened","ts":"2099-01-01T00:00:00Z"}`, goodCase2))
	add("39_ts_future_unix.json", []byte(metaBody("whatsapp_business_account", metaMsg("wamid.bad39", "447700900239", "4102444800"))))
	add("40_ts_millis.jsonl", lines(goodCase1, `{"case_id":"bad-c40","event":"opened","ts":1772442000000}`, goodCase2))
	add("41_meta_ts_millis.json", []byte(metaBody("whatsapp_business_account", metaMsg("wamid.bad41", "447700900241", "1772442000000"))))
	add("42_ts_negative.jsonl", lines(goodCase1, `{"case_id":"bad-c42","event":"opened","ts":-1}`, goodCase2))
	add("43_meta_ts_negative.json", []byte(metaBody("whatsapp_business_account", metaMsg("wamid.bad43", "447700900243", "-86400"))))
	add("44_ts_no_offset.jsonl", lines(goodCase1, `{"case_id":"bad-c44","event":"opened","ts":"2026-03-02 09:00:00"}`, goodCase2))
	add("45_ts_words.jsonl", lines(goodCase1, `{"case_id":"bad-c45","event":"opened","ts":"yesterday"}`, goodCase2))
	add("46_chatwoot_ts_millis.json", []byte(strings.Replace(chatwootMsg("message_created", "46", "2026-03-02T09:00:00Z", "+44 7700 900246"),
		`"created_at":"2026-03-02T09:00:00Z"`, `"created_at":1772442000000`, 1)))
	add("47_chatwoot_ts_future.json", []byte(chatwootMsg("message_created", "47", "2099-06-01T00:00:00Z", "+44 7700 900247")))

	// --- unknown events and kinds ---
	add("48_canonical_unknown_event.jsonl", lines(goodCase1, `{"case_id":"bad-c48","event":"closed","ts":"2026-03-02T09:00:00Z"}`, goodCase2))
	add("49_chatwoot_unknown_event.json", []byte(chatwootMsg("conversation_exploded", "49", "2026-03-02T09:00:00Z", "+44 7700 900249")))
	add("50_chatwoot_typing.jsonl", lines(
		`{"event":"conversation_typing_on","conversation":{"id":50},"user":{"id":1},"account":{"id":1}}`,
		`{"event":"webwidget_triggered","id":"x","contact":{"id":1},"inbox":{"id":1},"account":{"id":1}}`,
		chatwootMsg("message_created", "50", "2026-03-02T09:00:00Z", "+44 7700 900250")))
	add("51_meta_unknown_field.json", []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]}`))
	add("52_meta_unknown_message_type.json", []byte(metaBody("whatsapp_business_account",
		`{"from":"447700900252","id":"wamid.bad52","timestamp":"1772442000","hologram":{"x":1},"type":"hologram"}`)))
	add("53_meta_unknown_status.json", []byte(metaStatusBody(`{"id":"wamid.bad53","status":"exploded","timestamp":"1772442000","recipient_id":"447700900253"}`)))
	add("54_unrecognised_json.jsonl", lines(goodCase1, `{"hello":"world","n":1}`, goodCase2))

	// --- missing ids ---
	add("55_meta_message_no_id.json", []byte(metaBody("whatsapp_business_account",
		`{"from":"447700900255","timestamp":"1772442000","text":{"body":"x"},"type":"text"}`)))
	add("56_meta_status_no_id.json", []byte(metaStatusBody(`{"status":"delivered","timestamp":"1772442000","recipient_id":"447700900256"}`)))
	add("57_meta_message_no_from.json", []byte(metaBody("whatsapp_business_account",
		`{"id":"wamid.bad57","timestamp":"1772442000","text":{"body":"x"},"type":"text"}`)))
	add("58_cases_no_case_id.jsonl", lines(goodCase1, `{"customer_id":"447700900258","event":"opened","ts":"2026-03-02T09:00:00Z"}`, goodCase2))
	add("59_chatwoot_no_conversation_id.json", []byte(strings.Replace(chatwootMsg("message_created", "59", "2026-03-02T09:00:00Z", "+44 7700 900259"),
		`"conversation":{"id":59,`, `"conversation":{`, 1)))
	add("60_empty_ids.jsonl", lines(goodCase1, `{"case_id":"","event":"opened","ts":"2026-03-02T09:00:00Z"}`, `{"case_id":null,"event":"opened","ts":"2026-03-02T09:00:00Z"}`, goodCase2))

	// --- duplicates ---
	add("61_duplicate_event_id.jsonl", lines(
		`{"event_id":"dup-61","case_id":"bad-c61","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"support"}`,
		`{"event_id":"dup-61","case_id":"bad-c61","event":"resolved","ts":"2026-03-02T11:00:00Z","queue":"billing"}`))
	add("62_duplicate_wamid.jsonl", lines(
		metaBody("whatsapp_business_account", metaMsg("wamid.bad62", "447700900262", "1772442000")),
		metaBody("whatsapp_business_account", metaMsg("wamid.bad62", "447700900263", "1772445600"))))

	// --- CSV ---
	add("63_csv_wrong_columns.csv", []byte("case_id,customer_id,event,ts\nbad-c63,447700900263,opened,2026-03-02T09:00:00Z\nbad-c63,opened\nbad-c63,447700900263,resolved,2026-03-02T10:00:00Z,extra\nbad-c63,447700900263,resolved,2026-03-02T10:00:00Z\n"))
	add("64_csv_unknown_header.csv", []byte("foo,bar,baz\n1,2,3\n4,5,6\n"))
	add("65_csv_bad_quote.csv", []byte("case_id,event,ts\nbad-c65,opened,2026-03-02T09:00:00Z\nbad-c65,\"resolved,2026-03-02T10:00:00Z\n"))
	add("66_csv_header_only.csv", []byte("case_id,event,ts\n"))
	add("67_csv_empty.csv", nil)
	add("68_csv_bad_values.csv", []byte("case_id,event,ts\nbad-c68,opened,2026-03-02T09:00:00Z\nbad-c68,closed,2026-03-02T10:00:00Z\nbad-c68,resolved,1772442000000\n"))

	// --- empty and binary ---
	add("69_empty.jsonl", nil)
	add("70_whitespace.json", []byte("  \n\t\n  \r\n"))
	bin := make([]byte, 4096)
	for i := range bin {
		bin[i] = byte(rng.UintN(256))
	}
	add("71_random.bin", bin)
	add("72_png_header.jsonl", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bin[:512]...))
	add("73_nul_file.json", make([]byte, 1024))

	// --- gzip ---
	add("74_gzip_bomb.jsonl.gz", gzRepeat(make([]byte, 1<<20), 100)) // 100 MiB of NUL bytes
	add("75_gzip_bomb_newlines.jsonl.gz", gzRepeat(bytes.Repeat([]byte("\n"), 1<<20), 100))
	add("76_gzip_garbage.jsonl.gz", append([]byte{0x1f, 0x8b}, bin[:256]...))
	good := lines(goodCase1, goodCase2, goodCase3)
	var many []string
	for i := 0; i < 2000; i++ {
		many = append(many, fmt.Sprintf(`{"case_id":"bad-gz-%d","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"q%d"}`, i, rng.IntN(1e9)))
	}
	manyGz := gz(lines(many...))
	add("77_gzip_truncated.jsonl.gz", manyGz[:len(manyGz)/2])
	manyCSV := "case_id,event,ts,queue\n"
	for i := 0; i < 2000; i++ {
		manyCSV += fmt.Sprintf("bad-gzc-%d,opened,2026-03-02T09:00:00Z,q%d\n", i, rng.IntN(1e9))
	}
	csvGz := gz([]byte(manyCSV))
	add("78_gzip_truncated.csv.gz", csvGz[:len(csvGz)/2])
	badCRC := gz(good)
	badCRC[len(badCRC)-8] ^= 0xff
	add("79_gzip_bad_crc.jsonl.gz", badCRC)
	add("80_gzip_empty.jsonl.gz", gz(nil))
	add("81_not_really_gzip.jsonl.gz", good)
	add("82_gzip_header_only.jsonl.gz", gz(good)[:10])

	// --- Meta envelopes ---
	add("83_meta_wrong_object.json", []byte(metaBody("page", metaMsg("wamid.bad83", "447700900283", "1772442000"))))
	add("84_meta_bare_value.json", []byte(`{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"106540352242904"},"messages":[`+metaMsg("wamid.bad84", "447700900284", "1772442000")+`]}`))
	add("85_meta_no_entry.json", []byte(`{"object":"whatsapp_business_account","entry":[]}`))
	add("86_meta_instagram.json", []byte(`{"object":"instagram","entry":[{"id":"1","time":1772442000,"messaging":[{"sender":{"id":"447700900286"},"message":{"mid":"m1","text":"hi"}}]}]}`))
	add("87_meta_two_changes_one_bad.json", []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[`+
		`{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242904"},"messages":[`+metaMsg("wamid.bad87a", "447700900287", "1772442000")+`]}},`+
		`{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242904"},"messages":[{"from":"447700900287","timestamp":"1772442000","type":"text"}]}}]}]}`))

	// --- mixtures and values that must be stored verbatim ---
	add("88_mixed_sources.jsonl", lines(
		metaBody("whatsapp_business_account", metaMsg("wamid.bad88", "447700900288", "1772442000")),
		chatwootMsg("message_created", "88", "2026-03-02T09:00:00Z", "+44 7700 900288"),
		goodCase1,
		`{"totally":"unknown"}`))
	add("89_array_mixed.json", []byte("[\n"+goodCase1+",\n42,\n"+goodCase2+",\n\"text\"\n]\n"))
	add("90_sql_metacharacters.jsonl", lines(
		`{"case_id":"bad-c90'; DROP TABLE case_events; --","customer_id":"447700900290","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"x' OR 1=1 --","category":"50%_off\\\"quoted\\\""}`))
	add("91_form_garbage.form", []byte("%%%zz=&&=\x00\xff"))
	add("92_form_empty.form", nil)
	add("93_huge_number.jsonl", lines(goodCase1, `{"writeback_id":"wb-93","case_id":"bad-c1","attempt":1e400,"status":"success","ts":"2026-03-02T09:00:00Z"}`,
		`{"writeback_id":"wb-94","case_id":"bad-c1","attempt":99999999999999999999,"status":"success","ts":"2026-03-02T09:00:00Z"}`, goodCase2))
	add("94_duplicate_keys.jsonl", lines(goodCase1, `{"case_id":"bad-c94","event":"opened","event":"closed","ts":"2026-03-02T09:00:00Z"}`, goodCase2))

	add("95_csv_invalid_utf8.csv", []byte("case_id,event,ts,queue\nbad-c95,opened,2026-03-02T09:00:00Z,support\nbad-c95,resolved,2026-03-02T10:00:00Z,sup\xffport\n"))
	add("96_blank_lines_then_data.jsonl.gz", gz(append(bytes.Repeat([]byte("\n"), 3<<20), lines(goodCase1, `{"case_id":"bad-c96"`, goodCase2)...)))
	add("97_ts_year_1.jsonl", lines(goodCase1, `{"case_id":"bad-c97","event":"opened","ts":"0001-01-01T00:00:00Z"}`, goodCase2))
	add("98_meta_phone_in_bad_doc.json", []byte(strings.Replace(metaBody("whatsapp_business_account", metaMsg("wamid.bad98", "447700900298", "1772442000")),
		`"timestamp":"1772442000"`, `"timestamp":{"oops":"+44 7700 900298"}`, 1)))

	add("99_csv_bare_quote_first_field.csv", []byte("case_id,event,ts\nbad\"c99,opened,2026-03-02T09:00:00Z\nbad-c99,opened,2026-03-02T09:00:00Z\n"))
	add("100_twilio_form_invalid_utf8.form", []byte("SmsMessageSid=SM%93bad&NumMedia=0&SmsSid=SM%93bad&SmsStatus=received&Body=hi&To=whatsapp%3A%2B14123456789&NumSegments=1&MessageSid=SM%93bad&AccountSid=AC1a03647d811fab342c0ad608e382fab2&From=whatsapp%3A%2B447700900300&ApiVersion=2010-04-01"))

	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			panic(err)
		}
	}
	fmt.Printf("wrote %d files to %s\n", len(files), dir)
}

func utf16le(s string) []byte {
	var out []byte
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}
