package twilio

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/twiml"

	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/locales"
)

// Voice is how Twilio speaks one language: the <Say> language and voice.
type Voice struct {
	Language string // "de-DE"
	Voice    string // "Polly.Vicki"; "" for Twilio's default
}

// Voices maps the site's language tags (or their base language) to Twilio
// text-to-speech voices. A language without a voice is spoken in English.
var Voices = map[string]Voice{
	"en":    {"en-US", "Polly.Joanna"},
	"en-GB": {"en-GB", "Polly.Amy"},
	"de":    {"de-DE", "Polly.Vicki"},
	"he":    {"he-IL", "Google.he-IL-Standard-A"},
	"fr":    {"fr-FR", "Polly.Lea"},
	"nl":    {"nl-NL", "Polly.Lotte"},
	"es":    {"es-ES", "Polly.Lucia"},
	"it":    {"it-IT", "Polly.Bianca"},
	"pt":    {"pt-PT", "Polly.Ines"},
	"pt-BR": {"pt-BR", "Polly.Camila"},
	"ar":    {"arb", "Polly.Zeina"},
	"ca":    {"ca-ES", "Polly.Arlet"},
	"cs":    {"cs-CZ", "Google.cs-CZ-Standard-A"},
	"da":    {"da-DK", "Polly.Naja"},
	"fi":    {"fi-FI", "Polly.Suvi"},
	"hi":    {"hi-IN", "Polly.Aditi"},
	"hu":    {"hu-HU", "Google.hu-HU-Standard-A"},
	"ja":    {"ja-JP", "Polly.Mizuki"},
	"lt":    {"lt-LT", "Google.lt-LT-Standard-A"},
	"nb":    {"nb-NO", "Polly.Liv"},
	"pl":    {"pl-PL", "Polly.Ewa"},
	"ro":    {"ro-RO", "Polly.Carmen"},
	"ru":    {"ru-RU", "Polly.Tatyana"},
	"sr":    {"sr-RS", "Google.sr-RS-Standard-A"},
	"sv":    {"sv-SE", "Polly.Astrid"},
	"tr":    {"tr-TR", "Polly.Filiz"},
	"vi":    {"vi-VN", "Google.vi-VN-Standard-A"},
	"zh":    {"cmn-CN", "Polly.Zhiyu"},
	// Traditional Chinese is read in Taiwan's Mandarin.
	"zh-Hant": {"cmn-TW", "Google.cmn-TW-Standard-A"},
	"ko":      {"ko-KR", "Polly.Seoyeon"},
	"uk":      {"uk-UA", "Google.uk-UA-Standard-A"},
	"el":      {"el-GR", "Google.el-GR-Standard-A"},
	"id":      {"id-ID", "Google.id-ID-Standard-A"},
}

// NoVoice lists the site's languages Twilio has no text-to-speech voice
// for: their calls are spoken in English on purpose (the text message is
// still in the user's language).
var NoVoice = map[string]bool{"as": true, "az": true, "fa": true, "ha": true}

// VoiceFor returns the voice of a language tag: the tag itself, then its
// base language; false when there is none.
func (g *Gateway) VoiceFor(tag string) (Voice, bool) {
	for _, t := range []string{tag, strings.SplitN(tag, "-", 2)[0]} {
		for _, table := range []map[string]Voice{g.cfg.Voices, Voices} {
			for k, v := range table {
				if strings.EqualFold(k, t) {
					return v, true
				}
			}
		}
	}
	return Voice{}, false
}

// speaker is a language with its voice; English when the user's language
// has no voice.
type speaker struct {
	lang  *locale.Lang
	voice Voice
}

func (g *Gateway) speaker(pc *phone.PendingCall) speaker {
	if pc != nil && pc.Lang != nil {
		if v, ok := g.VoiceFor(pc.Lang.Tag); ok {
			return speaker{pc.Lang, v}
		}
	}
	en, _ := g.VoiceFor("en")
	if pc != nil && pc.Fallback != nil {
		return speaker{pc.Fallback, en}
	}
	return speaker{english(), en}
}

// english is the embedded catalog's English, for a call that brings no
// language at all; never nil.
var english = sync.OnceValue(func() *locale.Lang {
	if cat, err := locale.Load(locales.FS); err == nil {
		if l := cat.Lang(locale.Source); l != nil {
			return l
		}
	}
	return locale.From(&gin.Context{}) // an English that answers message ids
})

