"""torchvision.transforms for minigrad."""
