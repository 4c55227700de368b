"""The HTML report's layout in headless Chromium at 1400 and 390 px: facts, not looks.

At 1400 px every model's table fits its card (about 1,200 px) with Verdict and Why inside
the card's box; at 390 px the page is no wider than the screen, every table with a verdict is
one block per row with each verdict on screen (nothing scrolls sideways), and every plot fits
at a legible scale. Screenshots of both go to ``$ZOO_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from browser import chromium, layout, screenshot
from terminal_world import populated_run
from zoo.views.html import write_html_report

pytestmark = pytest.mark.skipif(
    chromium() is None, reason="headless Chromium is not installed (apt-get install chromium; .ci/run installs it)"
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout")
    run = populated_run(root)
    earlier = dataclasses.replace(run, run_id="20250525T120000Z-aaa111", started="2025-05-25T12:00:00+00:00",
                                  finished="2025-05-25T12:20:00+00:00")
    return write_html_report([earlier, run], root / "report")


def _inside(inner: dict, outer: dict) -> bool:
    return inner["left"] >= outer["left"] - 0.5 and inner["right"] <= outer["right"] + 0.5


def _keep(shot: Path) -> None:
    folder = os.environ.get("ZOO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(folder) / shot.name)


def test_at_1400px_each_model_table_fits_its_card_with_verdict_and_why_visible(page: Path, tmp_path: Path) -> None:
    from PIL import Image

    found = layout(page, 1400)
    assert found["viewport"] == 1400 and found["page"] == 1400, found["wide"][:5]
    assert len(found["cards"]) == 4
    for card in found["cards"]:
        assert 1100 <= card["box"]["width"] <= 1200, card["box"]
        assert card["scrollWidth"] <= card["clientWidth"], card["model"]  # nothing behind a scrollbar
        assert len(card["cells"]) == 10
        for cell in card["cells"]:
            assert cell["verdict"] and _inside(cell["verdict"], card["box"]), (card["model"], cell)
            assert cell["why"] and _inside(cell["why"], card["box"]), (card["model"], cell)
            assert cell["why"]["width"] >= 150
    shot = screenshot(page, 1400, tmp_path / "report-1400.png", height=4200)
    with Image.open(shot) as image:
        assert image.width == 1400
    _keep(shot)


def test_at_390px_every_verdict_is_on_screen_without_scrolling_sideways_and_plots_are_legible(page: Path, tmp_path: Path) -> None:
    from PIL import Image

    found = layout(page, 390)
    assert found["viewport"] == 390
    assert found["page"] == 390 and not found["wide"], found["wide"][:5]
    for card in found["cards"]:
        assert card["box"]["left"] >= 0 and card["box"]["right"] <= 390, card["box"]
        assert card["scrollWidth"] <= card["clientWidth"], card["model"]  # the claims table does not scroll sideways ...
        assert len(card["cells"]) == 10
        for cell in card["cells"]:  # ... and each claim's verdict is on the screen
            assert cell["verdict"] and 0 <= cell["verdict"]["left"] and cell["verdict"]["right"] <= 390, (card["model"], cell)
    assert len(found["verdicts"]) >= 4 * 10 + 4  # the models' claims, the overview, attention, accuracy, changes
    for verdict in found["verdicts"]:
        assert 0 <= verdict["box"]["left"] and verdict["box"]["right"] <= 390, verdict
    for scroller in found["scrollers"]:
        if "stack" in scroller["table"]:
            assert scroller["scrollWidth"] <= scroller["clientWidth"], scroller
    assert len(found["figures"]) >= 8
    for figure in found["figures"]:
        assert figure["box"]["left"] >= 0 and figure["box"]["right"] <= 390, figure
        # a figure is drawn for the width it is shown at: text shrinks to no less than 60% of its drawn size
        assert figure["box"]["width"] >= 0.6 * figure["natural"], figure
    shot = screenshot(page, 390, tmp_path / "report-390.png", height=7000)
    with Image.open(shot) as image:
        assert image.width == 390
    _keep(shot)
