"""Sphinx helpers for minigrad's documentation.

- ``.. minigrad-functions::`` lists minigrad's torch-level functions of one family (the
  module that declares them, or that defines them) as ``autofunction`` entries, so the
  function pages follow the declarations instead of a hand-kept list. With ``:rest:`` it
  lists every public name of ``minigrad`` that no earlier entry on the page took; ``:names:``
  lists names first, in the order given (for the ops ``Tensor`` defines in its class body).
- README sections that the guides include are cut out of README.md at build time into
  ``docs/_generated/`` (``README_SECTIONS``); a renamed heading fails the build.
- Names that a module loads on first use (a module ``__getattr__``: minigrad.testing's
  hypothesis strategies) are loaded before autodoc looks, and every class and function in
  the ``__all__`` of a module documented with ``:members:`` must end up documented (a
  warning, so an error under ``-W``, otherwise).
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "_generated"

# file in docs/_generated/ -> heading of the README.md section it holds
README_SECTIONS = {
    "readme_semantics.md": "Semantics and where they differ from PyTorch",
    "readme_performance.md": "Performance",
}


def public_functions() -> dict[str, Any]:
    """minigrad's public top-level names other than modules, ``Tensor`` and dtypes (which
    their own pages document): name -> object."""
    import minigrad

    names = getattr(minigrad, "__all__", None) or [n for n in vars(minigrad) if n[0] != "_"]
    out = {}
    for name in names:
        obj = getattr(minigrad, name, None)
        if (obj is None or inspect.ismodule(obj) or obj is minigrad.Tensor
                or isinstance(obj, minigrad.dtype) or name == "process_settings"):
            continue
        out[name] = obj
    return out


def declaring_module(obj: Any) -> str:
    """The module that declares or defines ``obj`` (a declared op's wrapper keeps the
    declaring function's ``__module__``)."""
    return getattr(inspect.unwrap(obj), "__module__", None) or ""


class MinigradFunctions(SphinxDirective):
    """``autofunction`` entries for the public minigrad functions from some modules."""

    has_content = False
    option_spec = {
        "modules": directives.unchanged,
        "names": directives.unchanged,
        "rest": directives.flag,
        "exclude": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        taken: set[str] = self.env.temp_data.setdefault("minigrad_functions_taken", set())
        functions = public_functions()
        exclude = set((self.options.get("exclude") or "").split())
        if "rest" in self.options:
            names = sorted(set(functions) - taken - exclude)
        else:
            modules = (self.options.get("modules") or "").split()
            listed = (self.options.get("names") or "").split()
            unknown = [n for n in listed if n not in functions]
            if unknown:
                raise self.error(f"minigrad-functions: minigrad has no public {unknown}")
            names = [n for n in listed if n not in taken] + [
                n for n in sorted(functions) if n not in taken and n not in exclude
                and n not in listed and declaring_module(functions[n]) in modules]
            if not names:
                raise self.error(f"minigrad-functions: no public name from {modules}")
        taken.update(names)
        lines = StringList()
        for name in names:
            kind = "autoclass" if inspect.isclass(functions[name]) else (
                "autofunction" if callable(functions[name]) else "autodata")
            lines.append(f".. {kind}:: minigrad.{name}", self.get_source_info()[0])
            if kind == "autoclass":
                # a class is documented on its module's page; here it is listed only
                lines.append("   :no-index:", self.get_source_info()[0])
            lines.append("", self.get_source_info()[0])
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(lines, self.content_offset, node)
        return node.children


def readme_section(text: str, heading: str) -> str:
    """The body of README's ``## heading`` section, links made to work from docs/."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if match is None:
        raise ExtensionError(
            f"docs: README.md has no section '## {heading}' (docs/_ext/minigrad_docs.py "
            "README_SECTIONS names the sections the guides include; update it)")
    body = match.group(1)
    # README links are relative to the repository root: docs/x.md and docs/images/y.png are
    # pages and files of this site (absolute from the source folder); other paths are
    # files of the repository, shown as code
    body = re.sub(r"\]\(docs/([^)]+)\)", r"](/\1)", body)
    body = re.sub(r"(?<!!)\[([^\]]+)\]\((?!https?:|/|#)([^)]+)\)", r"\1 (`\2`)", body)
    return body


def write_readme_sections(app: Sphinx) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    GENERATED.mkdir(exist_ok=True)
    for filename, heading in README_SECTIONS.items():
        target = GENERATED / filename
        body = readme_section(text, heading)
        if not target.exists() or target.read_text(encoding="utf-8") != body:
            target.write_text(body, encoding="utf-8")


def load_lazy_names(app: Sphinx) -> None:
    """Put the names a module loads on first use into its namespace, where autodoc looks."""
    import sys

    for package in ("minigrad", "nn", "minigrad.testing"):
        importlib.import_module(package)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("minigrad", "nn") or "__getattr__" not in vars(module):
            continue
        for attr in getattr(module, "__all__", ()):
            if attr not in vars(module):
                setattr(module, attr, getattr(module, attr))


def record_module(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                  lines: list[str]) -> None:
    if what == "module" and options.get("members") is not None and hasattr(obj, "__all__"):
        modules = getattr(app.env, "minigrad_modules_with_members", {})
        modules[name] = list(obj.__all__)
        app.env.minigrad_modules_with_members = modules  # type: ignore[attr-defined]


def check_all_documented(app: Sphinx, env: Any) -> None:
    modules = getattr(env, "minigrad_modules_with_members", {})
    objects = env.get_domain("py").objects
    for module, names in sorted(modules.items()):
        for attr in names:
            obj = getattr(importlib.import_module(module), attr, None)
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
                # a submodule has its own page; autodoc lists a constant only when a ``#:``
                # comment documents it
                continue
            if f"{module}.{attr}" not in objects:
                logger.warning("docs: %s.%s is in %s.__all__ but not documented (does it "
                               "load on first use? does the page exclude it?)",
                               module, attr, module)


def merge_modules(app: Sphinx, env: Any, docnames: Any, other: Any) -> None:
    modules = getattr(env, "minigrad_modules_with_members", {})
    modules.update(getattr(other, "minigrad_modules_with_members", {}))
    env.minigrad_modules_with_members = modules


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("minigrad-functions", MinigradFunctions)
    app.connect("builder-inited", write_readme_sections)
    app.connect("builder-inited", load_lazy_names)
    app.connect("autodoc-process-docstring", record_module)
    app.connect("env-merge-info", merge_modules)
    app.connect("env-check-consistency", check_all_documented)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
