# 政务超级应用 — the two commands:  make run   |   make test
# Both create .venv (Python 3.11) and install the pinned dependencies on first use.

SHELL   := /bin/bash
PYTHON  ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

H5_BUILD := h5/dist/index.html
MINIAPP_DEPS := miniapp/node_modules/.installed
H5_SOURCES := h5/package.json h5/package-lock.json h5/vite.config.js h5/index.html $(shell find h5/src -type f 2>/dev/null)

.PHONY: run test setup lock clean system-deps test-deps screenshots lighthouse bench-halls

run: $(STAMP) system-deps $(H5_BUILD)
	$(PY) -m superapp

test: $(STAMP) test-deps $(H5_BUILD) $(MINIAPP_DEPS)
	$(PY) -m pytest

setup: $(STAMP) test-deps $(H5_BUILD) $(MINIAPP_DEPS)

# The H5 app: npm ci + vite build (the output is not committed; the app serves it).
$(H5_BUILD): $(H5_SOURCES)
	cd h5 && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent

# Screenshots of the main H5 screens for the README, taken by the browser tests.
screenshots: $(STAMP) test-deps $(H5_BUILD)
	rm -rf docs/screenshots
	SUPERAPP_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/superapp/test_e2e_h5.py

# Lighthouse mobile scores of the H5 app (npm lighthouse@12.2.3, pinned; 13.x needs Node 22),
# written into docs/PERFORMANCE.md. A measurement, not a test.
LIGHTHOUSE_DEPS := tools/lighthouse/node_modules/.installed
$(LIGHTHOUSE_DEPS): tools/lighthouse/package.json tools/lighthouse/package-lock.json
	cd tools/lighthouse && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lighthouse: $(STAMP) test-deps $(H5_BUILD) $(LIGHTHOUSE_DEPS)
	$(PY) bench/lighthouse.py --write

# One service hall's morning at 10x a busy hall's volume (bench/halls.py: take-a-number and
# call-next against a bare endpoint in the same run; figures in docs/PERFORMANCE.md). A
# measurement, not a test; BENCH_ARGS passes options, e.g. BENCH_ARGS="--segment 50".
bench-halls: $(STAMP)
	$(PY) bench/halls.py $(BENCH_ARGS)

# The mini-program: its npm packages (test and WeChat tools stay outside miniapp/miniprogram/,
# the uploaded package), and miniprogram_npm/ built by WeChat's own packNpm (miniprogram-ci).
$(MINIAPP_DEPS): miniapp/package.json miniapp/package-lock.json
	cd miniapp && npm ci --no-audit --no-fund --loglevel=error && node scripts/wechat.js pack
	@touch $@

# Debian packages (a CJK font for certificate images); a no-op when already there.
system-deps:
	@bash scripts/system-deps.sh

# ... plus Debian's Chromium for the browser tests.
test-deps:
	@bash scripts/system-deps.sh --test

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else f"Python 3.11 is required (found {v[0]}.{v[1]} at $(PYTHON)); set PYTHON=/path/to/python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[embedded,test]'
	@touch $(STAMP)

# Re-pin every dependency (run after changing pyproject.toml, then commit requirements.lock).
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet --disable-pip-version-check '.[embedded,test]'
	( echo "# Pinned versions for a reproducible install: pip install -c requirements.lock -e '.[embedded,test]'"; \
	  echo "# Regenerate with: make lock"; \
	  .lockvenv/bin/pip freeze --exclude-editable | grep -v '^superapp' ) > requirements.lock
	rm -rf .lockvenv build

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis h5/node_modules h5/dist miniapp/node_modules miniapp/miniprogram/miniprogram_npm tools/lighthouse/node_modules
