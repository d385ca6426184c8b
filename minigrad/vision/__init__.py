"""Image datasets, transforms and utilities with torchvision's names and arguments.

``from torchvision import datasets, transforms`` becomes ``from minigrad.vision import datasets,
transforms``; ``torchvision.utils`` is ``minigrad.vision.utils``. Pure NumPy: images are uint8
ndarrays (``H x W`` for grayscale, ``H x W x C`` for colour) where torchvision hands out PIL
images, and Tensors after ``ToTensor``.
"""

from minigrad.vision import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
