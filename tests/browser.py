"""A real browser for the HTML tests: Debian's Chromium, headless, driven by Playwright.

Playwright's Python package drives the system's ``chromium`` (``executable_path``); no
browser is downloaded. Each visit records what a user would not see: console errors,
uncaught exceptions, dialogs (an ``alert`` from injected script), and every request the
page made, so a test can say that nothing left the page.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1200, "height": 800}


@dataclass
class Visit:
    """One page open in the browser, and what it did."""

    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def evaluate(self, script: str, argument: Any = None) -> Any:
        """Run ``script`` (a function expression) in the page."""
        return self.page.evaluate(script, argument)

    def visible_lines(self) -> list[str]:
        """The ids of the source rows the page shows (not hidden by a filter)."""
        result: list[str] = self.evaluate(
            "() => Array.from(document.querySelectorAll('.lines > div'))"
            ".filter(r => r.offsetParent !== null).map(r => r.id)"
        )
        return result


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: dev/test.sh installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


def visit(browser: Any, url: str, color_scheme: str = "light") -> Visit:
    """Open ``url`` in a fresh page of ``browser``, recording errors and requests."""
    page = browser.new_page(viewport=VIEWPORT, color_scheme=color_scheme)
    opened = Visit(page, url)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("request", lambda request: opened.requests.append(request.url))

    def dismiss(dialog: Any) -> None:
        opened.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(url, wait_until="load")
    return opened


def page_url(url: str) -> str:
    """``url`` without its fragment: what the browser requests for it."""
    return url.split("#", 1)[0]


# -- screenshots ----------------------------------------------------------------------------
def screenshot_directory() -> Path:
    """Where screenshots are kept: ``$ARTIFACTS/screenshots`` in CI (Prow uploads
    ``$ARTIFACTS``), else ``build/test-artifacts/screenshots`` in the checkout."""
    base = os.environ.get("ARTIFACTS")
    root = (
        Path(base) if base else Path(__file__).resolve().parent.parent / "build" / "test-artifacts"
    )
    directory = root / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def save_screenshot(opened: Visit, name: str) -> Path:
    """A screenshot of the viewport, saved as ``name``.png; fails if it is blank."""
    path = screenshot_directory() / f"{name}.png"
    png = opened.page.screenshot(path=str(path))
    assert colours(png) > 8, f"{path} is blank"
    return path


def colours(png: bytes) -> int:
    """How many distinct colours a PNG has (a blank page has one)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(found) if found is not None else 1 << 20


# -- a web server on loopback ---------------------------------------------------------------
@contextmanager
def serving(directory: Path) -> Iterator[str]:
    """``directory`` served over HTTP on 127.0.0.1 (as a bucket serves artifacts); yields
    the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Say nothing: requests are checked in the browser."""
