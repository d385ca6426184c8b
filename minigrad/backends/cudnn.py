"""``minigrad.backends.cudnn``: not available; the flags scripts set are accepted and unused."""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = False


def is_available() -> bool:
    return False
