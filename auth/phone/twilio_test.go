package phone_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/gateway/twilio"
	"github.com/gatehouse/gatehouse/auth/gateway/twilio/twiliotest"
	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

var callURL = regexp.MustCompile(`^` + regexp.QuoteMeta(publicURL+phone.CallbackPath) + `([A-Za-z0-9_-]{43})/$`)

// TestTwilioEndToEnd: enrolment and login by text message and by voice
// call through twilio-go and a fake Twilio API, which answers calls by
// fetching their TwiML from the site with a signed request.
func TestTwilioEndToEnd(t *testing.T) {
	for _, method := range []string{phone.MethodSMS, phone.MethodCall} {
		t.Run(method, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db testenv.DB) {
				e := newEnv(t, envOptions{sms: "twilio", call: "twilio", db: db})
				e.app.User("ana", true, false)
				e.enrol(e.app.Client(), "ana", method, nlNumber)
				e.app.Clock.Advance(2 * time.Minute)
				c := e.app.Client()
				c.Password("ana", authtest.Password)
				code := e.code(method, nlNumber)
				if len(code) != 6 {
					t.Fatalf("no code delivered: %q", code)
				}
				wantStatus(t, token(c, code), http.StatusSeeOther, "login with the delivered code")
				if lines := e.log.all(); len(lines) != 0 {
					t.Fatalf("the fake gateway was used: %q", lines)
				}
				if method == phone.MethodSMS {
					ms := e.tw.Messages()
					if len(ms) != 2 || ms[1].To != nlNumber || ms[1].From != twCaller || ms[1].Body != "Your token is: "+code {
						t.Fatalf("messages: %+v", ms)
					}
					return
				}
				calls := e.tw.Calls()
				if len(calls) != 2 {
					t.Fatalf("calls: %+v", calls)
				}
				for _, call := range calls {
					if call.To != nlNumber || call.From != twCaller || call.Method != http.MethodPost || !callURL.MatchString(call.URL) {
						t.Fatalf("call request: %+v", call)
					}
					if strings.Contains(call.URL, code) {
						t.Fatalf("the code is in the call URL %s", call.URL)
					}
					if len(call.Scripts) != 2 || call.Status[0] != 200 || call.Status[1] != 200 {
						t.Fatalf("the call's TwiML fetches: %v %q", call.Status, call.Scripts)
					}
				}
				greet, err := twiliotest.Parse(calls[1].Scripts[0])
				if err != nil || greet.Gather == nil || greet.Gather.NumDigits != "1" || greet.Gather.Action != calls[1].URL ||
					len(greet.Gather.Says) != 1 || !strings.Contains(greet.Gather.Says[0].Text, "Press any key") || !greet.Hangup ||
					twiliotest.Token(calls[1].Scripts[0]) != "" {
					t.Fatalf("greeting (it must wait for a key and not tell the code): %s", calls[1].Scripts[0])
				}
				said, _ := twiliotest.Parse(calls[1].Scripts[1])
				if len(said.Says) != 1 || said.Says[0].Language != "en-US" || said.Says[0].Voice != "Polly.Joanna" ||
					!strings.HasPrefix(said.Says[0].Text, "Your token is "+spellOut(code)+". Repeat: ") {
					t.Fatalf("spoken code: %s", calls[1].Scripts[1])
				}
			})
		})
	}
}

func spellOut(code string) string { return strings.Join(strings.Split(code, ""), ". ") }

// pendingCall starts a login whose code goes out by a call that is not
// answered yet, and returns the call and the pending login.
func pendingCall(t *testing.T, e *env) (twiliotest.Call, *authtest.Client) {
	t.Helper()
	e.app.User("ana", true, false)
	e.enrol(e.app.Client(), "ana", phone.MethodCall, nlNumber)
	e.app.Clock.Advance(2 * time.Minute)
	e.tw.AutoAnswer(false)
	c := e.app.Client()
	passwordAs(c, "ana", "en")
	calls := e.tw.Calls()
	return calls[len(calls)-1], c
}

