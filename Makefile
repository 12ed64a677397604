# Two commands for a newcomer: `make run` starts the demo site, `make test`
# runs every test. Both fetch htmx from npm (pinned in package-lock.json).

HTMX := static/vendor/htmx.min.js

.PHONY: run test bench assets

run: $(HTMX)
	go run ./cmd/site serve

test: $(HTMX)
	go vet ./...
	go test -race -count=1 -timeout 30m ./...

bench: $(HTMX)
	go test -run '^$$' -bench . -benchmem ./auth/ ./admin/

assets: $(HTMX)

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@
