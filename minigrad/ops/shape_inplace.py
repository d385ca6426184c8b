"""Primitives behind the in-place shape methods (``t_``, ``transpose_``, ``squeeze_``, …).

They are ``Permute`` and ``Reshape`` that do not count as views: after ``y.t_()`` the tensor
``y`` is the transposed tensor itself, not a view of another graph tensor, so later in-place
value changes of ``y`` (``y.add_(1)``) are recorded as usual. When the tensor was a view to
begin with, the view primitives are used instead and it stays one."""

from __future__ import annotations

from minigrad.ops.shape import Permute, Reshape


class PermuteInPlace(Permute):
    is_view = False


class ReshapeInPlace(Reshape):
    is_view = False
