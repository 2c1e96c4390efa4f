"""The workshop is executed by tests/test_notebooks.py (Run All, then every solution loaded), not
by nbmake's plain run."""

collect_ignore = ["04_workshop.ipynb"]