// TestTwiMLEndpointRefuses: the TwiML endpoint speaks only to Twilio, and
// a call id reads its code out once.
func TestTwiMLEndpointRefuses(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testenv.DB) {
		e := newEnv(t, envOptions{call: "twilio", db: db})
		call, login := pendingCall(t, e)
		params := e.tw.CallParams(call.Sid)
		withDigits := e.tw.CallParams(call.Sid)
		withDigits.Set("Digits", "1")
		otherURL := publicURL + phone.CallbackPath + strings.Repeat("A", 43) + "/"
		tampered := e.tw.CallParams(call.Sid)
		tampered.Set("To", "+4930123456")
		foreign := e.tw.CallParams(call.Sid)
		foreign.Set("AccountSid", "ACother0123456789")
		repeated := e.tw.CallParams(call.Sid)
		repeated.Add("Digits", "1")
		repeated.Add("Digits", "2")

		cases := []struct {
			name      string
			params    url.Values
			signature string
			headers   []string
			status    int
		}{
			{"no signature", withDigits, "", nil, 403},
			{"garbage signature", withDigits, "bm90IGEgc2lnbmF0dXJl", nil, 403},
			{"signed with another token", withDigits, twiliotest.Sign("wrongtoken0123456789", call.URL, withDigits), nil, 403},
			{"signature of another URL", withDigits, twiliotest.Sign(twToken, otherURL, withDigits), nil, 403},
			{"signature of other parameters", tampered, twiliotest.Sign(twToken, call.URL, withDigits), nil, 403},
			{"another account", foreign, twiliotest.Sign(twToken, call.URL, foreign), nil, 403},
			{"repeated parameter", repeated, twiliotest.Sign(twToken, call.URL, repeated), nil, 403},
			{"signed, but from a browser on another site", withDigits, twiliotest.Sign(twToken, call.URL, withDigits),
				[]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				status, body := e.tw.Post(call.URL, tc.params, tc.signature, tc.headers...)
				if status != tc.status || twiliotest.Token(body) != "" {
					t.Fatalf("want %d and no code, got %d %s", tc.status, status, body)
				}
			})
		}

		// Twilio's own request (no browser headers) passes the cross-origin
		// protection and the signature check; the code is read out once.
		status, greeting := e.tw.Post(call.URL, params, twiliotest.Sign(twToken, call.URL, params))
		if status != 200 || !strings.Contains(greeting, "<Gather") {
			t.Fatalf("Twilio's greeting fetch: %d %s", status, greeting)
		}
		status, first := e.tw.Post(call.URL, withDigits, twiliotest.Sign(twToken, call.URL, withDigits))
		if status != 200 || len(twiliotest.Token(first)) != 6 {
			t.Fatalf("the code was not read out: %d %s", status, first)
		}
		for _, p := range []url.Values{withDigits, params} {
			status, again := e.tw.Post(call.URL, p, twiliotest.Sign(twToken, call.URL, p))
			if status != 200 || twiliotest.Token(again) != "" || !strings.Contains(again, "no longer valid") || !strings.Contains(again, "<Hangup") {
				t.Fatalf("a used call id: %d %s", status, again)
			}
		}
		// Unknown ids, signed: no code, no crash.
		for _, id := range []string{strings.Repeat("A", 43), "short", strings.Repeat("~", 43), "%C3%A9" + strings.Repeat("a", 37)} {
			u := publicURL + phone.CallbackPath + id + "/"
			status, body := e.tw.Post(u, withDigits, twiliotest.Sign(twToken, u, withDigits))
			if (status != 200 && status != 403 && status != 404) || twiliotest.Token(body) != "" {
				t.Fatalf("unknown id %q: %d %s", id, status, body)
			}
		}
		wantStatus(t, token(login, twiliotest.Token(first)), http.StatusSeeOther, "login with the code read out")
	})
}

// TestTwiMLCallExpires: a call not answered within the code's validity
// reads nothing out.
func TestTwiMLCallExpires(t *testing.T) {
	e := newEnv(t, envOptions{call: "twilio"})
	call, _ := pendingCall(t, e)
	e.app.Clock.Advance(5*time.Minute + time.Second)
	doc := e.tw.Answer(call.Sid, "1")
	if twiliotest.Token(doc) != "" || !strings.Contains(doc, "no longer valid") {
		t.Fatalf("an expired call: %s", doc)
	}
}

