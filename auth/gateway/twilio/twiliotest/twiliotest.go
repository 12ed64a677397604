// Package twiliotest is a fake Twilio for tests: a REST API server on
// 127.0.0.1 that the real twilio-go client talks to (through HTTPClient,
// which sends api.twilio.com's requests there). It checks the account's
// basic auth, records messages and calls, and answers calls the way Twilio
// does: it fetches the call's TwiML URL from the site with an
// X-Twilio-Signature computed by Twilio's algorithm (Sign), presses a key
// when asked to, and records what it was told to say.
package twiliotest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Message is a text message the API was asked to send.
type Message struct {
	To, From, MessagingServiceSid, Body string
}

// Call is a call the API was asked to make, and how it went.
type Call struct {
	Sid, To, From, URL, Method string
	// Scripts are the TwiML documents the site answered, in order.
	Scripts []string
	// Status are the HTTP statuses of those fetches.
	Status []int
}

// Server is the fake API.
type Server struct {
	*httptest.Server
	AccountSID, AuthToken string

	mu       sync.Mutex
	messages []Message
	calls    []*Call
	fail     []int // statuses to answer the next creates with
	answer   bool
	siteHTTP *http.Client // sends the public URL's requests to the site
}

// New starts a fake API for the account; it closes with the test.
func New(t testing.TB, accountSID, authToken string) *Server {
	s := &Server{AccountSID: accountSID, AuthToken: authToken, answer: true}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.createMessage)
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Calls.json", s.createCall)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// HTTPClient is the client to give the gateway: requests to any
// *.twilio.com host go to this server.
func (s *Server) HTTPClient() *http.Client {
	target, _ := url.Parse(s.URL)
	return &http.Client{Transport: rewrite{func(u *url.URL) bool { return strings.HasSuffix(u.Hostname(), "twilio.com") }, target}}
}

// Site tells the server where the site really runs (an httptest URL) when
// the gateway's public URL names another host, as behind a proxy.
func (s *Server) Site(publicURL, siteURL string) {
	p, _ := url.Parse(publicURL)
	target, _ := url.Parse(siteURL)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.siteHTTP = &http.Client{
		Transport:     rewrite{func(u *url.URL) bool { return u.Host == p.Host }, target},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// AutoAnswer says whether a new call is answered (its TwiML fetched) before
// the API replies; on by default.
func (s *Server) AutoAnswer(on bool) {
	s.mu.Lock()
	s.answer = on
	s.mu.Unlock()
}

// FailNext makes the next create requests fail with these HTTP statuses.
func (s *Server) FailNext(status ...int) {
	s.mu.Lock()
	s.fail = append(s.fail, status...)
	s.mu.Unlock()
}

// Messages returns the messages so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Calls returns copies of the calls so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
		out[i].Scripts = append([]string(nil), c.Scripts...)
		out[i].Status = append([]int(nil), c.Status...)
	}
	return out
}

type rewrite struct {
	match  func(*url.URL) bool
	target *url.URL
}

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if rw.match(r.URL) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = rw.target.Scheme, rw.target.Host
		r.Host = ""
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken || r.PathValue("sid") != s.AccountSID {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return false
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 20001, "message": err.Error(), "status": 400})
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) > 0 {
		status := s.fail[0]
		s.fail = s.fail[1:]
		writeJSON(w, status, map[string]any{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": status})
		return false
	}
	return true
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	m := Message{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		MessagingServiceSid: r.PostForm.Get("MessagingServiceSid"), Body: r.PostForm.Get("Body")}
	if m.To == "" || m.Body == "" || (m.From == "" && m.MessagingServiceSid == "") {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 21604, "message": "A 'To', 'Body' and 'From' or 'MessagingServiceSid' are required.", "status": 400})
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"sid": "SM" + randomHex(), "status": "queued", "to": m.To, "body": m.Body})
}

func (s *Server) createCall(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	c := &Call{Sid: "CA" + randomHex(), To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		URL: r.PostForm.Get("Url"), Method: r.PostForm.Get("Method")}
	if c.To == "" || c.From == "" || c.URL == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 21205, "message": "Url, To and From are required.", "status": 400})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	answer := s.answer
	s.mu.Unlock()
	if answer {
		s.Answer(c.Sid, "1")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"sid": c.Sid, "status": "queued", "to": c.To})
}

// Answer plays a call: it fetches the script and, when the script gathers
// a key, posts digits to its action, as Twilio does. It returns the last
// script.
func (s *Server) Answer(sid, digits string) string {
	c := s.call(sid)
	if c == nil {
		return ""
	}
	status, doc := s.Fetch(sid, c.URL, nil)
	if status != http.StatusOK {
		return doc
	}
	if action, ok := gatherAction(doc); ok {
		if action == "" {
			action = c.URL
		}
		_, doc = s.Fetch(sid, action, url.Values{"Digits": {digits}})
	}
	return doc
}

func (s *Server) call(sid string) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.Sid == sid {
			return c
		}
	}
	return nil
}

// CallParams are the parameters Twilio posts to a voice webhook.
func (s *Server) CallParams(sid string) url.Values {
	c := s.call(sid)
	to, from := "", ""
	if c != nil {
		to, from = c.To, c.From
	}
	return url.Values{"AccountSid": {s.AccountSID}, "CallSid": {sid}, "From": {from}, "To": {to},
		"CallStatus": {"in-progress"}, "Direction": {"outbound-api"}, "ApiVersion": {"2010-04-01"}}
}

// Fetch posts a call's webhook parameters (plus extra) to rawURL, signed
// with the auth token, and records the answer under the call.
func (s *Server) Fetch(sid, rawURL string, extra url.Values) (int, string) {
	params := s.CallParams(sid)
	for k, vs := range extra {
		params[k] = vs
	}
	status, body := s.Post(rawURL, params, Sign(s.AuthToken, rawURL, params))
	if c := s.call(sid); c != nil {
		s.mu.Lock()
		c.Scripts = append(c.Scripts, body)
		c.Status = append(c.Status, status)
		s.mu.Unlock()
	}
	return status, body
}

// Post sends a POST as Twilio's servers do (no browser headers) with the
// given signature ("" for none) to rawURL on the site.
func (s *Server) Post(rawURL string, params url.Values, signature string, headers ...string) (int, string) {
	s.mu.Lock()
	hc := s.siteHTTP
	s.mu.Unlock()
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(params.Encode()))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Sign computes X-Twilio-Signature as Twilio documents it: the URL, then
// each POST parameter's name and value in name order, HMAC-SHA1 with the
// auth token, base64.
func Sign(authToken, rawURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(rawURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Script is a parsed TwiML document.
type Script struct {
	Says   []Say
	Gather *Gather
	Hangup bool
}

// Say is one <Say>.
type Say struct {
	Language, Voice, Text string
}

// Gather is a <Gather> and what it says.
type Gather struct {
	Action, Method, NumDigits string
	Says                      []Say
}

// Parse reads a TwiML voice document.
func Parse(doc string) (*Script, error) {
	var r struct {
		XMLName xml.Name `xml:"Response"`
		Items   []struct {
			XMLName   xml.Name
			Language  string `xml:"language,attr"`
			Voice     string `xml:"voice,attr"`
			Action    string `xml:"action,attr"`
			Method    string `xml:"method,attr"`
			NumDigits string `xml:"numDigits,attr"`
			Text      string `xml:",chardata"`
			Says      []struct {
				Language string `xml:"language,attr"`
				Voice    string `xml:"voice,attr"`
				Text     string `xml:",chardata"`
			} `xml:"Say"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(doc), &r); err != nil {
		return nil, err
	}
	s := &Script{}
	for _, it := range r.Items {
		switch it.XMLName.Local {
		case "Say":
			s.Says = append(s.Says, Say{it.Language, it.Voice, it.Text})
		case "Gather":
			g := &Gather{Action: it.Action, Method: it.Method, NumDigits: it.NumDigits}
			for _, say := range it.Says {
				g.Says = append(g.Says, Say{say.Language, say.Voice, say.Text})
			}
			s.Gather = g
		case "Hangup":
			s.Hangup = true
		default:
			return nil, fmt.Errorf("unexpected TwiML verb %s", it.XMLName.Local)
		}
	}
	return s, nil
}

func gatherAction(doc string) (string, bool) {
	s, err := Parse(doc)
	if err != nil || s.Gather == nil {
		return "", false
	}
	return s.Gather.Action, true
}

var spelled = regexp.MustCompile(`\d(?:\. \d)+`)

// Token returns the code a script reads out ("1. 2. 3. 4. 5. 6" gives
// "123456"), "" when it reads none.
func Token(doc string) string {
	s, err := Parse(doc)
	if err != nil {
		return ""
	}
	for _, say := range s.Says {
		if m := spelled.FindString(say.Text); m != "" {
			return strings.ReplaceAll(m, ". ", "")
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
