package yubikey

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"strings"
)

// This file holds the Yubico OTP format: modhex, the 16-byte token block,
// its CRC and the AES-128 decryption local devices need.

// Modhex is the alphabet YubiKeys type in: the hex digits 0-f map to these
// letters, which sit on the same keys in most keyboard layouts.
const Modhex = "cbdefghijklnrtuv"

// TokenChars is the length of the encrypted part of an OTP in modhex.
const TokenChars = 32

// Lengths of a public id in modhex: YubiKeys allow 0 to 16 bytes; Gatehouse
// needs one to bind a device, and YubiCloud keys have 6 bytes (12 chars).
const (
	MinPublicIDChars = 2
	MaxPublicIDChars = 32
)

var (
	// ErrModhex means a string is not modhex of whole bytes.
	ErrModhex = errors.New("yubikey: not modhex")
	// ErrCRC means a decrypted token block fails its CRC check: a wrong
	// key, or a forged or damaged OTP.
	ErrCRC = errors.New("yubikey: token CRC check failed")
)

// ModhexDecode decodes modhex (lower or upper case) into bytes.
func ModhexDecode(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, ErrModhex
	}
	out := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		hi := strings.IndexByte(Modhex, lower(s[i]))
		lo := strings.IndexByte(Modhex, lower(s[i+1]))
		if hi < 0 || lo < 0 {
			return nil, ErrModhex
		}
		out[i/2] = byte(hi<<4 | lo)
	}
	return out, nil
}

// ModhexEncode encodes bytes as modhex.
func ModhexEncode(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = Modhex[c>>4], Modhex[c&0x0f]
	}
	return string(out)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// OTP is a syntactically valid YubiKey OTP: [public id][32-char token].
type OTP struct {
	Value    string // the whole OTP in lower-case modhex, as sent to a validation service
	PublicID string // modhex public id: identifies the key, not secret
	Token    string // the 32-char encrypted token block in modhex
}

// ParseOTP checks s before anything is sent or decrypted: surrounding
// white space is dropped, and what remains must be all modhex (either
// case), a 32-char token after a public id of 2 to 32 chars, whole bytes.
// Anything else (digits, letters of another keyboard layout, control
// characters) is not an OTP.
func ParseOTP(s string) (OTP, bool) {
	s = strings.TrimSpace(s)
	n := len(s)
	if n < TokenChars+MinPublicIDChars || n > TokenChars+MaxPublicIDChars || n%2 != 0 {
		return OTP{}, false
	}
	b := []byte(s)
	for i, c := range b {
		c = lower(c)
		if strings.IndexByte(Modhex, c) < 0 {
			return OTP{}, false
		}
		b[i] = c
	}
	v := string(b)
	return OTP{Value: v, PublicID: v[:n-TokenChars], Token: v[n-TokenChars:]}, true
}

// Block is a decrypted token block (yubico-c's yubikey_token_st).
type Block struct {
	PrivateID [6]byte // the secret id programmed with the key
	// Counter is the non-volatile usage counter; its high bit says the
	// OTP was triggered by caps lock. See UseCounter.
	Counter       uint16
	TimestampLow  uint16 // 8 Hz timer since power-up, low part
	TimestampHigh uint8
	Use           uint8 // session counter: touches since power-up (wraps at 255)
	Random        uint16
	CRC           uint16 // ones' complement of CRC16 over the first 14 bytes
}

// UseCounter is Counter without the caps-lock flag.
func (b Block) UseCounter() int { return int(b.Counter & 0x7fff) }

// Bytes is the 16-byte plaintext, little-endian as YubiKeys write it.
func (b Block) Bytes() []byte {
	out := make([]byte, 16)
	copy(out, b.PrivateID[:])
	binary.LittleEndian.PutUint16(out[6:], b.Counter)
	binary.LittleEndian.PutUint16(out[8:], b.TimestampLow)
	out[10] = b.TimestampHigh
	out[11] = b.Use
	binary.LittleEndian.PutUint16(out[12:], b.Random)
	binary.LittleEndian.PutUint16(out[14:], b.CRC)
	return out
}

// CRCResidue is what CRC16 gives over a whole valid block.
const CRCResidue = 0xf0b8

// CRC16 is the YubiKey CRC (ISO 13239: reflected polynomial 0x8408,
// initial value 0xffff, no final inversion).
func CRC16(data []byte) uint16 {
	crc := uint16(0xffff)
	for _, c := range data {
		crc ^= uint16(c)
		for range 8 {
			odd := crc&1 == 1
			crc >>= 1
			if odd {
				crc ^= 0x8408
			}
		}
	}
	return crc
}

// Decrypt decrypts a 32-char modhex token with a 16-byte AES key and
// checks the CRC. AES-ECB of one block is the block cipher itself.
func Decrypt(token string, key []byte) (Block, error) {
	if len(token) != TokenChars {
		return Block{}, ErrModhex
	}
	ct, err := ModhexDecode(token)
	if err != nil {
		return Block{}, err
	}
	c, err := aes.NewCipher(key)
	if err != nil {
		return Block{}, err
	}
	pt := make([]byte, aes.BlockSize)
	c.Decrypt(pt, ct)
	if CRC16(pt) != CRCResidue {
		return Block{}, ErrCRC
	}
	var b Block
	copy(b.PrivateID[:], pt[:6])
	b.Counter = binary.LittleEndian.Uint16(pt[6:])
	b.TimestampLow = binary.LittleEndian.Uint16(pt[8:])
	b.TimestampHigh = pt[10]
	b.Use = pt[11]
	b.Random = binary.LittleEndian.Uint16(pt[12:])
	b.CRC = binary.LittleEndian.Uint16(pt[14:])
	return b, nil
}

// SamePrivateID compares private ids in constant time.
func SamePrivateID(a, b []byte) bool {
	return len(a) == 6 && subtle.ConstantTimeCompare(a, b) == 1
}
