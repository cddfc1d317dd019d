"""The static web app in a real browser: Playwright drives Debian's chromium against the folder
``adain-export web`` builds from the shipped model and the npm runtime (``npm ci --prefix web``),
served by a plain static server on 127.0.0.1 (as GitHub Pages or ``python -m http.server`` would).

Select with ``-m browser``; ``.ci/run`` installs chromium and the npm runtime and sets
``ADAIN_REQUIRE_BROWSER=1``, so a missing one fails instead of skipping.
"""

from __future__ import annotations

import base64
import http.server
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import REPO, chromium_path, psnr

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NODE_MODULES = REPO / "web" / "node_modules"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (NODE_MODULES / "onnxruntime-web").is_dir():
        if os.environ.get("ADAIN_REQUIRE_BROWSER") == "1":
            pytest.fail("ADAIN_REQUIRE_BROWSER=1 but web/node_modules is missing (npm ci --prefix web)")
        pytest.skip("the npm runtime is not installed (npm ci --prefix web)")
    from adain.methods.export import NetworkRef, export_web

    out = tmp_path_factory.mktemp("web") / "site"
    export_web(out, NetworkRef("small16x-vgg"), runtime=str(NODE_MODULES))  # the default model (multi-level)
    return out


@pytest.fixture(scope="module")
def origin(site: Path) -> Iterator[str]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu", *fake_camera])
        yield b
        b.close()


class App:
    """One page of the app, with every request and page error recorded."""

    def __init__(self, browser: Any, origin: str, query: str = "", width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{origin}/{query}")
        self.page.wait_for_selector("body[data-ready]", timeout=120_000)
        assert self.page.evaluate("document.body.dataset.ready") == "1", self.page.text_content("#message")

    def renders(self) -> int:
        return int(self.page.evaluate("adainApp.renders"))

    def wait_render(self, n: int) -> None:
        self.page.wait_for_selector(f'#result[data-renders="{n}"]', timeout=120_000)

    def calls(self) -> dict[str, int]:
        return dict(self.page.evaluate("adainApp.engine.calls"))

    def set_alpha(self, value: float) -> None:
        self.page.fill("#alpha", str(value))  # (fires "input", as a drag does)

    def result(self) -> np.ndarray:
        url = self.page.evaluate("document.getElementById('result').toDataURL('image/png')")
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))

    def message(self) -> str:
        return (self.page.text_content("#message") or "").strip()

    def close(self) -> None:
        self.context.close()


