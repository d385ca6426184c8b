"""spectral_norm on a parameter slot that holds None: a ValueError naming it, as in PyTorch."""

import pytest

import nn


def test_spectral_norm_of_a_none_parameter_raises_value_error() -> None:
    layer = nn.Linear(2, 3, bias=False)
    with pytest.raises(ValueError, match=r"Linear\.bias is None"):
        nn.utils.spectral_norm(layer, "bias")
    assert layer.bias is None  # the layer is left as it was
    assert "weight" in dict(layer.named_parameters())


def test_spectral_norm_none_error_type_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.nn.utils.spectral_norm(torch.nn.Linear(2, 3, bias=False), "bias")
    with pytest.raises(ValueError):
        nn.utils.spectral_norm(nn.Linear(2, 3, bias=False), "bias")
