package httpx

import "testing"

func TestSafeRedirect(t *testing.T) {
	bad := []string{
		"", "//evil.com", "/\\evil.com", "\\\\evil.com", "https://evil.com", "http://evil.com/",
		"javascript:alert(1)", "JavaScript:alert(1)", "%2F%2Fevil.com", "/%2F/evil.com", "%252F%252Fevil.com",
		"\t/evil.com", "/\t/evil.com", "http:evil.com", "http:/evil.com", "evil.com", "data:text/html,x",
		"/ok\r\nLocation: http://evil.com", "/%0d%0aSet-Cookie:x", "/\x00", "///evil.com", "/\\/evil.com",
		"/%5Cevil.com", " /admin/", "/admin/\u2028",
	}
	for _, b := range bad {
		if got, ok := SafeRedirect(b); ok {
			t.Errorf("SafeRedirect(%q) accepted as %q", b, got)
		}
	}
	good := []string{"/admin/", "/admin/library/book/?q=a&o=1", "/account/two_factor/", "/a/b#frag"}
	for _, g := range good {
		if got, ok := SafeRedirect(g); !ok || got != g {
			t.Errorf("SafeRedirect(%q) = %q, %v; want it kept", g, got, ok)
		}
	}
	if RedirectOr("//evil.com", "/home/") != "/home/" {
		t.Error("RedirectOr must fall back for unsafe targets")
	}
}

func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/a", "//b", "/\\c", "%2f%2fd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := SafeRedirect(s)
		if !ok {
			return
		}
		if len(got) < 1 || got[0] != '/' || (len(got) > 1 && (got[1] == '/' || got[1] == '\\')) {
			t.Fatalf("unsafe target accepted: %q", got)
		}
	})
}
