# tuijian — two commands: `make demo` (the whole 2023 campaign) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test bench lint fuzz check-documents clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,browser]'
	touch $(STAMP)

# Task-run INFO lines go to the Prefect API for every task; the demo keeps warnings only there,
# which takes a third of the load off the embedded SQLite server. Flow-run logs still reach the
# Prefect UI; the terminal shows the demo's own progress instead of them.
demo: $(STAMP)
	PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL=WARNING PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL=WARNING \
	  $(BIN)/tuijian demo $(ARGS)

# The dashboard's browser test needs Debian's Chromium and CJK fonts (no browser download);
# without them (no apt, no root) that one test skips and the rest run.
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest $(ARGS)

.PHONY: browser-deps
browser-deps:
	@command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-cjk >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) || \
	  echo "chromium not installed: the browser test will skip"

# The attack tests at length: many more hypothesis examples for hostile and random intake,
# and more SIGKILL scenarios (seeds) per database. `make test` runs the bounded profile.
FUZZ_EXAMPLES ?= 1000
KILL_SCENARIOS ?= 10
fuzz: $(STAMP)
	TUIJIAN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TUIJIAN_KILL_SCENARIOS=$(KILL_SCENARIOS) \
	  $(BIN)/python -m pytest tests/security tests/reliability tests/tasks/test_intake_fuzz.py -q $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/national.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Render one 汇总表 and one 推荐函 of a sample stage to PDF (LibreOffice) and keep page 1 as
# PNG under docs/ (installs LibreOffice, Noto CJK fonts and poppler from Debian if missing).
check-documents: $(STAMP)
	@if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null \
	    || ! test -d /usr/share/fonts/opentype/noto; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    libreoffice-core libreoffice-writer libreoffice-calc fonts-noto-cjk poppler-utils; \
	fi
	@if test -f out/2023-xinxi-xiaofei/manifest.json; then \
	  $(BIN)/python docs/render_documents.py --png-dir docs --demo-out out; \
	else $(BIN)/python docs/render_documents.py --png-dir docs; fi

clean:
	rm -rf var out

# The dashboard in real headless Chromium (Debian's chromium + Playwright for Python, no browser
# download); saves docs/dashboard.png.
.PHONY: browser-test
browser-test: $(STAMP) browser-deps
	$(BIN)/python -m pytest tests/browser -q $(ARGS)
