"""Sphinx configuration of minigrad's documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.

The API pages are autodoc directives on the imported packages, so the ops that
``minigrad/declare.py`` attaches to ``Tensor`` and to ``minigrad`` at import time appear as
the methods and functions they are. The guides are Markdown (MyST); the porting and
performance guides include their sections of README.md, cut out at build time
(``_ext/minigrad_docs.py``), so the text lives in one place.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the checkout's minigrad and nn, installed or not
sys.path.insert(0, str(DOCS / "_ext"))

import minigrad  # noqa: E402

project = "minigrad"
author = "the minigrad authors"
copyright = "the minigrad authors"  # noqa: A001  (Sphinx's name for it)
release = minigrad.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
    "minigrad_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_generated/*.md", "Thumbs.db", ".DS_Store"]

# autodoc: signatures as written (the annotations are strings under ``from __future__ import
# annotations``), members in source order, no private members
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# undoc-members: a public function or class with no docstring is still listed (docs/_ext
# checks that every one in a documented module's __all__ appears)
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autoclass_content = "both"  # the class docstring and the __init__ docstring

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"minigrad {release}"
html_static_path: list[str] = []
