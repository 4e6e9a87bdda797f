# Training Deep Neural Networks: the two commands are `make book` and `make test`.
# Every target sets itself up: a .venv with the pinned stack, course_utils in
# editable mode, the Debian packages the target needs (Fashion-MNIST, bubblewrap,
# chromium; apt-get as root or with passwordless sudo, otherwise a message that
# lists them), and the data. A second run skips what is already there.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup data book test test-fast lint lab release grade bench robustness clean

# Which Debian packages `course setup` makes sure of: the targets below set it.
SETUP_FOR ?= test

setup: $(STAMP)
	@$(BIN)/course setup --for $(SETUP_FOR)
	@$(BIN)/course data ensure

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

data: $(STAMP)
	@$(BIN)/course data ensure

book lab: SETUP_FOR = book
grade: SETUP_FOR = grade
bench robustness: SETUP_FOR = bench

book: setup
	$(BIN)/course book
	@echo "Book built: open file://$(CURDIR)/_build/html/index.html"

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything that starts no kernel, grading run, book build or browser (a few minutes).
test-fast: setup lint
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

lab: setup
	$(BIN)/jupyter lab exercises/

release: setup
	$(BIN)/course setup-cell
	$(BIN)/course release $(ASSIGNMENTS)

# make grade ASSIGNMENT=ch01_unstable_gradients SUBMISSIONS=path/to/submissions
grade: setup
	$(BIN)/course grade $(GRADE_ARGS) $(ASSIGNMENT) $(SUBMISSIONS)

bench: setup
	$(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

# Every book page executed fresh with COURSE_SEED=1 and 2: the claims must hold.
robustness: setup
	$(BIN)/python -m tests.robustness $(ROBUSTNESS_ARGS)

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -type d -prune -not -path "./$(VENV)/*" -exec rm -rf {} +
