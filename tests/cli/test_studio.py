"""``adain-studio``: the command's own checks (the engine and page: ``tests/studio``)."""

from __future__ import annotations

from adain.cli.studio import studio_main


def test_studio_command_refuses_bad_options_in_one_line(tmp_path, capsys):
    assert studio_main(["--styles", str(tmp_path / "missing")]) == 2
    assert studio_main(["--port", "70000"]) == 2
    (tmp_path / "empty").mkdir()
    assert studio_main(["--styles", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("adain-studio: error: ") for line in err), err
    assert "missing" in err[0] and "70000" in err[1] and "empty" in err[2]
