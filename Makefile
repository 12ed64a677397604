# Two commands for a newcomer: `make run` starts the demo site, `make test`
# runs every test. htmx is committed under static/vendor/ (the exact npm
# file pinned in package-lock.json); `make assets` refreshes it after a
# change of the lockfile, `make check-htmx` proves it is that file.

HTMX := static/vendor/htmx.min.js

.PHONY: run test bench assets check-htmx fuzz

run:
	go run ./cmd/site serve

test:
	go vet ./...
	go test -race -count=1 -timeout 30m ./...

bench:
	go test -run '^$$' -bench . -benchmem ./auth/ ./admin/

# npm ci checks the package against the lockfile's integrity hash.
node_modules/htmx.org/dist/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

assets: node_modules/htmx.org/dist/htmx.min.js
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

check-htmx:
	npm ci --no-audit --no-fund --loglevel=error
	cmp node_modules/htmx.org/dist/htmx.min.js $(HTMX)
	@echo "htmx: static/vendor matches the lockfile's package"

# Every fuzz target on a parser that faces the network, FUZZTIME each.
FUZZTIME ?= 10s
FUZZ := ./auth:FuzzOpenRemember ./auth:FuzzOpenDevice ./auth:FuzzCanonicalDigits \
	./auth:FuzzCanonicalBackup ./internal/httpx:FuzzSafeRedirect \
	./internal/httpx:FuzzRequestIDToken ./internal/httpx:FuzzParseProxies \
	./auth/yubikey:FuzzParseOTP ./auth/yubikey:FuzzParseResponse ./auth/phone:FuzzParseNumber

fuzz:
	@for t in $(FUZZ); do \
	  echo "fuzz $${t#*:} ($(FUZZTIME))"; \
	  go test $${t%%:*} -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) || exit 1; \
	done
