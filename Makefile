# apexone.certificates - developer entry points.
#   make demo   build the collection, generate the lab, run the preflight on it
#   make test   unit tests, playbook tests, PowerShell static checks, linters, ansible-test sanity
# Everything is installed into .venv and .build from a clean state; nothing global is touched.

SHELL        := /bin/bash -o pipefail
PYTHON       ?= python3
VENV         := .venv
BUILD        := .build
BIN          := $(CURDIR)/$(VENV)/bin
COLLECTIONS  := $(CURDIR)/$(BUILD)/collections
DEPS         := $(CURDIR)/$(BUILD)/deps
INSTALLED    := $(COLLECTIONS)/ansible_collections/apexone/certificates
LAB          := $(CURDIR)/lab
# The community collections we test against come from the PyPI "ansible" package (Galaxy is not needed).
ANSIBLE_PKG  ?= ansible>=11,<13
VERSION      := $(shell sed -n 's/^version: *//p' galaxy.yml)

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS):$(DEPS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/$(BUILD)/tmp
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export PATH := $(BIN):$(PATH)

.PHONY: all venv deps install demo lab test unit playbook-tests lint sanity fuzz bench mutation clean help mono lane lane-env ee-context ee-lock

help:
	@echo "make demo   - build, generate the lab and run the preflight on it"
	@echo "make test   - every test and linter (what CI runs)"
	@echo "make fuzz   - longer property-based fuzzing"
	@echo "make bench  - benchmarks with ratios"
	@echo "make lane   - the minimum-versions lane alone (declared floors and newest versions)"
	@echo "make ee-context - the execution environment's build context in .build/ee (EE_GALAXY_KEYRING=<file> to verify signatures)"
	@echo "make ee-lock    - re-lock ee-constraints.txt (hashes) from ee-requirements.in"
	@echo "make mutation - mutation testing of the planner and the checks (not in make test; see CONTRIBUTING-internal)"
	@echo "make clean  - remove .venv, .build and lab"

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.stamp

# ansible.windows, community.crypto, community.windows and microsoft.iis, taken out of the PyPI ansible wheel.
$(DEPS)/.stamp: $(VENV)/.stamp
	rm -rf $(DEPS) $(BUILD)/wheel && mkdir -p $(DEPS) $(BUILD)/wheel
	$(BIN)/python -m pip download --quiet --no-deps -d $(BUILD)/wheel '$(ANSIBLE_PKG)'
	$(BIN)/python hack/extract_collections.py $(BUILD)/wheel $(DEPS) \
		ansible.windows community.crypto community.windows microsoft.iis
	touch $@

deps: $(DEPS)/.stamp

# Build the collection tarball and install it the way users do (no Galaxy: --no-deps).
install: deps
	mkdir -p $(BUILD)/dist $(BUILD)/tmp
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist . >/dev/null
	$(BIN)/ansible-galaxy collection install --force --no-deps -p $(COLLECTIONS) \
		$(BUILD)/dist/apexone-certificates-$(VERSION).tar.gz >/dev/null
	@echo "installed apexone.certificates $(VERSION) into $(COLLECTIONS)"

lab: install
	$(BIN)/python tests/lab/make_lab.py --out $(LAB)

demo: lab
	$(BIN)/ansible-playbook -i $(LAB)/inventory.yml playbooks/preflight.yml \
		-e apexone_cert_report_only=true -e apexone_cert_summary_path=$(LAB)/preflight.json
	@echo "JSON summary: $(LAB)/preflight.json"
	$(BIN)/python tests/lab/serve_lab.py --lab $(LAB) --lifetime 100 -- \
		$(BIN)/ansible-playbook -i $(LAB)/audit-inventory.yml playbooks/audit.yml -e apexone_cert_report_dir=$(LAB)/report
	@echo "Fleet audit report: $(LAB)/report/report.html (open it in a browser); data: $(LAB)/report/report.json"

# The fleet audit alone: local TLS servers (127.0.0.1, stop by themselves) serve the lab fleet's certificates,
# playbooks/audit.yml probes them (no WinRM for lab hosts) and writes the report.
.PHONY: demo-audit
demo-audit: lab
	$(BIN)/python tests/lab/serve_lab.py --lab $(LAB) --lifetime 100 -- \
		$(BIN)/ansible-playbook -i $(LAB)/audit-inventory.yml playbooks/audit.yml -e apexone_cert_report_dir=$(LAB)/report
	@echo "Fleet audit report: $(LAB)/report/report.html (open it in a browser); data: $(LAB)/report/report.json"

# Mono's C# compiler and runtime (Debian package mono-mcs) for tests/unit/powershell/test_csharp.py: every C# source
# is compiled as Add-Type compiles it on Windows PowerShell 5.1. Installed with apt-get when missing; an install that
# fails stops make (the C# tests are never skipped).
mono:
	@if command -v mcs >/dev/null 2>&1 && command -v mono >/dev/null 2>&1; then exit 0; fi; \
	echo "installing mono-mcs (Mono C# compiler) with apt-get for the C# checks"; \
	SUDO=; if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	{ $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mono-mcs; } \
		|| { echo "ERROR: cannot install mono-mcs with apt-get; install Mono's C# compiler (mcs) and rerun" >&2; exit 1; }; \
	command -v mcs >/dev/null 2>&1 || { echo "ERROR: mono-mcs installed but mcs is not on PATH" >&2; exit 1; }

unit: install mono lane-env
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

# Minimum-versions lane (hack/lane.py, tests/unit/lane): a venv with ansible-core and the Python requirements at the
# floors meta/runtime.yml and requirements.txt declare, and the ansible.windows floor of galaxy.yml (plus the newest)
# taken out of the PyPI ansible wheels; cached under .build/lane, keyed on those versions. Fails loudly when a floor
# does not install here. make test runs the floor's playbook run and the static scans; make lane adds the newest
# lane's playbook run (APEXONE_LANE_NEWEST=1).
lane-env: install
	$(BIN)/python hack/lane.py prepare

lane: lane-env
	APEXONE_LANE_NEWEST=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/lane

# The execution environment's build context (ansible-builder create; no container runtime needed). With
# EE_GALAXY_KEYRING=<keyring> the galaxy stage verifies collection signatures (EE_SIGNATURE_COUNT valid ones, default
# 1; "+1", refusing unsigned collections, is a build argument: docs/awx.md). The base image digest is a build argument
# of `ansible-builder build` too.
EE_CONTEXT         ?= $(BUILD)/ee
EE_SIGNATURE_COUNT ?= 1
ee-context: venv
	rm -rf $(EE_CONTEXT)
	$(BIN)/ansible-builder create -f execution-environment.yml --context $(EE_CONTEXT) --output-filename Containerfile \
		$(if $(EE_GALAXY_KEYRING),--galaxy-keyring $(EE_GALAXY_KEYRING) --galaxy-required-valid-signature-count $(EE_SIGNATURE_COUNT))
	@echo "build context: $(EE_CONTEXT) (build with --build-arg EE_BASE_IMAGE=<image>@sha256:<digest>)"

# ee-constraints.txt: every Python package of the execution environment with its hashes (pip-compile), from
# ee-requirements.in. pip-tools lives in its own venv under .build/lock.
LOCK_VENV := $(BUILD)/lock/venv
ee-lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet 'pip-tools>=7.4,<8'; }
	env -u PIP_FIND_LINKS $(LOCK_VENV)/bin/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --no-emit-trusted-host -o ee-constraints.txt ee-requirements.in

