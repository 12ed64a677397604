package yubikey

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is a client of the Yubico OTP validation protocol 2.0
// (yubikey-val's doc/Validation_Protocol_V2.0.adoc), as YubiCloud and
// self-hosted yubikey-val servers speak it.

// Status is the "status" of a verify response.
type Status string

// Every status of protocol 2.0. Only StatusOK accepts an OTP.
const (
	StatusOK                  Status = "OK"
	StatusBadOTP              Status = "BAD_OTP"
	StatusReplayedOTP         Status = "REPLAYED_OTP"
	StatusBadSignature        Status = "BAD_SIGNATURE"
	StatusMissingParameter    Status = "MISSING_PARAMETER"
	StatusNoSuchClient        Status = "NO_SUCH_CLIENT"
	StatusOperationNotAllowed Status = "OPERATION_NOT_ALLOWED"
	StatusBackendError        Status = "BACKEND_ERROR"
	StatusNotEnoughAnswers    Status = "NOT_ENOUGH_ANSWERS"
	StatusReplayedRequest     Status = "REPLAYED_REQUEST"
)

// StatusError is a verify response with a status other than OK.
type StatusError struct{ Status Status }

func (e *StatusError) Error() string {
	return "yubikey: validation service answered " + string(e.Status)
}

// Rejected reports whether the service judged the OTP itself bad (wrong,
// or seen before), as opposed to a problem of the service or of our
// configuration.
func (e *StatusError) Rejected() bool {
	return e.Status == StatusBadOTP || e.Status == StatusReplayedOTP
}

// Transient reports whether trying again later may help.
func (e *StatusError) Transient() bool {
	return e.Status == StatusBackendError || e.Status == StatusNotEnoughAnswers
}

var (
	// ErrNotOTP means the OTP failed ParseOTP; nothing was sent.
	ErrNotOTP = errors.New("yubikey: not a YubiKey OTP")
	// ErrInsecureURL means the service URL is not https although it must
	// be (no API key to sign with, or the service asks for https); nothing
	// was sent.
	ErrInsecureURL = errors.New("yubikey: validation service URL must be https")
	// ErrBadResponse means the response is not a protocol 2.0 answer.
	ErrBadResponse = errors.New("yubikey: malformed validation response")
	// ErrResponseSignature means an OK response is unsigned or its
	// signature does not verify with the API key.
	ErrResponseSignature = errors.New("yubikey: validation response signature does not verify")
	// ErrEcho means an OK response is for another OTP or nonce than the
	// request's (a cut-and-paste or replayed answer).
	ErrEcho = errors.New("yubikey: validation response does not echo the request's otp and nonce")
)

// ServiceParams is what a verify request needs to know about a service.
type ServiceParams struct {
	URL    string // e.g. https://api.yubico.com/wsapi/2.0/verify
	APIID  string // client id
	APIKey []byte // HMAC-SHA1 key (decoded); nil: requests unsigned, URL must be https
	// RequireHTTPS refuses http URLs even with an API key.
	RequireHTTPS bool
	// VerifySignature requires a valid signature on OK responses (when
	// there is an API key to check it with).
	VerifySignature bool
}

// Answer is an OK verify response.
type Answer struct {
	// HasCounters is set when the service reported the key's counters
	// (it was asked with timestamp=1).
	HasCounters    bool
	SessionCounter int // the key's non-volatile usage counter
	SessionUse     int // touches within the session
}

// maxResponse bounds a verify response; real ones are about 300 bytes.
const maxResponse = 4096

