# sdbuild: build, test, demo, install, package.
GO      ?= go
GOLDFLAGS ?=
GOBUILDFLAGS ?=
CMDS    := sdbuild sdbuildd sdbuild-init sdbuild-testbed
# Where the binaries, man pages and package staging go. The tests of make
# install and make deb (packaging/) point it at a temporary directory, so
# that a test run leaves bin/ as make build left it. (contrib/'s scripts,
# which make demo and make bench run, look in bin/.)
BUILDDIR ?= bin

# Where make install puts things (under $(DESTDIR)). sdbuildd is started
# by systemd, system and user managers alike, never by hand: it goes to
# libexec, off everyone's PATH. Units go where systemd looks for a
# distribution's units (its vendor directories), not /etc/systemd/system,
# which is the administrator's.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/sdbuild
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
SYSTEMDSYSTEMUNITDIR ?= $(call pkgvar,systemd,systemdsystemunitdir,/usr/lib/systemd/system)
SYSTEMDUSERUNITDIR   ?= $(call pkgvar,systemd,systemduserunitdir,/usr/lib/systemd/user)
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
# pkgvar PACKAGE,VARIABLE,FALLBACK: a pkg-config variable, else FALLBACK.
pkgvar = $(or $(shell pkg-config --variable=$(2) $(1) 2>/dev/null),$(3))

# The version man pages and the package carry, from git (packaging/version).
VERSION ?= $(shell packaging/version)
# make deb writes sdbuild_$(VERSION)_<arch>.deb here.
DEBDIR  ?= $(BUILDDIR)

# Packages with tests that need a running systemd (//go:build integration).
INTEGRATION_PKGS = $(shell grep -rlE --include='*_test.go' '^//go:build (integration|.*[ &|]integration)\b' . | xargs -r -n1 dirname | sort -u)

.PHONY: all build test test-host test-integration vet demo bench bench-rootless deps docs install deb clean proto

all: build

build: $(addprefix $(BUILDDIR)/,$(CMDS))

# The binaries name the same version as the package and the man pages
# (sdbuild --version, /v1/status), also where go build embeds no VCS
# information (-buildvcs=false, a tarball).
$(BUILDDIR)/%: FORCE
	$(GO) build -trimpath $(GOBUILDFLAGS) -ldflags '$(GOLDFLAGS) -X github.com/sdbuild/sdbuild/internal/version.override=$(VERSION)' -o $@ ./cmd/$*

# The client starts once per build: linked without cgo it needs no dynamic
# loader at each start (about 2 ms of CPU and wall time less here; its
# user lookups then read /etc/passwd, and $USER and $HOME otherwise). The
# daemon keeps cgo, for NSS user and group names. The Debian package
# links every binary as PIE externally, which needs cgo: it sets CLIENT_CGO=1.
CLIENT_CGO ?= 0
$(BUILDDIR)/sdbuild: export CGO_ENABLED = $(CLIENT_CGO)

# sdbuild-init starts with every build (cmd/sdbuild-init): static,
# without cgo, so no dynamic loader runs before it. Go's own linker makes
# it, which takes neither -buildmode=pie (that would bring the loader back)
# nor an external linker's flags: those of make deb are left out for it.
$(BUILDDIR)/sdbuild-init: export CGO_ENABLED := 0
$(BUILDDIR)/sdbuild-init: override GOBUILDFLAGS := $(filter-out -buildmode=%,$(GOBUILDFLAGS))
$(BUILDDIR)/sdbuild-init: override GOLDFLAGS := $(filter-out -linkmode=% -extldflags=%,$(GOLDFLAGS))

# sdbuild with its hidden gen-docs command (cmd/sdbuild/gendocs.go).
$(BUILDDIR)/sdbuild-gendocs: FORCE
	$(GO) build -trimpath -tags gendocs -o $@ ./cmd/sdbuild

# Man pages and shell completions, from the commands and config keys.
docs: $(BUILDDIR)/sdbuild-gendocs
	rm -rf $(BUILDDIR)/docs
	$(BUILDDIR)/sdbuild-gendocs gen-docs --version '$(VERSION)' --date "$$(git log -1 --format=%ct 2>/dev/null || echo 0)" $(BUILDDIR)/docs

