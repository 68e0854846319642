# sdbuild: build, test, install.
GO      ?= go
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
BIN     := bin/sdbuild bin/sdbuildd

.PHONY: all build test vet install clean

all: build

build: $(BIN)

bin/%: FORCE
	$(GO) build -trimpath -o $@ ./cmd/$*

FORCE:

# Unit tests everywhere; as root also the sandbox, slot and output tests,
# which create real namespaces, mounts and processes.
test: vet
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }

install: build
	install -D -m 0755 bin/sdbuild $(DESTDIR)$(BINDIR)/sdbuild
	install -D -m 0755 bin/sdbuildd $(DESTDIR)$(BINDIR)/sdbuildd

clean:
	rm -rf bin
