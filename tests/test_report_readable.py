"""The HTML report says each thing once and in words: no Python reprs, shared reasons and
conditions said once."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from terminal_world import populated_run
from zoo.views.html import render_html


def test_environment_options_are_words_not_reprs(tmp_path: Path) -> None:
    run = populated_run(tmp_path)
    run = dataclasses.replace(run, options={"models": "()", "cache_dir": "PosixPath('/srv/cache')", "mirror": "('a', 'b')",
                                            "offline": True, "shard": None, "limit": 5000})
    html = render_html([run], plots=[])
    environment = html[html.index('id="environment"'):]
    assert "PosixPath" not in environment and "()" not in environment
    assert ">/srv/cache<" in environment and ">a, b<" in environment and ">--limit<" in environment
    assert ">--shard<" not in environment and ">--models<" not in environment


def test_a_reason_shared_by_several_claims_is_said_once(tmp_path: Path) -> None:
    html = render_html([populated_run(tmp_path)], plots=[])
    unverified = html[html.index('id="unverified"'): html.index('id="models"')]
    reason = "no ImageNet data configured (set ZOO_IMAGENET or pass --imagenet)"
    assert unverified.count(reason) == 1  # mobilenetv2_140's top-1 and top-5 share it
    assert unverified.count("mobilenetv2_140</a>") == 2


def test_conditions_are_shown_once_per_model(tmp_path: Path) -> None:
    html = render_html([populated_run(tmp_path)], plots=[])
    # three models have measured accuracy; each has one fingerprint shared by top-1 and top-5
    accuracy = html[html.index('id="accuracy"'): html.index('id="changes"') if 'id="changes"' in html else None]
    assert accuracy.count("sha256:4f2e1a") == 3
    models = html[html.index('id="models"'): html.index('id="accuracy"')]
    assert models.count("sha256:4f2e1a") == 3
    assert len(re.findall(r'<td class="conditions" rowspan="2"', accuracy)) == 3


def test_a_shortened_hash_keeps_its_whole_value_for_hover(tmp_path: Path) -> None:
    run = populated_run(tmp_path)
    html = render_html([run], plots=[])
    digest = next(m.value for m in run.models[0].measurements if m.metric == "weights")
    assert f'title="{digest}"' in html and f">{digest[:8]}…<" in html
    assert html.count('class="short"') == 4  # only the four hashes were shortened


def test_markdown_says_a_shared_reason_once(tmp_path: Path) -> None:
    from zoo.views.markdown import render_markdown

    text = render_markdown([populated_run(tmp_path)])
    unverified = text.split("### Unverified")[1].split("###")[0]
    assert unverified.count("no ImageNet data configured") == 1 and unverified.count("″ (same reason)") == 1
    assert unverified.count("| mobilenetv2_140 |") == 2
