# Thin verbs over the course's commands. Every verb sets the course up first if needed.
#   make lab        set up and open the course in JupyterLab (LAB_ROOT=. serves the repository
#                   root instead of course/, as formgrader needs; LAB_ARGS=... more options)
#   make test       set up and run the whole test suite (what CI runs; installs chromium as root)
#
# The instructor's verbs run `python -m autograde VERB` (autograde/cli.py); its options are
# variables. ASSIGNMENT defaults to 01-perceptron; for release, grade and execute it may name several
# ("01-perceptron 02-gradient-descent"; grade runs them in one batch); for release and execute, none
# (ASSIGNMENT=, every assignment).
#   make release    regenerate course/ASSIGNMENT/ from solutions/    FORCE=1 (--force: overwrite)
#   make collect    copy a folder or an LMS zip into autograde/submitted/
#                   SOURCE=folder-or-zip (required) ROSTER=csv (--roster) FORCE=1 (--force)
#   make grade      grade autograde/submitted/*/ASSIGNMENT in sandboxes
#                   WORKERS=N (--workers) SCHEDULER=tcp://host:8786 (--scheduler)
#                   FORCE=1 (--force: grade again) MEMORY=3G (--memory: per submission)
#                   NO_SANDBOX=1 (--no-sandbox: trusted code only) PROFILE=1 (--profile: where the time went)
#   make report     pass rates, common failures and flagged submissions    TOP=N (--top)
#   make feedback   HTML feedback for the graded submissions of ASSIGNMENT
#   make export     grades to autograde/exports/grades.csv and an LMS import file beside it
#                   TO=file.csv (--to) LMS=moodle|canvas (--lms, default moodle)
#   make execute    re-run solutions/ASSIGNMENT in quick mode and store its outputs (contributors)
#   make similarity answers alike between students or with the course's code (instructor only)
#                   THRESHOLD=0.5 (--threshold) JSON=1 (--json: a JSON list instead of the table)
#   make publish    write the student edition into DEST (required)
#                   ASSIGNMENTS="01-perceptron ..." (--assignments: publish those; default every one)
#                   REVEAL="01-perceptron ..." (--reveal: ship those references) REPOSITORY=url (--repository)
# SOURCE, ROSTER, TO and DEST are passed quoted: paths with spaces are fine (SOURCE="Moodle export.zip").

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dlcourse-installed
# The environment's own commands first, as if it were activated: nbgrader's gradebook runs
# `alembic` from PATH (formgrader failed without it).
export PATH := $(abspath $(VENV))/bin:$(PATH)
ASSIGNMENT ?= 01-perceptron
LAB_ROOT ?= course
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup browser lab lint test release collect grade report feedback export execute similarity publish clean-venv

setup: $(STAMP)

# torch goes in first, alone, at the version requirements.txt pins: resolved together with
# the rest, a loose torch requirement can pull a multi-GB CUDA build.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: $(PYTHON) is " + sys.version.split()[0] + ". Run make PYTHON=python3.11 ...")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$$(grep -E '^torch==' requirements.txt)"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(LAB_ROOT) $(ROOT_FLAG) $(LAB_ARGS)

test: setup browser lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The rules pyproject.toml's [tool.ruff] selects (imports, undefined names, likely bugs, 120 columns).
lint: setup
	$(PY) -m ruff check .

# The browser tests (tests/test_browser.py) drive Debian's chromium, never a downloaded browser.
# Run as root with apt-get at hand, this installs it; otherwise it says how, and those tests skip.
browser:
	@if [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "could not install chromium with apt-get: the browser tests will be skipped"; \
	else \
		echo "chromium is not installed: the browser tests will be skipped (sudo apt-get install chromium)"; \
	fi

# One shell word for a path, whatever it holds: '...' with each ' written '\''.
quote = '$(subst ','\'',$(1))'

release: setup
	$(PY) -m autograde release $(ASSIGNMENT) $(if $(FORCE),--force,)

collect: setup
	$(if $(SOURCE),,$(error make collect needs SOURCE=folder-or-zip))
	$(PY) -m autograde collect $(call quote,$(SOURCE)) $(ASSIGNMENT) $(if $(ROSTER),--roster $(call quote,$(ROSTER)),) $(if $(FORCE),--force,)

grade: setup
	$(PY) -m autograde grade $(ASSIGNMENT) $(if $(WORKERS),--workers $(WORKERS),) $(if $(SCHEDULER),--scheduler $(SCHEDULER),) $(if $(FORCE),--force,) $(if $(MEMORY),--memory $(MEMORY),) $(if $(NO_SANDBOX),--no-sandbox,) $(if $(PROFILE),--profile,)

report: setup
	$(PY) -m autograde report $(ASSIGNMENT) $(if $(TOP),--top $(TOP),)

feedback: setup
	$(PY) -m autograde feedback $(ASSIGNMENT)

export: setup
	$(PY) -m autograde export $(if $(TO),--to $(call quote,$(TO)),) $(if $(LMS),--lms $(LMS),)

execute: setup
	$(PY) -m autograde execute $(ASSIGNMENT)

similarity: setup
	$(PY) -m autograde similarity $(ASSIGNMENT) $(if $(THRESHOLD),--threshold $(THRESHOLD),) $(if $(JSON),--json,)

# make publish DEST=../students ASSIGNMENTS="03-backprop" REVEAL="01-perceptron 02-gradient-descent" REPOSITORY=...
publish: setup
	$(PY) -m autograde publish "$(DEST)" $(if $(ASSIGNMENTS),--assignments $(ASSIGNMENTS),) $(if $(REVEAL),--reveal $(REVEAL),) $(if $(REPOSITORY),--repository $(REPOSITORY),)

clean-venv:
	rm -rf $(VENV)
