# Thin wrapper over build.sh, which holds the logic.
PREFIX ?= $(HOME)/.local

.PHONY: all publish install check test bench release clean
all publish:
	./build.sh publish
install:
	./build.sh install "$(PREFIX)"
check:
	./build.sh check
test:
	./build.sh test
bench:
	./build.sh bench
release:
	./build.sh release
clean:
	rm -rf dist out src/*/bin src/*/obj tests/*/bin tests/*/obj