// Client sends verify requests. The zero value uses a client with a 10 s
// timeout.
type Client struct {
	HTTP *http.Client
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// Verify asks the service whether otp is valid. It returns an Answer only
// for a status of OK whose signature (when one can be checked) and echoed
// otp and nonce verify; every other outcome is an error, and the OTP must
// be refused.
func (c *Client) Verify(ctx context.Context, svc ServiceParams, otp string) (*Answer, error) {
	o, ok := ParseOTP(otp)
	if !ok {
		return nil, ErrNotOTP
	}
	base, err := url.Parse(svc.URL)
	if err != nil || base.Host == "" || base.RawQuery != "" || base.Fragment != "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("yubikey: validation service URL %q: want an absolute http(s) URL without query", svc.URL)
	}
	if base.Scheme != "https" && (len(svc.APIKey) == 0 || svc.RequireHTTPS) {
		return nil, ErrInsecureURL
	}
	if svc.APIID == "" {
		return nil, errors.New("yubikey: validation service has no API id")
	}
	nonce, err := Nonce()
	if err != nil {
		return nil, err
	}
	params := map[string]string{"id": svc.APIID, "otp": o.Value, "nonce": nonce, "timestamp": "1"}
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	if len(svc.APIKey) > 0 {
		q.Set("h", Sign(params, svc.APIKey))
	}
	u := *base
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "gatehouse-yubikey/2.0")
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("yubikey: validation request: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %d", ErrBadResponse, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("yubikey: validation response: %w", err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadResponse, maxResponse)
	}
	fields, err := ParseResponse(body)
	if err != nil {
		return nil, err
	}
	status := Status(fields["status"])
	if status == "" {
		return nil, fmt.Errorf("%w: no status", ErrBadResponse)
	}
	if status != StatusOK {
		// Fail closed whatever the signature: a forged refusal can only
		// deny, which anyone between us and the service can do anyway.
		return nil, &StatusError{Status: status}
	}
	if len(svc.APIKey) > 0 && svc.VerifySignature && !VerifySignature(fields, svc.APIKey) {
		return nil, ErrResponseSignature
	}
	if fields["otp"] != o.Value || fields["nonce"] != nonce {
		return nil, ErrEcho
	}
	a := &Answer{}
	sc, hasSC := fields["sessioncounter"]
	su, hasSU := fields["sessionuse"]
	if hasSC || hasSU {
		n1, err1 := strconv.Atoi(sc)
		n2, err2 := strconv.Atoi(su)
		if err1 != nil || err2 != nil || n1 < 0 || n2 < 0 || n1 > 0xffff || n2 > 0xff {
			return nil, fmt.Errorf("%w: counters %q %q", ErrBadResponse, sc, su)
		}
		a.HasCounters, a.SessionCounter, a.SessionUse = true, n1, n2
	}
	return a, nil
}

// ParseResponse reads "key=value" lines (CRLF or LF). A line without "=",
// an empty key or a key given twice makes the response malformed.
func ParseResponse(body []byte) (map[string]string, error) {
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: line %q", ErrBadResponse, line)
		}
		if _, dup := fields[k]; dup {
			return nil, fmt.Errorf("%w: %s given twice", ErrBadResponse, k)
		}
		fields[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return fields, nil
}

// Sign is the protocol's signature: HMAC-SHA1 with the API key over the
// pairs other than "h", sorted by key, as "k1=v1&k2=v2", in base64.
func Sign(fields map[string]string, key []byte) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "h" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, key)
	for i, k := range keys {
		if i > 0 {
			m.Write([]byte{'&'})
		}
		m.Write([]byte(k + "=" + fields[k]))
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySignature checks the "h" of fields in constant time.
func VerifySignature(fields map[string]string, key []byte) bool {
	got, err := base64.StdEncoding.DecodeString(fields["h"])
	if err != nil || len(got) != sha1.Size {
		return false
	}
	want, _ := base64.StdEncoding.DecodeString(Sign(fields, key))
	return hmac.Equal(got, want)
}

const nonceChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NonceLen is the length of request nonces (the protocol allows 16 to 40).
const NonceLen = 32

// Nonce returns NonceLen random alphanumeric characters.
func Nonce() (string, error) {
	b := make([]byte, NonceLen)
	for i := range b {
		// rand.Text would do base32; a uniform pick over 62 letters keeps
		// the nonce URL-safe without encoding.
		var r [1]byte
		for {
			if _, err := rand.Read(r[:]); err != nil {
				return "", err
			}
			if r[0] < 248 { // 248 = 4*62: no modulo bias
				break
			}
		}
		b[i] = nonceChars[int(r[0])%len(nonceChars)]
	}
	return string(b), nil
}
