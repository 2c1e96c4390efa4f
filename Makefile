# Everything installs into a project-local virtual environment (.venv).
# torch==2.13.0 (CPU wheel) goes in first and constraints.txt pins it for every
# later install: an unpinned torch requirement would pull several GB of CUDA packages.

VENV ?= .venv
PY := $(VENV)/bin/python
# uv installs the packages (pip only installs uv): 3.4 minutes against pip's 4.5, measured on this
# 2-core machine at load 3. It does not read pip's configuration, so the folder of local wheels
# that pip is set up with (where this machine keeps the CPU torch wheel) is passed on to it.
UV_INSTALL := $(VENV)/bin/uv pip install -q --python $(PY) --compile-bytecode \
	$(foreach d,$(wildcard /opt/wheels),--find-links $(d))

# Browser tests and figure export (kaleido) use Debian's chromium; it is installed here when missing.
CHROMIUM := /usr/bin/chromium
# The genome tests read pyfaidx's example data (40 kb of human chr17, bgzip-compressed mRNAs) from Debian.
GENOME := /usr/share/doc/python-pyfaidx-examples/examples/chr17.hg19.part.fa
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo check test lab docs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip -q install uv==0.13.9
	$(UV_INSTALL) torch==2.13.0
	$(UV_INSTALL) -c constraints.txt -e ".[test]"
	touch $@

demo: install
	$(VENV)/bin/dnabert-viz demo

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq --no-install-recommends chromium

$(GENOME):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq --no-install-recommends python-pyfaidx-examples

lab: install
	$(VENV)/bin/jupyter lab notebooks/

# The docs site into site/ (mkdocs.yml). The notebooks run on the first build and again only when
# one changes (pages cached in .cache/mkdocs-jupyter; DOCS_EXECUTE=false builds without running them).
docs: install
	$(VENV)/bin/mkdocs build --strict

# The tests spread over JOBS processes (pytest-xdist; tests of the demo pipeline share one so it
# runs once); the browser, lab and ray tiers run after them one at a time, since each drives
# chromium, a live JupyterLab or a Ray cluster that wants every core. Figures of both targets
# (wall, CPU, load): benchmarks/README.md, "The test tiers".
JOBS ?= 2
XDIST := -n $(JOBS) --dist loadgroup

# The edit loop: lint and every test but the slow tiers (markers in pyproject.toml): trainings,
# modisco and the demo pipeline (slow), chromium (browser), the notebooks in JupyterLab (lab) and
# a Ray cluster (ray); so it needs the test genome, not chromium.
check: install $(GENOME)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(XDIST) -m "not slow and not browser and not lab and not ray"

# Everything, every tier: what CI runs (.ci/run).
test: install $(CHROMIUM) $(GENOME)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(XDIST) -m "not browser and not lab and not ray"
	$(PY) -m pytest -m "browser or lab or ray"

clean:
	rm -rf $(VENV) .pytest_cache .cache site
