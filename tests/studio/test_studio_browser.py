"""The studio in a real browser: ``adain-studio`` started as a user would, driven by Playwright on
Debian's ``chromium`` (no browser download), and its API called with ``gradio_client``.

Select with ``-m browser``. Needs ``chromium`` on PATH (or ``$ADAIN_CHROMIUM``); ``.ci/run``
installs it, and sets ``ADAIN_REQUIRE_BROWSER=1`` so a missing browser fails instead of skipping.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smooth_image(path: Path, w: int, h: int, seed: int) -> Path:
    """A photo-like image (smooth gradients and a few shapes), not noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    chans = [np.sin(xx * rng.uniform(3, 9) + rng.uniform(0, 6)) * np.cos(yy * rng.uniform(3, 9)) for _ in range(3)]
    arr = ((np.stack(chans, -1) * 0.5 + 0.5) * 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A running ``adain-studio`` (built-in small16x, torch fp32) on a free 127.0.0.1 port."""
    chromium_path()
    d = tmp_path_factory.mktemp("studio")
    styles = d / "styles"
    styles.mkdir()
    for k in range(3):
        smooth_image(styles / f"style{k}.png", 64, 64, 10 + k)
    port = _free_port()
    env = {
        **os.environ,
        "ADAIN_HOME": str(d / "home"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(d / "gradio"),
    }
    log = open(d / "server.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adain.cli.studio",
            "--port",
            str(port),
            "--model",
            "small16x",
            "--backend",
            "torch",
            "--precision",
            "fp32",
            "--styles",
            str(styles),
            "--output-dir",
            str(d / "renders"),
            "--preview-size",
            "128",
            "--webcam-size",
            "128",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"adain-studio exited with {proc.returncode}: {(d / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            proc.kill()
            pytest.fail(f"adain-studio did not answer in 120 s: {(d / 'server.log').read_text()}")
        time.sleep(0.5)
    yield url, d
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _img_src(page, elem_id: str) -> str | None:
    loc = page.locator(f"#{elem_id} img")
    return loc.first.get_attribute("src") if loc.count() else None


def test_studio_in_a_real_browser(studio, tmp_path):
    from playwright.sync_api import sync_playwright

    url, d = studio
    content = smooth_image(tmp_path / "photo.png", 180, 120, 1)
    style = smooth_image(tmp_path / "painting.png", 80, 96, 2)
    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not a picture")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url)
        page.locator("#content input[type=file]").set_input_files(str(content))
        page.locator("#style input[type=file]").set_input_files(str(style))
        page.wait_for_function("() => document.querySelector('#preview img')", timeout=60_000)
        first = _img_src(page, "preview")
        # move alpha: the live preview updates (decoder only) without pressing anything
        page.locator("#alpha input[type=number]").fill("0.3")
        page.locator("#alpha input[type=number]").press("Enter")
        page.wait_for_function(
            "(old) => { const i = document.querySelector('#preview img'); return i && i.src !== old; }",
            arg=first,
            timeout=60_000,
        )
        page.locator("#stylize").click()
        page.wait_for_function("() => document.querySelector('#result img')", timeout=120_000)
        src = _img_src(page, "result")
        got = Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB")
        page.screenshot(path=str(tmp_path / "studio.png"), full_page=True)
        if os.environ.get("ADAIN_STUDIO_SCREENSHOT"):
            shutil.copy(tmp_path / "studio.png", os.environ["ADAIN_STUDIO_SCREENSHOT"])
        # a bad upload: a readable message in the page, and the server keeps serving
        page.locator("#content input[type=file]").set_input_files(str(not_image))
        page.get_by_text("notes.png: not an image", exact=False).first.wait_for(timeout=60_000)
        time.sleep(1)
        html = page.content()
        assert (
            "Traceback" not in html
            and "Could not preprocess" not in html
            and "/gradio/" not in html.split("notes.png: not an image")[0][-200:]
        )
        # ... and still serves: a good upload previews again
        page.locator("#content input[type=file]").set_input_files(str(content))
        page.wait_for_function("() => document.querySelector('#preview img')", timeout=60_000)
        browser.close()
    assert (tmp_path / "studio.png").stat().st_size > 10_000
    w, h = got.size
    assert h == 512 and abs(w / h - 180 / 120) < 0.01  # 512 px output, the content's aspect ratio
    ref = np.asarray(Image.open(content).convert("RGB").resize((w, h)), dtype=float)
    assert np.abs(np.asarray(got, dtype=float) - ref).mean() > 10  # stylized, not the content back


def test_webcam_tab_streams_stylized_frames_with_a_frame_rate(studio, tmp_path):
    """Chromium's fake camera (a moving test pattern) streams into the webcam tab: stylized frames
    arrive in ``#live``, change as the camera's picture moves, and the frame rate is shown."""
    from playwright.sync_api import sync_playwright

    url, _ = studio
    style = smooth_image(tmp_path / "painting.png", 80, 96, 2)
    fake = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu", *fake])
        page = browser.new_context(permissions=["camera"], viewport={"width": 1400, "height": 1100}).new_page()
        page.goto(url)
        page.locator("#style input[type=file]").set_input_files(str(style))
        page.locator("#webcam_panel").get_by_text("Webcam (live)").click()
        page.locator("#webcam").get_by_text("Click to Access Webcam").click()
        page.locator("#webcam button[aria-label='capture photo']").click()  # Gradio's record button
        page.wait_for_function("() => document.querySelector('#live img')", timeout=90_000)
        first = _img_src(page, "live")
        page.wait_for_function(
            "(old) => { const i = document.querySelector('#live img'); return i && i.src !== old; }",
            arg=first,
            timeout=60_000,
        )
        page.wait_for_function(
            "() => /[1-9][0-9.]* frames\\/s/.test(document.querySelector('#live_fps').innerText)", timeout=60_000
        )
        fps_text = page.locator("#live_fps").inner_text()
        got = Image.open(io.BytesIO(page.request.get(_img_src(page, "live")).body())).convert("RGB")
        browser.close()
    assert "frames/s" in fps_text and min(got.size) == 128  # --webcam-size of the fixture
    assert np.asarray(got, float).std() > 5  # a picture, not a blank frame


def test_api_with_gradio_client(studio, tmp_path):
    from gradio_client import Client, handle_file

    url, _ = studio
    content = smooth_image(tmp_path / "c.png", 90, 150, 3)
    style = smooth_image(tmp_path / "s.png", 64, 64, 4)
    client = Client(url, verbose=False)
    outs = [
        Image.open(client.predict(handle_file(str(content)), handle_file(str(style)), a, api_name="/stylize"))
        for a in (1.0, 0.2)
    ]
    assert outs[0].size == (512, round(512 * 150 / 90)) == outs[1].size
    diff = np.abs(np.asarray(outs[0].convert("RGB"), float) - np.asarray(outs[1].convert("RGB"), float)).mean()
    assert diff > 3  # alpha reaches the model
