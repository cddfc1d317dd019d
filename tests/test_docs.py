"""The front door and the documentation: README's quick start runs as written, the command-line
reference is generated from the parsers, and the README stays a short page for users."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPO, make_image

README = REPO / "README.md"


def _hook():
    spec = importlib.util.spec_from_file_location("cli_reference", REPO / "docs" / "hooks" / "cli_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _quick_start() -> tuple[list[str], str, str]:
    """The quick start's command, the stderr line it shows and the output it names."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start") :]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    (lang_cmd, cmd), (lang_out, shown) = blocks[0], blocks[1]
    assert (lang_cmd, lang_out) == ("bash", "text")
    lines = shown.strip().splitlines()
    written = re.match(r"wrote 1 image\(s\) to (\S+)", lines[-1])
    assert written, lines[-1]
    return shlex.split(cmd.strip()), lines[0], written.group(1)


def test_readme_is_a_short_page_for_users():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) <= 15_000
    assert "../shared" not in text and "shared/" not in text
    assert "pip install ." in text and "python -m pytest -q" in text  # install; run the tests
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (REPO / link).exists(), link


def test_readme_quick_start_runs_as_written(tmp_path):
    cmd, shown_stderr, shown_output = _quick_start()
    assert cmd[0] == "adain-stylize"
    make_image(tmp_path / "photo.jpg", 90, 60, 1)
    make_image(tmp_path / "painting.jpg", 50, 64, 2)
    env = {**os.environ, "ADAIN_HOME": str(tmp_path / "home")}
    env.pop("ADAIN_COMPILED_DIR", None)
    r = subprocess.run(
        [sys.executable, "-m", "adain.cli.stylize", *cmd[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / shown_output).is_file()
    assert shown_output in r.stdout + r.stderr
    assert shown_stderr in r.stderr.replace("\n  ", " ").replace("\n", " ")


def test_cli_reference_is_generated_from_the_parsers():
    hook = _hook()
    page = hook.expand("# CLI\n\n<!-- cli: adain-stylize -->\n")
    assert "<!-- cli:" not in page and "--style-weights" in page and "--preserve-color" in page

    def build() -> argparse.ArgumentParser:
        p = argparse.ArgumentParser(prog="demo")
        p.add_argument("--colour", help="the colour")
        return p

    before = hook.expand("<!-- cli: demo -->", {"demo": build})

    def changed() -> argparse.ArgumentParser:
        p = build()
        p.add_argument("--brush", help="a new option")
        return p

    after = hook.expand("<!-- cli: demo -->", {"demo": changed})
    assert "--brush" in after and "--brush" not in before  # the reference follows the option
    with pytest.raises(ValueError, match="unknown command"):
        hook.expand("<!-- cli: nope -->", {"demo": build})


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mkdocs") is None, reason="mkdocs not installed (pip install '.[docs]')")
def test_docs_build_strict(tmp_path):
    r = subprocess.run(
        ["mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "adain-stylize" in (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
