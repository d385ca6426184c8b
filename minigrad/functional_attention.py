"""Attention: scaled_dot_product_attention and multi_head_attention_forward (PyTorch's math,
composed from matmul, softmax and dropout).

Mask conventions follow PyTorch, and differ between the two: for ``scaled_dot_product_attention``
a boolean ``attn_mask`` is True where attention is *allowed*; for multi-head attention a boolean
``attn_mask`` or ``key_padding_mask`` is True where attention is *not* allowed. Float masks are
added to the scores in both.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.errors import OpError
from minigrad.tensor import Tensor, _wrap, cat, where
from minigrad.types import DTypeLike

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _as_additive(mask: Any, dtype: DTypeLike, allowed_when_true: bool, name: str) -> Tensor:
    """A float mask to add to the scores: a bool mask becomes 0 / -inf."""
    if isinstance(mask, Tensor) and mask.is_floating_point():
        return mask.to(dtype)
    array = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if array.dtype == np.bool_:
        blocked = ~array if allowed_when_true else array
        return _wrap(np.where(blocked, -np.inf, 0.0).astype(dtype))
    if array.dtype.kind == "f":
        return _wrap(array.astype(dtype))
    raise TypeError(f"{name}: only bool and floating types of masks are supported, got "
                    f"{array.dtype}")


def _softmax_with_bias(scores: Tensor, bias: Tensor | None, safe: bool) -> Tensor:
    """softmax(scores + bias) over the last dim; with ``safe``, rows that the bias masks
    completely give zeros (and no gradient) instead of NaN."""
    if bias is None:
        return scores.softmax(-1)
    if safe:
        blocked = np.isneginf(bias._data).all(axis=-1, keepdims=True)
        if blocked.any():
            blocked = np.broadcast_to(blocked, np.broadcast_shapes(blocked.shape, scores.shape[:-1]
                                                                   + (1,)))
            weights = (scores + where(blocked, 0.0, bias)).softmax(-1)
            return where(blocked, 0.0, weights)
    return (scores + bias).softmax(-1)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q kᵀ · scale + mask) v: ``(..., L, E), (..., S, E), (..., S, Ev) -> (..., L, Ev)``.

    ``scale`` defaults to 1/sqrt(E); ``is_causal`` masks out keys after each query; a boolean
    ``attn_mask`` is True where attention is allowed. Rows with every key masked give zeros.
    ``dropout_p`` applies to the attention weights whenever it is nonzero, as in PyTorch.
    """
    from minigrad.functional import dropout

    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise OpError(
            f"scaled_dot_product_attention: query, key and value need at least 2 dims, got "
            f"{query.shape}, {key.shape} and {value.shape}"
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise OpError(
            f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value "
            f"{value.shape} do not fit: need (..., L, E), (..., S, E) and (..., S, Ev)"
        )
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads:
            raise OpError(
                f"scaled_dot_product_attention: with enable_gqa the {heads} query heads must be "
                f"a multiple of the {kv_heads} key/value heads"
            )
        key, value = (_repeat_heads(t, heads // kv_heads) for t in (key, value))
    length, source = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise OpError(
                "scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both"
            )
        allowed = np.tril(np.ones((length, source), dtype=bool))
        bias = _as_additive(allowed, query.dtype, True, "scaled_dot_product_attention")
    elif attn_mask is not None:
        bias = _as_additive(attn_mask, query.dtype, True, "scaled_dot_product_attention")
    scores = (query @ key.transpose(-2, -1)) * scale
    weights = _softmax_with_bias(scores, bias, safe=True)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


def _repeat_heads(t: Tensor, repeats: int) -> Tensor:
    """(..., H, S, E) -> (..., H * repeats, S, E): each head repeated in place, as
    repeat_interleave does."""
    shape = t.shape
    expanded = t.unsqueeze(-3).expand(*shape[:-2], repeats, *shape[-2:])
    return expanded.reshape(*shape[:-3], shape[-3] * repeats, *shape[-2:])


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    out = x @ weight.t()
    return out if bias is None else out + bias


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on sequence-first ``(L, N, E)`` (or unbatched ``(L, E)``) inputs:
    returns the output ``(L, N, E)`` and, with ``need_weights``, the attention weights
    ``(N, L, S)`` (averaged over heads) or ``(N, heads, L, S)``."""
    from minigrad.functional import dropout

    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise OpError(
            f"multi_head_attention_forward: query, key and value must all be 3-D (L, N, E) or "
            f"all 2-D (L, E), got {query.shape}, {key.shape} and {value.shape}"
        )
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, batch, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise OpError(
            f"multi_head_attention_forward: was expecting embedding dimension of "
            f"{embed_dim_to_check}, but got {embed_dim} (query shape {query.shape})"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise OpError(f"multi_head_attention_forward: embed_dim {embed_dim} not divisible by "
                      f"num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2]:
        raise OpError(
            f"multi_head_attention_forward: key's sequence and batch dims {key.shape[:2]} do "
            f"not match value's {value.shape[:2]}"
        )
    if is_causal and attn_mask is None:
        raise OpError(
            "multi_head_attention_forward: need attn_mask if specifying the is_causal hint; "
            "nn.Transformer.generate_square_subsequent_mask makes one"
        )
    dtype = query.dtype
    padding = None if key_padding_mask is None else _as_additive(
        key_padding_mask, dtype, False, "key_padding_mask")
    mask = None if attn_mask is None else _as_additive(attn_mask, dtype, False, "attn_mask")

    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise OpError("multi_head_attention_forward: use_separate_proj_weight is True but "
                          "q_proj_weight, k_proj_weight or v_proj_weight is None")
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = _linear(query, q_proj_weight, b_q)
        k = _linear(key, k_proj_weight, b_k)
        v = _linear(value, v_proj_weight, b_v)
    else:
        if in_proj_weight is None:
            raise OpError("multi_head_attention_forward: use_separate_proj_weight is False but "
                          "in_proj_weight is None")
        w_q, w_k, w_v = in_proj_weight.chunk(3)
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        if query is key and key is value:
            q, k, v = _linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        else:
            q = _linear(query, w_q, b_q)
            k = _linear(key, w_k, b_k)
            v = _linear(value, w_v, b_v)

    if mask is not None:
        if mask.ndim == 2:
            if mask.shape != (tgt_len, src_len):
                raise OpError(
                    f"multi_head_attention_forward: the shape of the 2D attn_mask is "
                    f"{mask.shape}, but should be {(tgt_len, src_len)}"
                )
            mask = mask.unsqueeze(0)
        elif mask.ndim == 3:
            if mask.shape != (batch * num_heads, tgt_len, src_len):
                raise OpError(
                    f"multi_head_attention_forward: the shape of the 3D attn_mask is "
                    f"{mask.shape}, but should be {(batch * num_heads, tgt_len, src_len)}"
                )
        else:
            raise OpError(
                f"multi_head_attention_forward: attn_mask's dimension {mask.ndim} is not "
                "supported (use (L, S) or (N * num_heads, L, S))"
            )

    def pad_last(t: Tensor | None) -> Tensor | None:
        if t is None:
            return None
        return cat([t, _wrap(np.zeros(t.shape[:-1] + (1,), dtype=t.dtype))], dim=-1)

    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, batch, embed_dim)])
        v = cat([v, bias_v.expand(1, batch, embed_dim)])
        mask, padding = pad_last(mask), pad_last(padding)

    q = q.reshape(tgt_len, batch * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], batch * num_heads, head_dim).transpose(0, 1)
         if static_k is None else static_k)
    v = (v.reshape(v.shape[0], batch * num_heads, head_dim).transpose(0, 1)
         if static_v is None else static_v)
    if add_zero_attn:
        zeros = _wrap(np.zeros((batch * num_heads, 1, head_dim), dtype=k.dtype))
        k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
        mask, padding = pad_last(mask), pad_last(padding)
    src_len = k.shape[1]

    if padding is not None:
        if padding.shape != (batch, src_len):
            raise OpError(
                f"multi_head_attention_forward: expected key_padding_mask of shape "
                f"{(batch, src_len)}, but got {padding.shape}"
            )
        padding = padding.reshape(batch, 1, 1, src_len).expand(
            batch, num_heads, 1, src_len).reshape(batch * num_heads, 1, src_len)
        mask = padding if mask is None else mask + padding

    if not training:
        dropout_p = 0.0
    scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
    # with weights PyTorch's plain softmax leaves NaN rows; without, its SDPA path gives zeros
    weights = _softmax_with_bias(scores, mask, safe=not need_weights)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    out = (weights @ v).transpose(0, 1).reshape(tgt_len * batch, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, batch, embed_dim)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    weights = weights.reshape(batch, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        return out.squeeze(1), weights.squeeze(0)
    return out, weights