func (s speaker) say(text string) twiml.VoiceSay {
	return twiml.VoiceSay{Message: text, Language: s.voice.Language, Voice: s.voice.Voice}
}

// spell reads a code digit by digit with pauses: "1. 2. 3. 4. 5. 6".
func spell(token string) string {
	parts := make([]string, 0, len(token))
	for _, r := range token {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, ". ")
}

// CallRoutes mounts the TwiML endpoint, a POST from Twilio's servers.
func (g *Gateway) CallRoutes(r gin.IRouter, calls phone.Calls) {
	r.POST(phone.CallbackPath+":id/", func(c *gin.Context) { g.twiml(c, calls) })
}

// twiml answers Twilio: without Digits a greeting that waits for a key,
// with Digits the code (once).
func (g *Gateway) twiml(c *gin.Context, calls phone.Calls) {
	id := c.Param("id")
	if !g.signed(c, id) {
		return
	}
	ctx := c.Request.Context()
	var verbs []twiml.Element
	if _, pressed := c.Request.PostForm["Digits"]; !pressed {
		pc, err := calls.PeekCall(ctx, id)
		if err != nil && !errors.Is(err, phone.ErrNoCall) {
			g.fail(c, err)
			return
		}
		s := g.speaker(pc)
		if pc == nil {
			verbs = []twiml.Element{s.say(s.lang.T("phone_call_gone")), twiml.VoiceHangup{}}
		} else {
			greeting := s.lang.T("phone_call_greeting", "Site", s.lang.T("site_name"))
			verbs = []twiml.Element{
				twiml.VoiceGather{Action: g.CallbackURL(id), Method: http.MethodPost, NumDigits: "1", Timeout: "15",
					InnerElements: []twiml.Element{s.say(greeting)}},
				s.say(s.lang.T("phone_call_no_input")),
				twiml.VoiceHangup{},
			}
		}
	} else {
		pc, err := calls.TakeCall(ctx, id)
		if err != nil && !errors.Is(err, phone.ErrNoCall) {
			g.fail(c, err)
			return
		}
		s := g.speaker(pc)
		if pc == nil {
			verbs = []twiml.Element{s.say(s.lang.T("phone_call_gone")), twiml.VoiceHangup{}}
		} else {
			verbs = []twiml.Element{s.say(s.lang.T("phone_call_token", "Token", spell(pc.Token))), twiml.VoiceHangup{}}
		}
	}
	doc, err := twiml.Voice(verbs)
	if err != nil {
		g.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/xml; charset=utf-8", []byte(doc))
}

// signed checks X-Twilio-Signature over the callback URL and the POST
// parameters (twilio-go's validator compares in constant time), and that
// a posted AccountSid is ours. A refusal answers 403.
func (g *Gateway) signed(c *gin.Context, id string) bool {
	sig := c.GetHeader("X-Twilio-Signature")
	params := make(map[string]string, len(c.Request.PostForm))
	for k, vs := range c.Request.PostForm {
		if len(vs) != 1 {
			g.refuse(c, "repeated parameter "+k)
			return false
		}
		params[k] = vs[0]
	}
	switch {
	case sig == "":
		g.refuse(c, "no X-Twilio-Signature")
		return false
	case g.base == "":
		g.refuse(c, "no GATEHOUSE_PUBLIC_URL to check the signature against")
		return false
	case !g.validator.Validate(g.CallbackURL(id), params, sig):
		g.refuse(c, "bad X-Twilio-Signature")
		return false
	case params["AccountSid"] != "" && params["AccountSid"] != g.cfg.AccountSID:
		g.refuse(c, "another account's request")
		return false
	}
	return true
}

func (g *Gateway) refuse(c *gin.Context, reason string) {
	httpx.Logger(c.Request.Context()).WarnContext(c.Request.Context(), "twilio: callback refused", "path", c.Request.URL.Path, "reason", reason)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatus(http.StatusForbidden)
}

func (g *Gateway) fail(c *gin.Context, err error) {
	_ = c.Error(err)
	httpx.Logger(c.Request.Context()).ErrorContext(c.Request.Context(), "twilio: callback failed", "path", c.Request.URL.Path, "err", err)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatus(http.StatusInternalServerError)
}
