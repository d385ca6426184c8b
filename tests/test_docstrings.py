"""Every public name has a docstring of its own, and every public module says what it exports.

The public modules are listed below (what a user imports). For each, ``__all__`` must exist,
name only attributes that exist, and hold no private names. Each name in it needs a non-empty
docstring that is its own: a class whose docstring is a base class's (``object``, ``int``,
``Exception``, a generic base of the project) fails, and so does a callable instance showing
its type's docstring.

Constants are the rule's one exception: a name whose value is data (a number, a string, a
tuple, a dtype, a mapping: neither a class, a function nor a module) cannot carry a docstring
of its own, so it must be named, in double backquotes, in its module's docstring instead
(``minigrad.float32`` in minigrad's, ``MNIST_MEAN`` in minigrad.data's).

Every public attribute of ``Tensor`` (methods, properties, slots) needs its own docstring too,
and so does every public method or property that an exported class defines, unless it
overrides one of a project base class that has one (Sphinx shows the inherited docstring, as
each layer's ``forward`` shows ``Module.forward``'s).
"""

from __future__ import annotations

import importlib
import inspect
import types
from typing import Any

import pytest

import minigrad
from minigrad import Tensor
from minigrad.declare import FUNCTIONS

PUBLIC_MODULES = [
    "minigrad",
    "minigrad.functional",
    "minigrad.autograd",
    "minigrad.autograd.functional",
    "minigrad.optim",
    "minigrad.optim.lr_scheduler",
    "minigrad.data",
    "minigrad.testing",
    "minigrad.linalg",
    "minigrad.random",
    "minigrad.cuda",
    "minigrad.backends",
    "minigrad.backends.cudnn",
    "minigrad.backends.mps",
    "minigrad.accelerator",
    "minigrad.serialization",
    "minigrad.errors",
    "minigrad.declare",
    "minigrad.utils",
    "minigrad.utils.hooks",
    "nn",
    "nn.functional",
    "nn.init",
    "nn.utils",
    "nn.utils.rnn",
    "nn.utils.parametrize",
    "nn.utils.parametrizations",
]


def _module(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def _is_constant(value: Any) -> bool:
    return not (callable(value) or isinstance(value, (type, types.ModuleType)))


def _own_doc(value: Any) -> str | None:
    """The docstring that belongs to ``value`` itself, or None."""
    doc = inspect.getattr_static(value, "__doc__", None) if isinstance(value, type) else (
        getattr(value, "__doc__", None))
    if not isinstance(doc, str) or not doc.strip():
        return None
    if isinstance(value, type):
        if any(base.__doc__ == doc for base in value.__mro__[1:]):
            return None
    elif not isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                                types.ModuleType, property)):
        # a callable instance (functools.partial, an object with __call__) shows its type's doc
        cls = type(value)
        if doc == cls.__doc__ and cls.__module__.split(".")[0] not in ("minigrad", "nn"):
            return None
    return doc


def _undocumented(module_name: str) -> list[str]:
    module = _module(module_name)
    module_doc = module.__doc__ or ""
    missing = []
    for name in module.__all__:
        value = getattr(module, name)
        if _is_constant(value):
            if f"``{name}``" not in module_doc and f"``{module_name}.{name}``" not in module_doc:
                missing.append(f"{name} (constant: name it in the module docstring)")
        elif _own_doc(value) is None:
            missing.append(name)
    return missing


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_declares_all_and_every_name_exists(module_name: str) -> None:
    module = _module(module_name)
    assert _own_doc(module), f"{module_name} has no module docstring"
    assert hasattr(module, "__all__"), f"{module_name} has no __all__"
    names = list(module.__all__)
    assert len(names) == len(set(names)), f"{module_name}.__all__ repeats names"
    absent = [name for name in names if not hasattr(module, name)]
    assert not absent, f"{module_name}.__all__ names missing attributes: {absent}"
    private = [name for name in names if name.startswith("_")]
    assert not private, f"{module_name}.__all__ names private attributes: {private}"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_its_own_docstring(module_name: str) -> None:
    missing = _undocumented(module_name)
    assert not missing, f"{module_name}: {len(missing)} names lack a docstring: {missing}"


def test_minigrad_all_has_every_declared_op_and_no_module_or_helper() -> None:
    names = set(minigrad.__all__)
    assert set(FUNCTIONS) <= names, sorted(set(FUNCTIONS) - names)
    modules = [n for n in names if isinstance(getattr(minigrad, n), types.ModuleType)]
    assert not modules, f"minigrad.__all__ names modules: {modules}"
    for name in ("Tensor", "tensor", "zeros", "no_grad", "manual_seed", "float32", "exp"):
        assert name in names


def _tensor_attribute_doc(name: str) -> str | None:
    for cls in Tensor.__mro__[:-1]:  # not object: Tensor's own (or a project base's)
        if name in vars(cls):
            raw = vars(cls)[name]
            break
    else:
        return None
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    if isinstance(raw, types.MemberDescriptorType):  # a slot: documented in __slots__ (a dict)
        slots = vars(cls).get("__slots__")
        doc = slots.get(name) if isinstance(slots, dict) else None
        return doc if isinstance(doc, str) and doc.strip() else None
    doc = getattr(raw, "__doc__", None)
    return doc if isinstance(doc, str) and doc.strip() else None


def test_every_public_tensor_attribute_has_its_own_docstring() -> None:
    public = [name for name in dir(Tensor) if not name.startswith("_")]
    missing = [name for name in public if _tensor_attribute_doc(name) is None]
    assert not missing, f"Tensor: {len(missing)} of {len(public)} lack a docstring: {missing}"


def test_derived_spellings_take_the_declared_docstring() -> None:
    # minigrad.exp and Tensor.exp_ say what Tensor.exp says (one declaration, one docstring)
    for name in ("exp", "sum", "add", "cumsum"):
        method_doc = inspect.getdoc(getattr(Tensor, name))
        assert method_doc and method_doc.splitlines()[0] in inspect.getdoc(FUNCTIONS[name])
    assert ":meth:`exp`" in (Tensor.exp_.__doc__ or "")


def _project_class(value: Any) -> bool:
    return isinstance(value, type) and value.__module__.split(".")[0] in ("minigrad", "nn")


def _member_doc(cls: type, name: str) -> str | None:
    """The docstring of ``cls.<name>`` as Sphinx shows it: its own, or that of the attribute it
    overrides in a base class of the project (never one of ``object``'s or a builtin's)."""
    for owner in cls.__mro__:
        if not _project_class(owner) or name not in vars(owner):
            continue
        raw = vars(owner)[name]
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        doc = getattr(raw, "__doc__", None)
        if isinstance(doc, str) and doc.strip():
            return doc
    return None


def test_every_public_method_of_an_exported_class_has_a_docstring() -> None:
    classes = {
        value: f"{module_name}.{name}"
        for module_name in PUBLIC_MODULES
        for name in _module(module_name).__all__
        if _project_class(value := getattr(_module(module_name), name)) and value is not Tensor
    }
    missing = [
        f"{qualname}.{name}"
        for cls, qualname in classes.items()
        for name, raw in vars(cls).items()
        if not name.startswith("_")
        and isinstance(raw, (types.FunctionType, property, staticmethod, classmethod))
        and _member_doc(cls, name) is None
    ]
    assert not missing, f"{len(missing)} public methods lack a docstring: {missing}"
