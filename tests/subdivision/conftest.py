import tempfile

import pytest


@pytest.fixture
def private_tempdir(tmp_path, monkeypatch):
    """Send every temporary file to a fresh folder and check nothing is left in it."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert list(scratch.iterdir()) == []
