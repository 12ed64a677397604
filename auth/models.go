package auth

import (
	"time"
)

// User is a person who can log in. Password holds an argon2id hash and is
// never shown, listed or searched.
type User struct {
	ID          uint   `gorm:"primaryKey"`
	Username    string `gorm:"size:150;not null;uniqueIndex"`
	Email       string `gorm:"size:254"`
	FirstName   string `gorm:"size:150"`
	LastName    string `gorm:"size:150"`
	Password    string `gorm:"size:255;not null" json:"-"`
	IsActive    bool   `gorm:"not null;default:true"`
	IsStaff     bool   `gorm:"not null;default:false"`
	IsSuperuser bool   `gorm:"not null;default:false"`
	// Epoch is the credential epoch: it grows when the password changes or
	// devices are removed, which ends other sessions and remembered browsers.
	Epoch int64 `gorm:"not null;default:1"`
	// DeviceEpoch grows with every change to the user's devices (confirm,
	// add, remove): a pending login or enrolment made before the change
	// carries the old value and is refused.
	DeviceEpoch int64 `gorm:"not null;default:1"`
	DateJoined  time.Time
	LastLogin   *time.Time
	Groups      []Group      `gorm:"many2many:auth_user_groups"`
	Permissions []Permission `gorm:"many2many:auth_user_permissions"`
}

// TableName is auth_user.
func (User) TableName() string { return "auth_user" }

// String is the username.
func (u *User) String() string { return u.Username }

// Group gathers permissions for users.
type Group struct {
	ID          uint         `gorm:"primaryKey"`
	Name        string       `gorm:"size:150;not null;uniqueIndex"`
	Permissions []Permission `gorm:"many2many:auth_group_permissions"`
}

// TableName is auth_group.
func (Group) TableName() string { return "auth_group" }

// Permission is one action on one model, e.g. app "library", codename "change_book".
type Permission struct {
	ID       uint   `gorm:"primaryKey"`
	App      string `gorm:"size:100;not null;uniqueIndex:idx_perm"`
	Codename string `gorm:"size:100;not null;uniqueIndex:idx_perm"`
	Name     string `gorm:"size:255"`
}

// TableName is auth_permission.
func (Permission) TableName() string { return "auth_permission" }

// bootstrapToken is the hashed one-time secret of the first-superuser link.
type bootstrapToken struct {
	Hash      string `gorm:"primaryKey;size:64"`
	ExpiresAt time.Time
}

func (bootstrapToken) TableName() string { return "auth_bootstrap_token" }