FORCE:

# Everything: unit tests; as root the sandbox, slot and output tests with
# real namespaces; then, inside a throwaway systemd, the tests that need
# systemd, D-Bus and journald.
test: vet test-host test-integration

test-host:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags gendocs ./cmd/sdbuild

# -p 1: some integration tests restart D-Bus or systemd itself.
test-integration: $(BUILDDIR)/sdbuild-testbed
	$(BUILDDIR)/sdbuild-testbed run -- $(GO) test -count=1 -p 1 -tags integration $(INTEGRATION_PKGS)

# Packages that describe builds rather than run them, which build on any OS
# (see go.mod).
PORTABLE_PKGS = ./api ./config ./history ./buildlog

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags gendocs ./cmd/sdbuild
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

# The runner protocol's Go code, which is committed: protoc (Debian's
# protobuf-compiler) with the Go plugins at the versions go.mod pins.
PROTOC_GEN_GO      ?= google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC ?= google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
proto:
	GOBIN=$(CURDIR)/bin $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(CURDIR)/bin $(GO) install $(PROTOC_GEN_GO_GRPC)
	PATH=$(CURDIR)/bin:$$PATH protoc -I bbrunner/pb \
		--go_out=. --go_opt=module=github.com/sdbuild/sdbuild \
		--go-grpc_out=. --go-grpc_opt=module=github.com/sdbuild/sdbuild \
		bbrunner/pb/*.proto

install: $(BUILDDIR)/sdbuild $(BUILDDIR)/sdbuildd $(BUILDDIR)/sdbuild-init docs
	install -D -m 0755 $(BUILDDIR)/sdbuild $(DESTDIR)$(BINDIR)/sdbuild
	install -D -m 0755 $(BUILDDIR)/sdbuildd $(DESTDIR)$(LIBEXECDIR)/sdbuildd
	install -D -m 0755 $(BUILDDIR)/sdbuild-init $(DESTDIR)$(LIBEXECDIR)/sdbuild-init
	$(BUILDDIR)/sdbuild install-units --system --bindir $(LIBEXECDIR) --dir $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR) $(if $(DESTDIR),--no-reload)
	$(BUILDDIR)/sdbuild install-units --user --no-reload --bindir $(LIBEXECDIR) --dir $(DESTDIR)$(SYSTEMDUSERUNITDIR)
	install -D -m 0644 $(BUILDDIR)/docs/completions/bash/sdbuild $(DESTDIR)$(BASHCOMPDIR)/sdbuild
	install -D -m 0644 $(BUILDDIR)/docs/completions/zsh/_sdbuild $(DESTDIR)$(ZSHCOMPDIR)/_sdbuild
	install -D -m 0644 $(BUILDDIR)/docs/completions/fish/sdbuild.fish $(DESTDIR)$(FISHCOMPDIR)/sdbuild.fish
	for s in 1 5 8; do install -d $(DESTDIR)$(MANDIR)/man$$s && install -m 0644 $(BUILDDIR)/docs/man$$s/* $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done

# The Debian package, from this tree: make install into a staging root,
# then packaging/build-deb (dpkg-deb). Debian's zsh looks in
# vendor-completions, not site-functions. The binaries are built as Debian
# builds C programs: position-independent, relocations read-only after
# start (relro, now), without symbol tables (Go keeps its own for traces).
deb:
	rm -rf $(BUILDDIR)/deb-root
	$(MAKE) install DESTDIR=$(abspath $(BUILDDIR))/deb-root PREFIX=/usr ZSHCOMPDIR=/usr/share/zsh/vendor-completions \
		GOBUILDFLAGS=-buildmode=pie GOLDFLAGS='-s -w -linkmode=external -extldflags=-Wl,-z,relro,-z,now' CLIENT_CGO=1 VERSION='$(VERSION)' >/dev/null
	GO='$(GO)' packaging/build-deb $(BUILDDIR)/deb-root '$(VERSION)' $(DEBDIR)

# make print-VAR prints a variable as make sees it (the tests read the
# unit directory this way).
print-%:
	@echo '$($*)'

clean:
	rm -rf $(BUILDDIR)
