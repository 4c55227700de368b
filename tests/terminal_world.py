"""A populated run for the terminal tests: accuracy, throughput claims, SHA-256 weights, latency.

Built like ``zoo verify`` builds one: cards from the real index loader, verdicts from the real
:func:`zoo.judge.compare.judge`; the measured values are test inputs chosen to give each verdict.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from fixtures.runs.world import REPORT_WAIVERS, TODAY, make_run, report_outcomes, write_index, write_tolerances
from zoo.judge.compare import judge
from zoo.judge.policy import load_policy
from zoo.records import Claim, Measurement, RunRecord, SourceRef, Uncertainty


def populated_run(root: Path) -> RunRecord:
    """Four models with every verdict, whole SHA-256 weights values and FPS claims."""
    write_index(root)
    tolerances = write_tolerances(root, waivers=REPORT_WAIVERS)
    text = tolerances.read_text(encoding="utf-8")
    tolerances.write_text(text.replace("tolerances:\n", "tolerances:\n  throughput: {relative: 0.1}\n", 1), encoding="utf-8")
    run = make_run(root, report_outcomes())
    policy = load_policy(root / "metadata" / "tolerances.yml")
    models = []
    for number, result in enumerate(run.models):
        found = []
        for m in result.measurements:
            if m.metric == "weights" and m.status == "ok":
                digest = hashlib.sha256(result.card.name.encode()).hexdigest()
                m = dataclasses.replace(m, value=digest, unit="sha256", conditions={"sha256": digest, "path": str(root / "cache" / f"{result.card.name}.pth")})
            found.append(m)
        found += [
            Measurement("latency_p50", "ok", 11.0 + number, "ms", "batch-1 latency", conditions={"batch_size": 1, "threads": 2},
                        uncertainty=Uncertainty("iqr", 10.5 + number, 11.6 + number)),
            Measurement("latency_p90", "ok", 13.0 + number, "ms", "batch-1 latency", conditions={"batch_size": 1, "threads": 2},
                        uncertainty=Uncertainty("iqr", 12.5 + number, 13.6 + number)),
        ]
        card = result.card
        claimed = 900.0 if number % 2 == 0 else 500.0  # two within 10 %, two beyond
        fps = Claim("throughput", "FPS (CPU Test CPU)", claimed, f"{claimed:.0f}", SourceRef(card.source.path, card.source.line + 2), "images/s", 1.0)
        card = dataclasses.replace(card, claims={**card.claims, "throughput": fps})
        models.append(dataclasses.replace(result, card=card, measurements=found, verdicts=judge(card, found, policy, TODAY)))
    return dataclasses.replace(run, models=models)
