// Command inventory is a small internal tool built on Gatehouse's public
// API only: suppliers, items and stock moves in an always-two-factor admin.
// It shows the data rules a developer relies on: declared relations decide
// what a delete does, a scope hides rows everywhere they could appear,
// unique columns are form errors, and two people editing one item cannot
// overwrite each other.
//
//	go run . -addr localhost:8001
//
// prints a one-time link that creates the first superuser.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
)

// Supplier delivers items. Its items protect it from deletion.
type Supplier struct {
	ID     uint   `gorm:"primaryKey"`
	Name   string `gorm:"size:100;not null;uniqueIndex"`
	Active bool   `gorm:"not null;default:true"`
	Items  []Item `gorm:"constraint:OnDelete:RESTRICT"`
}

func (s *Supplier) String() string { return s.Name }

// Item is stocked; its moves go with it.
type Item struct {
	ID         uint        `gorm:"primaryKey"`
	SKU        string      `gorm:"column:sku;size:20;not null;uniqueIndex"`
	Name       string      `gorm:"size:100;not null"`
	SupplierID uint        `gorm:"not null;index"`
	Supplier   *Supplier   `gorm:"constraint:OnDelete:RESTRICT"`
	Qty        int         `gorm:"not null;default:0;check:qty >= 0"`
	Moves      []StockMove `gorm:"constraint:OnDelete:CASCADE"`
}

func (i *Item) String() string { return i.SKU + " " + i.Name }

// StockMove is one delivery or withdrawal of an item.
type StockMove struct {
	ID     uint   `gorm:"primaryKey"`
	ItemID uint   `gorm:"not null;index"`
	Qty    int    `gorm:"not null"`
	Note   string `gorm:"size:100;not null"`
}

// activeOnly is the supplier scope: staff who are not superusers see only
// active suppliers, on their changelist and wherever suppliers appear
// (the item form's select, filters, posted ids).
func activeOnly(c *gin.Context, db *gorm.DB) *gorm.DB {
	if u := auth.UserFrom(c); u != nil && u.IsSuperuser {
		return db
	}
	return db.Where("active = ?", true)
}

// Mount migrates the models, registers their admins and mounts the admin
// on e.
func Mount(s *auth.Service, e *gin.Engine) error {
	ctx := context.Background()
	if err := s.DB().WithContext(ctx).AutoMigrate(&Supplier{}, &Item{}, &StockMove{}); err != nil {
		return err
	}
	site := admin.NewSite(s, admin.Options{})
	admin.Register(site, admin.ModelAdmin[Supplier]{
		App: "inventory", ListDisplay: []string{"name", "active"}, SearchFields: []string{"name"},
		ListFilter: []admin.Filter{admin.BoolFilter("active")}, Scope: activeOnly,
	})
	admin.Register(site, admin.ModelAdmin[Item]{
		App: "inventory", ListDisplay: []string{"sku", "name", "supplier_id", "qty"},
		SearchFields: []string{"sku", "name"}, Ordering: []string{"sku"},
		Inlines: []admin.Inline{{Field: "Moves", Fields: []string{"qty", "note"}, Extra: 1}},
	})
	admin.Register(site, admin.ModelAdmin[StockMove]{App: "inventory", ListDisplay: []string{"item_id", "qty", "note"}})
	if err := site.Migrate(ctx); err != nil {
		return err
	}
	site.Mount(e)
	return nil
}

func main() {
	addr := flag.String("addr", "localhost:8001", "address to listen on")
	dbPath := flag.String("db", "inventory.db", "SQLite database file")
	flag.Parse()
	key := os.Getenv("INVENTORY_SECRET_KEY")
	if len(key) < 32 {
		log.Fatal("INVENTORY_SECRET_KEY: set 32 or more random bytes (e.g. openssl rand -hex 32)")
	}
	// foreign_keys=on: the database enforces the same delete rules as the admin.
	db, err := gorm.Open(sqlite.Open(*dbPath+"?_foreign_keys=on&_busy_timeout=5000"), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	cfg := auth.Defaults()
	cfg.SecretKey = []byte(key)
	a, err := auth.New(db, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Migrate(context.Background()); err != nil {
		log.Fatal(err)
	}
	e := a.Engine()
	if err := Mount(a, e); err != nil {
		log.Fatal(err)
	}
	if has, _ := a.HasSuperuser(context.Background()); !has {
		link, err := a.BootstrapLink(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("Create the first superuser at http://%s%s\n", *addr, link)
	}
	fmt.Printf("Inventory admin at http://%s/admin/\n", *addr)
	srv := &http.Server{Addr: *addr, Handler: auth.Handler(e), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
