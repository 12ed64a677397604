package auth_test

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
)

// encodings are the forms a leaked password could take.
func encodings(p string) []string {
	return []string{p, url.QueryEscape(p), base64.StdEncoding.EncodeToString([]byte(p)),
		base64.RawURLEncoding.EncodeToString([]byte(p)), hex.EncodeToString([]byte(p))}
}
