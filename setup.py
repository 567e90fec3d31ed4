"""For scrapyd-deploy, which builds its egg with ``python setup.py bdist_egg``; everything else
is in pyproject.toml (without this file, scrapyd-deploy would write a setup.py of its own)."""

from setuptools import setup

setup()
