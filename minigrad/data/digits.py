"""scikit-learn's bundled 8x8 handwritten digits: real data that needs no download."""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits"]


def load_digits(
    train: bool = True, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One split of the 1,797 digits: float32 images (N, 1, 8, 8) in [0, 1] and int64 labels (N,).

    The split is stratified (each class contributes ``test_fraction`` of its samples to the test
    set) and reproducible: the same ``seed`` and ``test_fraction`` give the same two disjoint
    splits, which together hold every sample once. Samples keep their original order.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"load_digits: test_fraction must be in (0, 1), got {test_fraction}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise ImportError(
            "load_digits needs scikit-learn: pip install scikit-learn "
            "(or pip install 'minigrad[test]')"
        ) from None
    digits = sklearn_load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    labels = digits.target.astype(np.int64)
    generator = np.random.default_rng(seed)
    in_test = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        num_test = int(round(test_fraction * len(members)))
        in_test[generator.permutation(members)[:num_test]] = True
    keep = ~in_test if train else in_test
    return images[keep], labels[keep]
