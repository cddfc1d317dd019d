"""The atomic writer."""

from __future__ import annotations

import pytest


def test_temporary_name_retries_are_bounded(tmp_path, monkeypatch):
    """A folder where every name 'exists' (e.g. under /proc) ends in an OSError, not a busy loop."""
    import errno
    import os

    from adain.io import atomic

    real_open = os.open

    def always_exists(path, flags, *a):
        if str(path).endswith(".part") or ".part" in str(path):
            raise FileExistsError(errno.EEXIST, "exists", str(path))
        return real_open(path, flags, *a)

    monkeypatch.setattr(atomic.os, "open", always_exists)
    with pytest.raises(OSError, match="cannot create a temporary file"):
        with atomic.atomic_path(tmp_path / "x.jpg"):
            pass
    assert list(tmp_path.iterdir()) == []
