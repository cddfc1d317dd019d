"""``adain-studio``: the command's own checks (the engine and page: ``tests/studio``)."""

from __future__ import annotations

import pytest

from adain.cli.studio import studio_main


def test_studio_command_refuses_bad_options_in_one_line(tmp_path, capsys):
    assert studio_main(["--styles", str(tmp_path / "missing")]) == 2
    assert studio_main(["--port", "70000"]) == 2
    (tmp_path / "empty").mkdir()
    assert studio_main(["--styles", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("adain-studio: error: ") for line in err), err
    assert "missing" in err[0] and "70000" in err[1] and "empty" in err[2]


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--queue-size", "0"), ("--preview-size", "8"), ("--max-upload-mb", "0"), ("--webcam-size", "4"),
     ("--max-render-pixels", "100"), ("--max-pixels", "0")],
)  # fmt: skip
def test_studio_sizes_out_of_range_are_one_line_before_anything_starts(flag, value, capsys):
    with pytest.raises(SystemExit) as stop:
        studio_main([flag, value])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and f"argument {flag}: must be >=" in err[0], err


def test_batch_size_and_max_frames_are_checked_by_the_parser(capsys):
    from adain.cli.evaluate import evaluate_main
    from adain.cli.stylize import infer_main

    for main, argv, words in (
        (infer_main, ["a.jpg", "b.jpg", "--batch-size", "0"], "argument --batch-size: must be >= 1, got 0"),
        (evaluate_main, ["--video", "a.mp4", "b.mp4", "--max-frames", "1"], "argument --max-frames: must be >= 2"),
    ):
        with pytest.raises(SystemExit):
            main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