def smooth_image(path: Path, w: int, h: int, seed: int) -> Path:
    """A photo-like picture (gradients and soft blobs), not noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([np.sin(6 * x + rng.random() * 6), np.cos(5 * y + rng.random() * 6), np.sin(4 * (x + y))], -1)
    for _ in range(6):
        cy, cx, r = rng.random(), rng.random(), 0.05 + 0.15 * rng.random()
        img += rng.normal(size=3) * np.exp(-((y - cy * h / max(h, w)) ** 2 + (x - cx) ** 2) / r**2)[..., None]
    img = (img - img.min()) / (img.max() - img.min())
    Image.fromarray((img * 255).astype(np.uint8)).save(path)
    return path


def as_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)


def test_stylize_alpha_download_and_errors(browser: Any, origin: str, tmp_path: Path) -> None:
    content = smooth_image(tmp_path / "photo.png", 300, 200, 0)
    style = smooth_image(tmp_path / "painting.png", 256, 256, 1)
    app = App(browser, origin)
    try:
        # a non-image: one message naming it, and the page keeps working
        (tmp_path / "notes.txt").write_text("not a picture")
        app.page.set_input_files("#content", str(tmp_path / "notes.txt"))
        app.page.wait_for_function("document.getElementById('message').textContent.length > 0")
        assert "notes.txt" in app.message() and "not an image" in app.message()

        app.page.set_input_files("#content", str(content))
        app.page.set_input_files("#style", str(style))
        app.wait_render(1)
        assert app.message() == ""
        out = app.result()
        assert out.shape == (512, 768, 3)  # shorter side 512, the content's 3:2
        photo = np.asarray(Image.open(content).resize((768, 512), Image.BILINEAR))
        assert np.abs(out.astype(float) - photo).mean() > 10  # stylized, not the photo

        before = app.calls()
        app.set_alpha(0.3)
        app.wait_render(2)
        after = app.calls()
        assert after["encode"] == before["encode"] and after["decode"] == before["decode"] + 1  # decoder only
        weaker = app.result()
        assert np.abs(weaker.astype(float) - photo).mean() < np.abs(out.astype(float) - photo).mean()

        app.page.wait_for_selector('#download[aria-disabled="false"]')
        with app.page.expect_download() as dl:
            app.page.click("#download")
        saved = tmp_path / "saved.png"
        dl.value.save_as(saved)
        assert Image.open(saved).size == (768, 512) and dl.value.suggested_filename == "photo-stylized.png"

        # an image larger than the page reads: one message, nothing else changes
        Image.new("L", (10240, 10240)).save(tmp_path / "huge.png")
        app.page.set_input_files("#content", str(tmp_path / "huge.png"))
        app.page.wait_for_function("document.getElementById('message').textContent.includes('huge.png')")
        assert "larger than this page reads" in app.message()
        app.set_alpha(0.8)
        app.wait_render(3)
        assert app.result().shape == (512, 768, 3)

        # nothing left the page's origin, nothing failed
        assert app.requests and all(u.startswith(origin) or u.startswith(("blob:", "data:")) for u in app.requests)
        assert not app.failed and not app.errors
    finally:
        app.close()


def test_camera_blend_and_phone_width(browser: Any, origin: str, tmp_path: Path) -> None:
    app = App(browser, origin, width=390)
    try:
        app.page.click("#camera-start")
        app.page.wait_for_function("document.getElementById('camera-view').videoWidth > 0")
        app.page.click("#camera-capture")
        app.page.select_option("#example", index=0)
        app.page.click("#example-add")
        app.wait_render(1)
        app.page.select_option("#example", index=1)
        app.page.click("#example-add")
        app.wait_render(2)
        assert app.page.locator("#styles li").count() == 2
        app.page.fill("#weight-1", "0.25")
        app.wait_render(3)
        # the keyboard moves alpha (and re-renders)
        app.page.focus("#alpha")
        app.page.keyboard.press("ArrowLeft")
        app.wait_render(4)
        assert float(app.page.input_value("#alpha")) < 1
        # every control is labelled, and nothing is wider than the phone
        unlabelled = app.page.evaluate(
            "[...document.querySelectorAll('input, select')].filter(e => !e.labels?.length"
            " && !e.getAttribute('aria-label')).map(e => e.id)"
        )
        assert unlabelled == []
        assert app.page.evaluate("document.documentElement.scrollWidth") <= 390
        assert not app.errors
    finally:
        app.close()


def test_tiles_give_the_untiled_result(browser: Any, origin: str, tmp_path: Path) -> None:
    content = smooth_image(tmp_path / "wide.png", 720, 480, 2)
    style = smooth_image(tmp_path / "s.png", 300, 300, 3)
    results = []
    for query in ("", "?tile=128&untiled=20000"):
        app = App(browser, origin, query)
        try:
            app.page.select_option("#size", "0")
            app.page.set_input_files("#content", str(content))
            app.page.set_input_files("#style", str(style))
            app.wait_render(1)
            results.append(app.result())
            tiles = app.page.evaluate("adainApp.encoded.tiles.length")
            assert tiles == (1 if not query else 24)  # 720 x 480 in 128-px tiles: 6 x 4
        finally:
            app.close()
    assert results[0].shape == (480, 720, 3)
    value = psnr(as_tensor(results[0]), as_tensor(results[1]))
    print(f"tiled vs untiled: {value:.1f} dB")
    assert value > 50


@pytest.mark.shared
def test_browser_matches_python_openvino_fp32(browser: Any, origin: str, shared: Path, tmp_path: Path) -> None:
    """The same model in the browser and in Python (OpenVINO fp32), on prepared 256-px inputs
    (so both read the same pixels): single styles, and a blend with alpha and colour kept."""
    from adain.io.images import read_image_resized, save_image
    from adain.pipeline import Pipeline
    from adain.runtime.factory import make_runtime
    from adain.weights.source import pretrained_source

    pipe = Pipeline(
        make_runtime(pretrained_source("small16x-vgg"), backend="openvino", precision="fp32", verbose=False)
    )
    cases = [
        (["cornell.jpg"], ["woman_with_hat_matisse.jpg"], None, 1.0, False),
        (["lenna.jpg"], ["en_campo_gris.jpg"], None, 1.0, False),
        (["chicago.jpg"], ["la_muse.jpg", "brushstrokes.jpg"], [1.0, 0.25], 0.6, True),
    ]
    for (c_name,), styles, weights, alpha, keep in cases:
        c = tmp_path / f"c_{c_name}.png"
        save_image(torch.from_numpy(read_image_resized(shared / "images/content" / c_name, 256)), c)
        s_files = []
        for s_name in styles:
            s_files.append(tmp_path / f"s_{s_name}.png")
            save_image(torch.from_numpy(read_image_resized(shared / "images/style" / s_name, 512)), s_files[-1])
        expected = pipe.stylize(
            str(c),
            [str(s) for s in s_files],
            alpha=alpha,
            weights=weights,
            content_size=0,
            preserve_color="luminance" if keep else "none",
        )
        app = App(browser, origin)
        try:
            app.page.select_option("#size", "0")
            app.page.set_input_files("#content", str(c))
            for k, s in enumerate(s_files):
                app.page.set_input_files("#style", str(s))
                app.wait_render(k + 1)
            n = len(s_files)
            if weights:
                for k, w in enumerate(weights):
                    if w != 1.0:
                        app.page.fill(f"#weight-{k}", str(w))
                        n += 1
                        app.wait_render(n)
            if keep:
                app.page.check("#preserve-color")
                n += 1
                app.wait_render(n)
            if alpha != 1.0:
                app.set_alpha(alpha)
                app.wait_render(n + 1)
            got = app.result()
        finally:
            app.close()
        ref = np.round(np.clip(expected, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
        assert got.shape == ref.shape
        value = psnr(as_tensor(got), as_tensor(ref))
        print(f"browser vs OpenVINO fp32, {c_name} x {'+'.join(styles)}: {value:.1f} dB")
        assert value >= 35, f"{c_name} x {styles}: {value:.1f} dB"
