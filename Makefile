# phigate: the two commands a new user needs are `make run` and `make test`.
#
# Every target installs what it is missing first, so they work from a clean clone on a
# fresh Debian 12 machine with the Swift toolchain at /opt/swift. Nothing is installed
# twice: Debian packages are checked with dpkg first, and the Python environment for the
# interop tests is rebuilt only when Tests/interop/requirements.txt changes.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

export PATH := $(PATH):/opt/swift/usr/bin
export DEBIAN_FRONTEND := noninteractive

SWIFT ?= swift
PYTHON ?= python3
CONFIG ?= Config/phigate.json

# Libraries the package links against and the tools the tests and `make run` call.
SYSTEM_PACKAGES := libssl-dev libsqlite3-dev zlib1g-dev pkg-config curl openssl sqlite3 testssl.sh
# The load generator and the reference server for `make bench` only.
BENCH_PACKAGES := wrk nginx-light

VENV := .venv
REQUIREMENTS := Tests/interop/requirements.txt
# A copy of the requirements the venv was built from; a difference means "reinstall".
VENV_STAMP := $(VENV)/requirements.installed

# Runs a command as root: directly when we are root, through sudo otherwise.
AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo)

# $(call apt_install,PACKAGES): installs those of PACKAGES that dpkg does not know as
# installed, with one `apt-get update` first; does nothing when all are present.
define apt_install
missing=(); \
for pkg in $(1); do \
  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$$pkg"); \
done; \
if [ $${#missing[@]} -gt 0 ]; then \
  echo "Installing Debian packages: $${missing[*]}"; \
  $(AS_ROOT) apt-get update -qq; \
  $(AS_ROOT) apt-get install -y -qq --no-install-recommends "$${missing[@]}"; \
fi
endef

.PHONY: help
help:
	@echo "make run     build (release) and serve with $(CONFIG)"
	@echo "make test    Swift unit tests, then the black-box interop tests"
	@echo "make bench   wrk against nginx and phigate, results in bench-out/"
	@echo "make format  swift format, in place"
	@echo "make deps    install the Debian packages and the Python venv"

.PHONY: deps
deps: system-deps venv

.PHONY: system-deps
system-deps:
	@command -v $(SWIFT) >/dev/null \
	  || { echo "swift not found: install the toolchain at /opt/swift" >&2; exit 1; }
	@pkgs="$(SYSTEM_PACKAGES)"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || pkgs="$$pkgs python3 python3-venv"; \
	$(call apt_install,$$pkgs)

.PHONY: bench-deps
bench-deps:
	@$(call apt_install,$(BENCH_PACKAGES))

.PHONY: venv
venv: system-deps
	@if [ ! -x $(VENV)/bin/python ]; then \
	  echo "Creating $(VENV)"; \
	  rm -rf $(VENV); \
	  $(PYTHON) -m venv $(VENV); \
	fi
	@if ! cmp -s $(REQUIREMENTS) $(VENV_STAMP); then \
	  echo "Installing $(REQUIREMENTS) into $(VENV)"; \
	  $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	    -r $(REQUIREMENTS); \
	  cp $(REQUIREMENTS) $(VENV_STAMP); \
	fi

.PHONY: build
build: system-deps
	$(SWIFT) build -c release

.PHONY: run
run: build
	.build/release/phigate serve --config $(CONFIG)

# Both halves always run, so one report shows every failure; the target fails if either
# half failed.
.PHONY: test
test: deps
	@status=0; \
	echo "== swift test"; \
	if $(SWIFT) build --build-tests && $(SWIFT) test --skip-build; then :; else status=1; fi; \
	echo "== interop (pytest)"; \
	if $(SWIFT) build --product phigate; then \
	  bin="$$($(SWIFT) build --show-bin-path)/phigate"; \
	  PHIGATE_BIN="$$bin" $(VENV)/bin/python -m pytest -q Tests/interop || status=1; \
	else \
	  status=1; \
	fi; \
	exit $$status

.PHONY: bench
bench: system-deps bench-deps venv
	$(SWIFT) build -c release
	PHIGATE_BIN="$$($(SWIFT) build -c release --show-bin-path)/phigate" Tests/bench/run.sh

.PHONY: format
format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift
