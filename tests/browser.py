"""Headless Chromium for layout tests: screenshots and element boxes of a page.

Headless Chromium will not make a window narrower than 500 px, so the page is shown in an
iframe exactly as wide as the screen being imitated (its media queries see that width).
A small script appended to a copy of the page writes each measured element's
``getBoundingClientRect()`` as JSON; the host copies it out and ``--dump-dom`` hands it back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Optional

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars", "--allow-file-access-from-files",
         "--virtual-time-budget=5000"]
MIN_WINDOW = 500

HOST = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="page" src="{src}" style="border:0;display:block;width:{width}px;height:{height}px"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var found = this.contentDocument && this.contentDocument.getElementById("zoo-layout");
  var pre = document.createElement("pre"); pre.id = "zoo-host"; pre.textContent = found ? found.textContent : "null";
  document.body.appendChild(pre);
}});
</script></body></html>"""

MEASURE = """
<script>
(function () {
  function box(el) { var r = el.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; }
  var out = {viewport: window.innerWidth, page: document.documentElement.scrollWidth, cards: [], figures: [], wide: []};
  document.querySelectorAll("article.model").forEach(function (card) {
    var wrap = card.querySelector(".scroll") || card;
    var cells = [];
    card.querySelectorAll("table.claims tbody tr").forEach(function (tr) {
      var v = tr.querySelector("td.verdict"), w = tr.querySelector("td.why");
      cells.push({metric: tr.dataset.metric, verdict: v ? box(v) : null, why: w ? box(w) : null});
    });
    out.cards.push({model: card.id, box: box(card), scroll: box(wrap), scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth, cells: cells});
  });
  out.verdicts = [];
  document.querySelectorAll("table tbody tr").forEach(function (tr) {
    var v = tr.querySelector("td.verdict");
    if (v) { out.verdicts.push({table: tr.closest("table").className, row: tr.dataset.metric || tr.dataset.changeMetric || "", box: box(v)}); }
  });
  out.scrollers = [];
  document.querySelectorAll(".scroll").forEach(function (el) {
    out.scrollers.push({table: (el.querySelector("table") || el).className, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth});
  });
  document.querySelectorAll("figure img").forEach(function (img) { out.figures.push({box: box(img), natural: img.naturalWidth, src: img.currentSrc.length}); });
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && !el.closest(".scroll")) { out.wide.push(el.tagName + "." + el.className + " " + Math.round(r.right)); }
  });
  var pre = document.createElement("pre"); pre.id = "zoo-layout"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run(binary: str, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, timeout=timeout)


def _host(page: Path, width: int, height: int, tag: str) -> Path:
    host = page.with_name(f"{page.stem}.host-{tag}-{width}.html")
    host.write_text(HOST.format(src=page.name, width=width, height=height), encoding="utf-8")
    return host


def layout(page: Path, width: int, height: int = 900) -> dict[str, Any]:
    """Element boxes of ``page`` on a screen ``width`` px wide."""
    binary = chromium()
    assert binary is not None
    measured = page.with_name(f"{page.stem}.measure.html")
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    host = _host(measured, width, height, "layout")
    result = _run(binary, [f"--window-size={max(width, MIN_WINDOW)},{height}", "--dump-dom", host.as_uri()])
    dom = result.stdout.decode("utf-8", "replace")
    start = dom.index('<pre id="zoo-host">') + len('<pre id="zoo-host">')
    text = dom[start: dom.index("</pre>", start)]
    return json.loads(text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def screenshot(page: Path, width: int, target: Path, height: int = 2400) -> Path:
    """A PNG of the top ``height`` px of ``page`` on a screen ``width`` px wide."""
    from PIL import Image

    binary = chromium()
    assert binary is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    host = _host(page, width, height, "shot")
    _run(binary, [f"--window-size={max(width, MIN_WINDOW)},{height}", f"--screenshot={target}", host.as_uri()])
    with Image.open(target) as image:
        image.crop((0, 0, width, height)).save(target)
    return target
