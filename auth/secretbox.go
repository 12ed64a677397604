package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// keyring derives purpose-bound keys from the site secret with HKDF, so one
// secret never serves two purposes.
type keyring struct {
	aead        cipher.AEAD // device keys at rest (AES-256-GCM)
	backupMAC   []byte      // backup-code hashes
	cookieMAC   []byte      // remember and device cookies
	linkMAC     []byte      // one-time links
	throttleMAC []byte      // throttle key names
}

func newKeyring(secret []byte) (*keyring, error) {
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, secret, nil, "gatehouse "+info, 32)
		if err != nil {
			panic(err) // only for lengths HKDF cannot give; 32 always works
		}
		return k
	}
	block, err := aes.NewCipher(derive("device keys"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &keyring{aead: aead, backupMAC: derive("backup codes"), cookieMAC: derive("remember cookie"), linkMAC: derive("one-time links"),
		throttleMAC: derive("throttle keys")}, nil
}

// seal encrypts plain, bound to context (e.g. "totp/42") so a ciphertext
// moved to another row does not open.
func (k *keyring) seal(plain []byte, context string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return k.aead.Seal(nonce, nonce, plain, []byte(context))
}

var errSealed = errors.New("device key does not decrypt: wrong GATEHOUSE_SECRET_KEY or tampered row")

func (k *keyring) open(sealed []byte, context string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errSealed
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}

func mac(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}
