# Two commands do all the set-up: `make book` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Where MNIST and Fashion-MNIST live; empty means the library's default (downloaded on first use).
GAN_TEACH_DATA ?=
export GAN_TEACH_DATA

.PHONY: setup book check-book student test lint test-unit test-notebooks benchmark clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "gan-teach needs Python 3.10 or newer, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going

# The built book in headless Chromium (needs Debian's chromium and chromium-driver): every page loads
# without a JavaScript error, its math is typeset, its figures show.
check-book: book
	$(BIN)/python -m pytest -m browser -p no:cacheprovider tests/test_rendered_book.py

# The student edition: every chapter notebook without its solutions (exercises, starter cells and checks kept).
STUDENT_DIR ?= _build/student
student: setup
	$(BIN)/gan-teach-course student-edition --book book --out $(STUDENT_DIR)

test: lint test-unit test-notebooks

# ruff: lint and format check (configured in pyproject.toml); `ruff format .` fixes the format.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-unit: setup
	$(BIN)/python -m pytest tests gan_teach

test-notebooks: setup
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider book

benchmark: setup
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf _build .pytest_cache
