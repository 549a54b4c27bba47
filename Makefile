# Two commands do all the set-up: `make book` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Where MNIST and Fashion-MNIST live; empty means the library's default (downloaded on first use).
GAN_TEACH_DATA ?=
export GAN_TEACH_DATA

.PHONY: setup book execute book-execute book-execute-fast check-outputs notebooks check-book student test lint \
        test-unit test-notebooks test-widgets7 benchmark clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "gan-teach needs Python 3.10 or newer, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

# The book from the outputs stored in the notebooks (execution is off in _config.yml): seconds, no training.
# It refuses to start when a stored output is an error or a traceback: such a page must never be published.
# The Chinese edition (book/zh, _config.zh.yml, _toc.zh.yml) is a second book, built beside it into _build/html/zh:
# each page's language switch links to its twin with a relative link, so the two work together from file://.
book: setup
	$(BIN)/python -m gan_teach.course.stored_outputs check --errors-only
	$(BIN)/python -m gan_teach.course.stored_outputs --book book/zh check --errors-only
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/jupyter-book build . --config _config.zh.yml --toc _toc.zh.yml --path-output _build/zh -W -n --keep-going
	rm -rf _build/html/zh && cp -R _build/zh/_build/html _build/html/zh

# Maintainers: re-execute the chapters in full (the runs the prose describes; about an hour on an idle 2-core CPU),
# write the outputs back into book/*.ipynb and stamp each notebook with its mode and a hash of its code.
# `make execute NOTEBOOKS="book/lab.ipynb book/math.ipynb"` re-executes only those. Commit the result.
NOTEBOOKS ?=
execute: setup
	$(BIN)/python -m gan_teach.course.stored_outputs execute --mode full $(NOTEBOOKS)

book-execute: execute
	$(MAKE) --no-print-directory book

# A preview of a fresh execution in fast mode (CI's short runs) into _build/fast/_build/html; book/ is not touched.
# The changed config sits beside _config.yml because Jupyter Book resolves its paths from the config's folder.
book-execute-fast: setup
	sed 's/^\(  execute_notebooks:\).*/\1 force/' _config.yml > .config-execute-fast.yml
	GAN_TEACH_FAST=1 $(BIN)/jupyter-book build . --config .config-execute-fast.yml --path-output _build/fast \
	    -W -n --keep-going; status=$$?; rm -f .config-execute-fast.yml; exit $$status

# The stored outputs: no error output or traceback anywhere, and each chapter stamped as a full run of its code.
check-outputs: setup
	$(BIN)/python -m gan_teach.course.stored_outputs check

# The notebook edition for Colab and Jupyter (notebooks/book/*.ipynb), generated from book/; commit it.
notebooks: setup
	$(BIN)/python -m gan_teach.course.notebook_edition

# The built book in headless Chromium (needs Debian's chromium and chromium-driver): every page loads
# without a JavaScript error, its math is typeset, its figures show; the lab chapter's live lab trains and the
# latent page's live generators run.
check-book: book
	$(BIN)/python -m pytest -m browser -p no:cacheprovider tests/test_rendered_book.py tests/test_live_lab.py \
	    tests/test_live_latent.py

# The student edition: every chapter notebook without its solutions (exercises, starter cells and checks kept).
STUDENT_DIR ?= _build/student
student: setup
	$(BIN)/gan-teach-course student-edition --book book --out $(STUDENT_DIR)
	$(BIN)/gan-teach-course student-edition --book book/zh --out $(STUDENT_DIR)/zh

test: lint test-unit test-notebooks

# ruff: lint and format check (configured in pyproject.toml); `ruff format .` fixes the format.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-unit: setup
	$(BIN)/python -m pytest tests gan_teach

# nbval executes every chapter (fast mode under CI=true) and compares the cells marked to be checked; one chapter
# of the notebook edition runs too (its code is the book's: see CONTRIBUTING.md).
EDITION_NBVAL ?= notebooks/book/math.ipynb
test-notebooks: setup
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider book $(EDITION_NBVAL)

# The widget tests (pytest -m widgets) under ipywidgets 7.x, as Colab shipped it for years; `make test` runs them under
# the 8.x of $(VENV). Only ipywidgets 7 (and ipython_genutils, which 7.6 and later import) goes into
# $(WIDGETS7_DIR)/<version>, put in front of $(VENV) on PYTHONPATH: torch, the kernel and the rest stay $(VENV)'s, and
# nothing is downloaded twice. The frontend packages (widgetsnbextension, jupyterlab_widgets) are left out: these
# tests play the frontend themselves. 7.5.0 is the floor in pyproject.toml (older 7.x fail to import on Python 3.10+).
# Old 7.x releases warn about newer ipykernel and traitlets (DeprecationWarning, silenced here); the tests record the
# warnings of our own widget code themselves. `make test-widgets7 WIDGETS7_VERSIONS="7.5.0 7.7.1 7.8.5"` tries several.
WIDGETS7_VERSIONS ?= 7.5.0
WIDGETS7_DIR ?= _build/widgets7
test-widgets7: setup
	@for version in $(WIDGETS7_VERSIONS); do \
	    target="$(CURDIR)/$(WIDGETS7_DIR)/$$version"; \
	    if [ ! -f "$$target/.installed" ]; then \
	        $(BIN)/python -m pip install --quiet --no-deps --target "$$target" \
	            "ipywidgets==$$version" "ipython_genutils~=0.2.0" && touch "$$target/.installed" || exit 1; \
	    fi; \
	    echo "widget tests under ipywidgets $$version"; \
	    GAN_TEACH_EXPECT_IPYWIDGETS=$$version PYTHONPATH="$$target$${PYTHONPATH:+:$$PYTHONPATH}" \
	        $(BIN)/python -m pytest -q -m widgets -p no:cacheprovider -W ignore::DeprecationWarning tests/instruments \
	        || exit 1; \
	done

benchmark: setup
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf _build .pytest_cache
