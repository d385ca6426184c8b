"""The API reference covers every public module: each one has an ``automodule`` directive
under docs/, or is an implementation module whose public names a documented module
re-exports. A new public module without a page fails here, long before anyone builds the
site (``python -m sphinx -W --keep-going -b html docs docs/_build/html``)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

# implementation modules -> the documented modules that re-export their public names (every
# name in their __all__ must be an attribute of one of them)
INTERNAL: dict[str, str | tuple[str, ...]] = {
    "minigrad.tensor": "minigrad",
    "minigrad.creation": "minigrad",
    "minigrad.size": "minigrad",
    "minigrad.parallel": "minigrad",
    "minigrad.gradcheck": "minigrad",
    "minigrad.autograd.function": "minigrad.autograd",
    "minigrad.autograd.higher_order": "minigrad.autograd",
    "minigrad.data.*": "minigrad.data",
    "minigrad.optim.*": "minigrad.optim",
    "minigrad.testing.*": "minigrad.testing",
    "minigrad.functional_*": "minigrad.functional",
    "nn.*": ("nn", "nn.functional"),
    "nn.utils.*": "nn.utils",
}
# names in an implementation module's __all__ that no documented module re-exports
NOT_REEXPORTED = {
    "nn.attention.NonDynamicallyQuantizableLinear": "MultiheadAttention's out_proj class; "
    "PyTorch keeps it out of torch.nn too",
    "nn.utils.spectral_norm.SpectralNorm": "the hook behind nn.utils.spectral_norm, "
    "a function that shadows its module's name, as in PyTorch",
    "nn.utils.weight_norm.WeightNorm": "the hook behind nn.utils.weight_norm (see above)",
    "nn.utils.weight_norm.norm_except_dim": "a helper of weight_norm, as in PyTorch",
}
# modules with no page, each with the reason
UNDOCUMENTED: dict[str, str] = {
    "minigrad.api.*": "op declarations: the Tensor page and the functions page list their ops",
    "minigrad.ops.*": "the engine's primitives, on ndarrays: the ops that call them are documented",
    "minigrad.promotion": "PyTorch's type promotion rules, applied by the ops",
    "minigrad.fileio": "atomic file writes behind minigrad.save",
    "minigrad.testing.plugin": "the pytest plugin, loaded by its entry point",
}

DIRECTIVE = re.compile(r"(?:^\.\. automodule::|^```\{automodule\})[ \t]+([\w.]+)", re.M)


def documented_modules() -> set[str]:
    found: set[str] = set()
    for page in [*DOCS.rglob("*.rst"), *DOCS.rglob("*.md")]:
        if "_build" in page.parts or "_generated" in page.parts:
            continue
        found.update(DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    return found


def public_modules() -> list[str]:
    import minigrad
    import nn

    names = ["minigrad", "nn"]
    for package in (minigrad, nn):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return sorted(names)


def _match(table: dict, name: str) -> str | None:
    """The key of ``table`` that ``name`` falls under, most specific first: the name itself,
    ``pkg.*`` (pkg and every module below it) or ``pkg.prefix*`` (names starting so)."""
    if name in table:
        return name
    for key in sorted(table, key=len, reverse=True):
        if key.endswith(".*") and (name == key[:-2] or name.startswith(key[:-1])):
            return key
        if key.endswith("*") and not key.endswith(".*") and name.startswith(key[:-1]):
            return key
    return None


def test_the_directive_pattern_finds_the_pages():
    documented = documented_modules()
    assert {"minigrad", "nn", "nn.functional", "minigrad.optim", "minigrad.autograd"} <= documented


@pytest.mark.parametrize("name", public_modules())
def test_every_public_module_has_a_page_or_a_documented_home(name):
    documented = documented_modules()
    if name in documented:
        return
    if _match(UNDOCUMENTED, name):
        return
    key = _match(INTERNAL, name)
    assert key is not None, (
        f"{name} is a public module with no page: add an automodule directive for it under "
        "docs/api/, or, if it is an implementation module whose names another module "
        "re-exports, list it in INTERNAL in tests/test_docs.py (or prefix its name with _)")
    value = INTERNAL[key]
    homes = (value,) if isinstance(value, str) else value
    for home in homes:
        assert home in documented, f"{name}'s names are documented through {home}: no page"
    module = importlib.import_module(name)
    exported = [importlib.import_module(home) for home in homes]
    missing = [n for n in getattr(module, "__all__", [])
               if f"{name}.{n}" not in NOT_REEXPORTED
               and not any(hasattr(home, n) for home in exported)]
    assert not missing, (
        f"{name} is documented through {homes}, which do not export {missing}: export them "
        "there, give the module a page of its own, or say why in NOT_REEXPORTED")


def test_every_page_names_a_module_that_exists():
    for name in sorted(documented_modules()):
        importlib.import_module(name)


def test_the_tables_name_modules_that_exist():
    names = public_modules()
    for key in [*INTERNAL, *UNDOCUMENTED]:
        assert any(_match({key: None}, n) for n in names), f"{key} matches no module"
    for qualified in NOT_REEXPORTED:
        module, _, attr = qualified.rpartition(".")
        assert attr in importlib.import_module(module).__all__, qualified
