"""Headless Chromium for tests: load a page as a reader would, report what broke, screenshot it.

No browser driver: Chromium's own ``--dump-dom`` (the DOM after load) on a copy of the page with
a small probe script that writes the state of every image and every error event into the DOM,
and ``--enable-logging=stderr`` on the page itself, which prints every console message.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
)
PROBE = """<script id="__probe_script">
(function () {
  var errors = [];
  window.alert = function (m) { errors.push("alert called: " + m); };
  window.addEventListener("error", function (ev) {
    var t = ev.target;
    if (t && t !== window && t.tagName) {
      errors.push("failed to load " + t.tagName + " " + String(t.src || t.href || "").slice(0, 80));
    } else {
      errors.push("error: " + ev.message);
    }
  }, true);
  window.addEventListener("load", function () {
    var images = Array.prototype.map.call(document.images, function (i) {
      return {alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight};
    });
    var scripts = document.querySelectorAll("script:not(#__probe_script)").length;
    var out = document.createElement("pre");
    out.id = "__probe";
    out.textContent = JSON.stringify({
      images: images, errors: errors, scripts: scripts,
      height: document.documentElement.scrollHeight, text: document.body.innerText
    });
    document.body.appendChild(out);
  });
})();
</script>"""
CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)$", re.MULTILINE)


def find() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageState:
    images: list[dict]
    errors: list[str]
    console: list[str]
    scripts: int
    height: int
    text: str


def _run(browser: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [browser, *FLAGS, *args], capture_output=True, text=True, timeout=120, check=False
    )


def load(browser: str, page: Path, width: int = 1280) -> PageState:
    """Load ``page`` in a window ``width`` pixels wide: console messages of the page itself,
    image states, errors and the page height from a probed copy beside it (same folder, so
    relative links resolve alike)."""
    size = f"--window-size={width},900"
    plain = _run(browser, size, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    console = CONSOLE.findall(plain.stderr)
    html = page.read_text(encoding="utf-8")
    probed = page.with_name(f".probe-{page.name}")
    probed.write_text(html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    try:
        dumped = _run(browser, size, "--dump-dom", probed.as_uri())
    finally:
        probed.unlink()
    match = re.search(r'<pre id="__probe">(.*?)</pre>', dumped.stdout, re.DOTALL)
    if not match:
        raise AssertionError(f"the probe did not run: {dumped.stderr[-2000:]}")
    state = json.loads(_unescape(match.group(1)))
    return PageState(
        state["images"], state["errors"], console, state["scripts"], state["height"], state["text"]
    )


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def screenshot(browser: str, page: Path, out: Path, width: int, height: int) -> Path:
    result = _run(browser, f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri())
    if not out.is_file():
        raise AssertionError(f"no screenshot: {result.stderr[-2000:]}")
    return out
