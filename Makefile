# Two commands on a fresh machine: `make run` (the daemon on the embedded
# default config) and `make test`. Each creates the virtualenv it needs,
# pinned by constraints.txt (refresh it with `make lock`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c constraints.txt

.PHONY: run test test-fast check lock bench clean chromium

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[test,dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/ingestd run --config config/ingestd.toml

test: $(BIN)/.installed chromium
	$(BIN)/python -m pytest

# everything but the slow marks (the wheel install, the whole corpus)
test-fast: $(BIN)/.installed chromium
	$(BIN)/python -m pytest -m "not slow"

check: $(BIN)/.installed
	$(BIN)/ruff check ingestd tests bench
	$(BIN)/ruff format --check ingestd tests bench
	$(BIN)/mypy

# re-resolve every dependency (all extras) to its newest allowed version
lock: $(BIN)/.installed
	$(BIN)/pip-compile --quiet --upgrade --all-extras --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --no-header --annotation-style=line \
		-o constraints.txt pyproject.toml

bench: $(BIN)/.installed
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

# the status page's browser test needs Debian's chromium: installed when missing and
# this runs as root, else the test skips and says why (never a browser download)
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
		|| echo "chromium missing (not root or no apt-get): the status page browser test will skip"

clean:
	rm -rf $(VENV) dist build *.egg-info
