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


def test_os_errors_are_described_by_path_and_reason(tmp_path):
    import errno

    from adain.errors import describe_os_error, os_reason

    try:
        open(tmp_path / "missing.txt")
    except OSError as e:
        assert describe_os_error(e) == f"{tmp_path / 'missing.txt'}: No such file or directory"
    full = OSError(errno.ENOSPC, "No space left on device")
    assert describe_os_error(full) == "No space left on device" == os_reason(full)
    assert describe_os_error(OSError()) == "OSError" and os_reason(OSError("boom")) == "boom"
    assert describe_os_error(OSError(errno.EACCES, "Permission denied", "")) == "Permission denied"