// TestTwilioLanguages: the text message and the call speak the user's
// language, mapped to a Twilio voice.
func TestTwilioLanguages(t *testing.T) {
	cases := []struct {
		accept, sms, language, voice, spoken string
	}{
		{"de", "Ihr Code lautet: ", "de-DE", "Polly.Vicki", "Ihr Code lautet "},
		{"he", "הקוד שלך הוא: ", "he-IL", "Google.he-IL-Standard-A", "הקוד שלך הוא "},
		{"xx-YY", "Your token is: ", "en-US", "Polly.Joanna", "Your token is "}, // an unknown language: English
	}
	for _, tc := range cases {
		t.Run(tc.accept, func(t *testing.T) {
			e := newEnv(t, envOptions{sms: "twilio", call: "twilio"})
			e.app.User("ana", true, false)
			c := e.app.Client()
			e.enrol(c, "ana", phone.MethodSMS, nlNumber)
			c.Get("/account/login/?lang=" + strings.Split(tc.accept, "-")[0])
			e.addBackup(c, phone.MethodCall, nlMobile)
			ms := e.tw.Messages()
			if len(ms) != 1 {
				t.Fatalf("messages: %+v", ms)
			}
			e.app.Clock.Advance(2 * time.Minute)
			l := e.app.Client()
			passwordAs(l, "ana", tc.accept)
			ms = e.tw.Messages()
			if !strings.HasPrefix(ms[len(ms)-1].Body, tc.sms) {
				t.Fatalf("text message in %s: %q", tc.accept, ms[len(ms)-1].Body)
			}
			choose2(l, key(phone.MethodCall, e.device("ana", nlMobile).ID), tc.accept)
			calls := e.tw.Calls()
			doc := calls[len(calls)-1].Scripts[1]
			s, err := twiliotest.Parse(doc)
			if err != nil || len(s.Says) != 1 || s.Says[0].Language != tc.language || s.Says[0].Voice != tc.voice ||
				!strings.HasPrefix(s.Says[0].Text, tc.spoken) || twiliotest.Token(doc) == "" {
				t.Fatalf("call in %s: %s", tc.accept, doc)
			}
			wantStatus(t, token(l, twiliotest.Token(doc)), http.StatusSeeOther, "login with the spoken code")
		})
	}
}

func passwordAs(c *authtest.Client, user, accept string) *authtest.Response {
	return c.PostForm(loginURL, authtest.Form("login_view-current_step", "auth", "auth-username", user, "auth-password", authtest.Password),
		"Accept-Language", accept)
}

func choose2(c *authtest.Client, key, accept string) *authtest.Response {
	return c.PostForm(loginURL, authtest.Form("login_view-current_step", "token", "challenge_device", key), "Accept-Language", accept)
}

// TestTwilioMessagingService: with a Messaging Service the text comes from
// it, not from the caller id.
func TestTwilioMessagingService(t *testing.T) {
	e := newEnv(t, envOptions{sms: "twilio", call: "off", twilio: func(c *twilio.Config) {
		c.MessagingServiceSID, c.CallerID = "MGservice0123456789", ""
	}})
	e.app.User("ana", true, false)
	e.enrol(e.app.Client(), "ana", phone.MethodSMS, nlNumber)
	ms := e.tw.Messages()
	if len(ms) != 1 || ms[0].MessagingServiceSid != "MGservice0123456789" || ms[0].From != "" {
		t.Fatalf("messages: %+v", ms)
	}
}

// TestConcurrentCallFetches: parallel signed fetches of one call's code
// get it exactly once.
func TestConcurrentCallFetches(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testenv.DB) {
		e := newEnv(t, envOptions{call: "twilio", db: db})
		call, _ := pendingCall(t, e)
		p := e.tw.CallParams(call.Sid)
		p.Set("Digits", "1")
		sig := twiliotest.Sign(twToken, call.URL, p)
		var mu sync.Mutex
		told := 0
		authtest.Race(10, func(int) {
			if _, doc := e.tw.Post(call.URL, p, sig); twiliotest.Token(doc) != "" {
				mu.Lock()
				told++
				mu.Unlock()
			}
		})
		if told != 1 {
			t.Fatalf("10 parallel fetches of one call: the code was read out %d times, want 1", told)
		}
	})
}

// TestSecretsAtRest: the phone key and a pending call's code are sealed,
// and the call table does not hold the ids of the callback URLs.
func TestSecretsAtRest(t *testing.T) {
	e := newEnv(t, envOptions{call: "twilio"})
	call, login := pendingCall(t, e)
	id := callURL.FindStringSubmatch(call.URL)[1]
	var rows []struct {
		ID          string
		SealedToken []byte
	}
	if err := e.app.DB.Table("gatehouse_phone_call").Select("id, sealed_token").Where("used = ?", false).Find(&rows).Error; err != nil || len(rows) != 1 {
		t.Fatalf("call rows: %v %d", err, len(rows))
	}
	if rows[0].ID == id || strings.Contains(rows[0].ID, id) {
		t.Fatalf("the call table holds the URL's id")
	}
	doc := e.tw.Answer(call.Sid, "1")
	code := twiliotest.Token(doc)
	if len(code) != 6 || strings.Contains(string(rows[0].SealedToken), code) {
		t.Fatalf("the code is stored in the clear (or was not read out: %q)", code)
	}
	d := e.device("ana", nlNumber)
	if len(d.SealedKey) <= 20 {
		t.Fatalf("the phone key is not sealed: %d bytes", len(d.SealedKey))
	}
	if _, err := e.app.Service.Open(d.SealedKey, "phone/999"); err == nil {
		t.Fatalf("the sealed key opens under another user's context")
	}
	wantStatus(t, token(login, code), http.StatusSeeOther, "login with the code read out")
}
