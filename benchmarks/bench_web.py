"""The web app's speed in headless chromium (WASM), and the size of the deployable folder.

Builds the folder with ``adain-export web`` (the shipped model; ``npm ci --prefix web`` first),
serves it on 127.0.0.1 with a plain static server, and times the page's own code
(``adainApp.timings``): a new 512×512 photo (encoder + decoder; style statistics kept), an alpha
move (decoder only), each the median of ``--repeats``; optionally a 12 MP phone photo at its
original size (tiled). ``--screenshot`` writes the page as the README shows it.

    python benchmarks/bench_web.py CONTENT STYLE [--repeats 5] [--phone] [--screenshot docs/web_app.jpg]
"""

from __future__ import annotations

import http.server
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _harness import Table, header, parser
from PIL import Image


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def square_crops(path: Path, out: Path, n: int) -> list[Path]:
    """``n`` different 512×512 crops of a photo (each a new photo to the page)."""
    img = Image.open(path).convert("RGB")
    s = 512 / min(img.size)
    img = img.resize((max(512, round(img.width * s * 1.25)), max(512, round(img.height * s * 1.25))))
    files = []
    for k in range(n):
        x, y = (k * 37) % (img.width - 511), (k * 23) % (img.height - 511)
        files.append(out / f"photo{k}.png")
        img.crop((x, y, x + 512, y + 512)).save(files[-1])
    return files


def main() -> None:
    p = parser(__doc__)
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("--node-modules", default="web/node_modules", help="after npm ci --prefix web")
    p.add_argument("--site", help="an existing folder from adain-export web (default: build one)")
    p.add_argument("--phone", action="store_true", help="also a 12 MP photo (4000×3000) at its original size")
    p.add_argument("--screenshot", help="write a screenshot of the page (jpg or png)")
    p.add_argument("--chromium", default="chromium")
    a = p.parse_args()

    import shutil

    from playwright.sync_api import sync_playwright

    from adain.methods.export import NetworkRef, export_web

    tmp = Path(tempfile.mkdtemp(prefix="bench_web_"))
    site = Path(a.site) if a.site else tmp / "site"
    if not a.site:
        export_web(site, NetworkRef("small16x"), runtime=a.node_modules)
    files = [f for f in site.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    runtime = sum(f.stat().st_size for f in files if f.parts[-2] == "ort")
    models = sum(f.stat().st_size for f in files if f.parts[-2] == "models")
    photos = square_crops(Path(a.content), tmp, a.repeats + 1)
    server, url = serve(site)
    rows: list[tuple[str, str]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which(a.chromium), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-ready]", timeout=120_000)
        rows.append(("page ready (runtime + model loaded, warm-up run)", f"{(time.perf_counter() - t0) * 1e3:.0f} ms"))
        backend = page.text_content("#backend") or "?"

        def render_after(action: Any) -> dict[str, float]:
            n = page.evaluate("adainApp.renders")
            action()
            page.wait_for_selector(f'#result[data-renders="{n + 1}"]', timeout=600_000)
            return dict(page.evaluate("adainApp.timings"))

        first = render_after(
            lambda: (page.set_input_files("#content", str(photos[0])), page.set_input_files("#style", a.style))
        )
        rows.append(("first 512×512 result (+ style statistics)", f"{first['totalMs']:.0f} ms"))
        new_photo = [render_after(lambda f=f: page.set_input_files("#content", str(f)))["totalMs"] for f in photos[1:]]
        rows.append(
            (f"new 512×512 photo (encoder + decoder), median of {a.repeats}", f"{statistics.median(new_photo):.0f} ms")
        )
        alphas = [0.9 - 0.1 * k for k in range(a.repeats)]
        moves = [render_after(lambda v=v: page.fill("#alpha", str(v)))["renderMs"] for v in alphas]
        rows.append(
            (f"alpha move at 512×512 (decoder only), median of {a.repeats}", f"{statistics.median(moves):.0f} ms")
        )
        if a.screenshot:
            page.set_viewport_size({"width": 1100, "height": 900})
            page.fill("#alpha", "0.9")
            page.wait_for_timeout(2000)
            shot = Path(a.screenshot)
            page.screenshot(path=str(shot), full_page=True, **({"quality": 80} if shot.suffix == ".jpg" else {}))
        if a.phone:
            big = tmp / "phone.jpg"
            Image.open(a.content).convert("RGB").resize((4000, 3000), Image.BICUBIC).save(big, quality=90)
            render_after(lambda: page.select_option("#size", "0"))
            t = render_after(lambda: page.set_input_files("#content", str(big)))
            tiles = page.evaluate("adainApp.encoded.tiles.length")
            rows.append((f"12 MP photo (4000×3000) at original size, {tiles} tiles", f"{t['totalMs'] / 1e3:.1f} s"))
            moves = render_after(lambda: page.fill("#alpha", "0.5"))["renderMs"]
            rows.append(("  then an alpha move", f"{moves / 1e3:.1f} s"))
        browser.close()
    server.shutdown()
    rows.append(("deployable folder", f"{size / 1e6:.1f} MB ({runtime / 1e6:.1f} runtime, {models / 1e6:.1f} graphs)"))
    print(header(a.json))
    print(f"# adain web app, headless chromium, {backend}")
    table = Table(["measure", "value"], a.json)
    for k, v in rows:
        table.row(measure=k, value=v)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
