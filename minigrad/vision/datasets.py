"""torchvision.datasets for minigrad."""