lint: venv
	$(BIN)/ruff check .
	NO_COLOR=1 $(BIN)/ansible-lint --profile production --offline roles playbooks extensions/molecule
	$(BIN)/antsibull-changelog lint

sanity: install
	$(BIN)/python hack/ansible_test_sanity.py $(INSTALLED)

test: unit lint sanity
	@echo "make test: all checks passed"

# The hypothesis properties with the "fuzz" profile (5000 examples each), then the coverage-guided atheris target
# tests/fuzz/fuzz_controller_parsers.py for FUZZ_SECONDS (default 120) when atheris installs for this Python;
# a crash leaves its input in .build/fuzz/crash-*.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider -m "fuzz or property" tests/unit
	@$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet atheris \
		|| echo "atheris does not install for this Python: the hypothesis run above was the fuzzing"
	@if $(BIN)/python -c "import atheris" 2>/dev/null; then \
		mkdir -p $(BUILD)/fuzz && cd $(BUILD)/fuzz && \
		$(BIN)/python $(CURDIR)/tests/fuzz/fuzz_controller_parsers.py -max_total_time=$${FUZZ_SECONDS:-120} \
			-rss_limit_mb=4096; \
	fi

bench: install
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

# Mutation testing (mutmut) of the controller's decision code: _planner.py, _x509.py, _report.py, _apexone_files.py,
# the judging part of _tls_probe.py, _enroll.py and _certreq.py, each with its fast unit tests only. Prints killed / total and every surviving
# mutant per file; fails when a file kills under 90% of its mutants (equivalent ones are listed, with their reason,
# in hack/mutation_equivalents.yml). Not part of make test (CI does not run it).
# By default it runs a deterministic fifth of each file's mutants (--sample 0.2: a mutant is in when the SHA-256 of
# "apexone:<mutant name>" falls in the first fifth of the hash space; same code, same sample), which is what fits
# 30 minutes on these shared 2-core machines (measured: see docs/CONTRIBUTING-internal.md); the 90% threshold is
# judged on that sample. MUTATION_ARGS="--sample 1" runs every mutant (hours on a shared machine). While iterating:
# MUTATION_ARGS="--target planner --sample 0.2 --function _stop_order" (targets: planner, x509, report, files,
# tls_probe, enroll, certreq).
# mutmut is pinned: hack/mutation.py reads its result files and uses its mutant generator to sample.
MUTMUT       ?= mutmut==3.8.1
MUTATION_JOBS ?= 2
MUTATION_ARGS ?= --sample 0.2
mutation: venv
	@$(BIN)/python -m pip install --quiet '$(MUTMUT)'
	MUTATION_JOBS=$(MUTATION_JOBS) nice -n $${MUTATION_NICE:-15} $(BIN)/python hack/mutation.py $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) $(BUILD) $(LAB)
