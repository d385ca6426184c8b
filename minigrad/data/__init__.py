"""Datasets and mini-batch loading: ``from minigrad.data import DataLoader, TensorDataset``.

- ``Dataset``, ``TensorDataset``, ``DataLoader``: PyTorch-style loading of Tensor batches;
  array-backed datasets gather each batch by fancy indexing.
- Samplers (``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``,
  ``WeightedRandomSampler``, ``BatchSampler``) and views (``Subset``, ``ConcatDataset``,
  ``random_split``), as in ``torch.utils.data``.
- ``MNIST`` / ``load_mnist``: the MNIST IDX files, read from a folder or downloaded and checked.
- ``load_digits``: scikit-learn's bundled 8x8 digits, always available offline.
- ``read_idx`` / ``write_idx``: the IDX file format.
- Constants: ``MNIST_MEAN`` and ``MNIST_STD`` (0.1307 and 0.3081, the mean and standard
  deviation of MNIST's training pixels scaled to [0, 1], for normalising), ``MIRRORS`` (the
  base URLs a download tries, in order) and ``MNIST_MD5`` (each IDX file's name mapped to its
  MD5 checksum).
"""

from minigrad.data.digits import load_digits
from minigrad.data.idx import read_idx, write_idx
from minigrad.data.loader import (
    DataLoader,
    Dataset,
    TensorDataset,
    collate,
    default_collate,
    default_convert,
    get_worker_info,
)
from minigrad.data.mnist import (
    MIRRORS,
    MNIST,
    MNIST_MD5,
    MNIST_MEAN,
    MNIST_STD,
    default_root,
    download_mnist,
    load_mnist,
    make_offline_split,
)
from minigrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from minigrad.data.subsets import ConcatDataset, Subset, random_split

__all__ = [
    "MIRRORS",
    "MNIST",
    "MNIST_MD5",
    "MNIST_MEAN",
    "MNIST_STD",
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "collate",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
    "default_root",
    "download_mnist",
    "load_digits",
    "load_mnist",
    "make_offline_split",
    "read_idx",
    "write_idx",
]
