"""``zoo fix`` on a real zoo, end to end: what it changes, and that the corrected cards hold.

Copies a folder of cards (timm's ``hfdocs/source/models/``) into a fresh git repository, then:
``zoo verify --all --only config,params,flops``; ``zoo fix RUN --all`` (the diff: changes by
metric, ``git apply --check``); ``zoo fix RUN --all --write`` (the written tree must equal the
applied diff); ``zoo verify`` again with the conventions the first run used pinned (drifts left,
and whether any changed claim drifts); Papers with Code's reader (``model-index``) over every
card before and after (the fields whose value differs, which must be exactly the changed ones,
each keeping its type). Prints the figures; exits 1 if a check fails.

    git --git-dir=.../pytorch-image-models/.git archive HEAD hfdocs/source/models | tar -x -C /tmp/timm
    python benchmarks/check_fix_timm.py --cards /tmp/timm/hfdocs/source/models

About 5 minutes on 2 cores (two whole-zoo verify runs).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import modelindex

from zoo.judge.conventions_file import write_conventions
from zoo.runs.store import list_runs, load_run


def zoo(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=repo, capture_output=True)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "core.autocrlf=false", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def pwc(text: str) -> dict:
    """model name (or "collection NAME") -> field -> value, as model-index reads a card's text."""
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(tmp) / "card.md"  # model-index reads .md, not .mdx
        card.write_text(text, encoding="utf-8")
        index = modelindex.load(str(card))
    found = {}
    for model in index.models or []:
        fields = dict(model.metadata.data) if model.metadata else {}
        for result in model.results or []:
            fields.update({f"{result.dataset}: {k}": v for k, v in dict(result.metrics).items()})
        fields.update({"Weights": model.weights, "In Collection": model.in_collection})
        found[model.name] = fields
    for collection in index.collections or []:
        found[f"collection {collection.name}"] = dict(collection.metadata.data) if collection.metadata else {}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", required=True, type=Path, help="folder of model cards (.mdx/.md/.yml)")
    parser.add_argument("--work", type=Path, default=None, help="where to build the repository (default: a temporary folder)")
    options = parser.parse_args()
    work = options.work or Path(tempfile.mkdtemp(prefix="zoo-fix-"))
    repo = work / "repo"
    shutil.copytree(options.cards, repo / "cards")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=zoo@example.invalid", "-c", "user.name=zoo", "commit", "-qm", "cards as published")
    failures = []

    started = time.perf_counter()
    zoo(repo, "verify", "--all", "--only", "config,params,flops", "--index", "cards/", "--results", str(work / "runs"), "-q")
    [first] = list_runs(work / "runs")
    run = load_run(first)
    drifts = Counter(v.metric for v in run.verdicts() if v.status == "drift")
    print(f"verify: {len(run.models)} models, drift by metric {dict(drifts)} ({time.perf_counter() - started:.0f} s)")

    started = time.perf_counter()
    fixed = zoo(repo, "fix", str(first.parent), "--all", "--results", str(work / "fix-runs"))
    patch = work / "fix.patch"
    patch.write_bytes(fixed.stdout)
    summary = next(line for line in fixed.stderr.decode().splitlines() if line.startswith("zoo fix: proposes"))
    print(f"fix --diff: exit {fixed.returncode}, {time.perf_counter() - started:.0f} s; {summary}")
    applies = subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, capture_output=True, text=True)
    print(f"git apply --check: {'ok' if applies.returncode == 0 else applies.stderr.strip()}")
    failures += [] if applies.returncode == 0 else ["the diff does not apply"]

    written = zoo(repo, "fix", str(first.parent), "--all", "--write", "--results", str(work / "fix-runs"))
    after_write = git(repo, "diff")
    git(repo, "stash", "-q")
    git(repo, "apply", str(patch))
    if git(repo, "diff") != after_write:
        failures.append("--write and the applied diff differ")
    print(f"fix --write: exit {written.returncode}; {git(repo, 'diff', '--shortstat').strip()}; same as the diff: {git(repo, 'diff') == after_write}")

    lines_changed = sum(1 for line in after_write.splitlines() if line.startswith("+") and not line.startswith("+++"))
    pinned = work / "pinned-conventions.yml"
    assert run.judged_against is not None
    write_conventions(pinned, run.judged_against.conventions, run.index, {}, f"the conventions of run {run.run_id}")
    started = time.perf_counter()
    again = zoo(repo, "verify", "--all", "--only", "config,params,flops", "--index", "cards/", "--conventions", str(pinned),
                "--no-record", "--format", "json", "-q")
    rows = json.loads(again.stdout)["results"]
    left = Counter(key[: -len("_verdict")] for row in rows for key, value in row.items() if key.endswith("_verdict") and value == "drift")
    print(f"verify after --write (conventions pinned as the run used them): drift by metric {dict(left)} "
          f"({time.perf_counter() - started:.0f} s)")
    failures += [f"{sum(left.values())} drift after --write"] if left else []

    differing, models, typed = [], 0, True
    for card in sorted((repo / "cards").iterdir()):
        if card.suffix not in (".md", ".mdx"):
            continue
        rel = card.relative_to(repo)
        before, after = pwc(git(repo, "show", f"HEAD:{rel}")), pwc(card.read_text(encoding="utf-8"))
        models += len(before)
        if before.keys() != after.keys():
            failures.append(f"{rel}: model-index reads other models after the fix")
            continue
        for name, fields in before.items():
            if fields.keys() != after[name].keys():
                failures.append(f"{rel}: {name}: other fields after the fix")
            for key, old in fields.items():
                new = after[name].get(key)
                if new != old:
                    differing.append((str(rel), name, key))
                    typed = typed and type(new) is type(old)
    by_field = Counter(key.split(": ")[-1] for _, _, key in differing)
    print(f"model-index: {models} models and collections read; {len(differing)} fields differ ({dict(by_field)}), "
          f"{lines_changed} lines changed; every changed value keeps its type: {typed}")
    failures += [] if len(differing) == lines_changed and typed else ["model-index sees other differences than the changed lines"]
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
