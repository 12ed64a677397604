// Package email holds the default templates of the emails Gatehouse sends
// (the email second factor's code). A site overrides a file by putting one
// of the same name in "email/" of its auth.Config.Templates.
//
// Templates see the message's data and call .T for translations:
//
//	code_subject.txt  text/template, one line
//	code_body.txt     text/template, the plain-text part
//	code_body.html    html/template, the HTML part
package email

import "embed"

// FS holds the email templates.
//
//go:embed *.txt *.html
var FS embed.FS
