"""torchvision.utils for minigrad."""
