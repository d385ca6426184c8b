"""The import lines of a ported PyTorch script work as written, and minigrad never imports nn."""

import subprocess
import sys


def test_porting_imports():
    import minigrad.optim as optim
    import nn
    import nn.functional as F
    from minigrad.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR, StepLR

    assert nn.functional is F
    assert F.relu is __import__("minigrad.functional").functional.relu
    assert callable(F.conv2d) and callable(F.max_pool2d) and callable(F.batch_norm)
    assert {optim.SGD, optim.Adam, optim.AdamW, StepLR, CosineAnnealingLR, OneCycleLR}
    assert callable(nn.init.kaiming_uniform_)


def test_minigrad_does_not_import_nn():
    code = (
        "import sys, minigrad, minigrad.optim, minigrad.functional, minigrad.serialization; "
        "assert not any(m == 'nn' or m.startswith('nn.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('nn'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
