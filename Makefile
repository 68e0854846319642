# sdbuild: build, test, demo, install.
GO      ?= go
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
CMDS    := sdbuild sdbuildd sdbuild-testbed

# Packages with tests that need a running systemd (//go:build integration).
INTEGRATION_PKGS = $(shell grep -rlE --include='*_test.go' '^//go:build (integration|.*[ &|]integration)\b' . | xargs -r -n1 dirname | sort -u)

.PHONY: all build test test-host test-integration vet demo bench bench-rootless deps install clean

all: build

build: $(addprefix bin/,$(CMDS))

bin/%: FORCE
	$(GO) build -trimpath -o $@ ./cmd/$*

FORCE:

# Everything: unit tests; as root the sandbox, slot and output tests with
# real namespaces; then, inside a throwaway systemd, the tests that need
# systemd, D-Bus and journald.
test: vet test-host test-integration

test-host:
	$(GO) test -count=1 ./...

# -p 1: some integration tests restart D-Bus or systemd itself.
test-integration: bin/sdbuild-testbed
	bin/sdbuild-testbed run -- $(GO) test -count=1 -p 1 -tags integration $(INTEGRATION_PKGS)

# Packages that describe builds rather than run them, which build on any OS
# (see go.mod).
PORTABLE_PKGS = ./api ./config ./history ./buildlog

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	GOOS=darwin $(GO) build $(PORTABLE_PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }

# A real build through the socket-activated daemon, in a throwaway systemd.
demo: deps build
	bin/sdbuild-testbed run -- contrib/demo.sh

# The README's speed table: builds through the daemon beside systemd-run
# --scope and unshare, on this machine, in a throwaway systemd.
bench: deps build
	bin/sdbuild-testbed run -- contrib/bench.sh

# The same for an unprivileged user's own daemon, on subordinate ids.
bench-rootless: deps build
	bin/sdbuild-testbed run -- contrib/bench-rootless.sh

deps:
	contrib/install-deps

install: build
	install -D -m 0755 bin/sdbuild $(DESTDIR)$(BINDIR)/sdbuild
	install -D -m 0755 bin/sdbuildd $(DESTDIR)$(BINDIR)/sdbuildd
	bin/sdbuild install-units --system --bindir $(BINDIR) --dir $(DESTDIR)/etc/systemd/system $(if $(DESTDIR),--no-reload)

clean:
	rm -rf bin
