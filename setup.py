"""Package discovery for the one `mlledger` namespace (DESIGN.md: the repository's top-level
folders are its subpackages). pyproject.toml holds everything else; setuptools cannot map a
discovered tree under a prefix from pyproject alone, so the list is computed here, never kept
by hand: a new subpackage ships without anyone remembering to list it."""

from setuptools import find_packages, setup

EXCLUDED = ["tests", "tests.*", "bench", "bench.*", "build", "build.*", "ui.node_modules*"]

setup(packages=["mlledger", *(f"mlledger.{p}" for p in find_packages(".", exclude=EXCLUDED))])
