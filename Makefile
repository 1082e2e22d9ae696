# `make docs` builds the documentation site into site/ (needs `pip install -e ".[docs]"`).
.PHONY: docs
docs:
	mkdocs build --strict
