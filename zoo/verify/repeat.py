"""``zoo bench --repeat N``: the same benchmark in N fresh processes, one figure with the
spread between them.

On CPU a throughput figure moves between processes far more than within one (page faults,
allocator state, load), so the IQR of one process's rounds is no evidence that a later run
changed. Each process writes its own run record (kept beside the combined one as
``processes/NN.json``); the combined record's figure is the median of the processes'
figures and its uncertainty is their range, kind ``process-range``, which
:mod:`zoo.judge.history` accepts as evidence across processes.

Example::

    records = run_in_fresh_processes(["bench", "mobilenetv2_100", "--threads", "2"], 5)
    combined = combine_processes(records, policy)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional, Sequence

from zoo.errors import ZooError
from zoo.judge.history import BETWEEN_PROCESSES, COMPARABLE_CONDITIONS, TIMING_METRICS
from zoo.judge.verdicts import judge_model
from zoo.judge.zoo_data import ZooData
from zoo.records import Measurement, RunRecord, Scalar, Uncertainty, to_json_dict
from zoo.runs.store import load_run

CHILD_ENV = "ZOO_BENCH_RECORD_TO"
"""Set in each repeated process: the file it writes its run record to (and prints nothing)."""
PROCESS_FOLDER = "processes"


class RepeatFailed(ZooError):
    """A repeated process ended without writing its run record."""


def write_child_record(record: RunRecord, path: Path) -> None:
    """What a repeated process does with its record: JSON to the file the parent named."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(to_json_dict(record)), encoding="utf-8")
    os.replace(tmp, path)


def run_in_fresh_processes(
    args: Sequence[str], repeat: int, say: Callable[[str], None] = lambda _: None
) -> list[RunRecord]:
    """Run ``python -m zoo ARGS`` ``repeat`` times, one after another, each in a new process."""
    records = []
    with tempfile.TemporaryDirectory(prefix="zoo-repeat-") as folder:
        for number in range(1, repeat + 1):
            out = Path(folder) / f"{number:02d}.json"
            say(f"process {number}/{repeat}")
            env = {**os.environ, CHILD_ENV: str(out)}
            done = subprocess.run([sys.executable, "-m", "zoo", *args], env=env, check=False)
            if not out.exists():
                raise RepeatFailed(
                    f"repeated process {number}/{repeat} exited with code {done.returncode} without a run record",
                    hint="run the same zoo bench command once, without --repeat, to see its error",
                )
            records.append(load_run(out))  # the one reader of run records
    return records


def combine_processes(records: Sequence[RunRecord], zoo: ZooData, run_id: str, today=None) -> RunRecord:  # type: ignore[no-untyped-def]
    """One run record from the records of repeated processes, judged again against ``zoo`` (with
    the FLOPs conventions the processes used where ``zoo`` pins none)."""
    first, last = records[0], records[-1]
    if not zoo.pinned and first.judged_against is not None:
        zoo = replace(zoo, conventions=first.judged_against.conventions)
    models = []
    for result in first.models:
        same = [r for record in records for r in record.models if r.card.name == result.card.name]
        measurements = []
        for measurement in result.measurements:
            if measurement.metric in TIMING_METRICS:
                measurement = _combined([r.measurement(measurement.metric) for r in same])
            measurements.append(measurement)
        models.append(judge_model(result.card, measurements, zoo, today or dt.date.today()))
    artifacts = {f"{PROCESS_FOLDER}/{n:02d}": f"{PROCESS_FOLDER}/{n:02d}.json" for n in range(1, len(records) + 1)}
    return replace(
        first,
        run_id=run_id,
        finished=last.finished,
        models=models,
        options={**first.options, "repeat": len(records)},
        judged_against=zoo.judged_against(),
        artifacts={**first.artifacts, **artifacts},
    )


def _combined(per_process: list[Optional[Measurement]]) -> Measurement:
    """Median of the processes' figures with their range; the first failure if one failed."""
    failed = next((m for m in per_process if m is None or m.status != "ok"), None)
    ok = [m for m in per_process if m is not None and m.status == "ok"]
    if failed is not None or not ok:
        return failed if failed is not None else per_process[0]  # type: ignore[return-value]
    metric = ok[0].metric
    differing = [
        key for key in COMPARABLE_CONDITIONS if len({repr(m.conditions.get(key)) for m in ok}) > 1
    ]
    if differing:
        return Measurement.failed(
            metric,
            f"the {len(ok)} processes measured under different conditions ({', '.join(differing)}); "
            "no figure is combined from them",
            conditions=dict(ok[0].conditions),
        )
    values = [float(m.value) for m in ok]  # type: ignore[arg-type]
    ordered = sorted(ok, key=lambda m: float(m.value))  # type: ignore[arg-type]
    middle = ordered[(len(ordered) - 1) // 2]
    conditions = dict(middle.conditions)
    conditions.update(
        processes=len(ok),
        process_values=", ".join(f"{v:.6g}" for v in values),
    )
    conditions.update(_combined_load(ok))
    faults = [m.conditions.get("minor_faults_per_call") for m in ok]
    if all(isinstance(f, (int, float)) for f in faults):
        conditions["process_minor_faults_per_call"] = ", ".join(f"{f:.4g}" for f in faults)  # type: ignore[union-attr]
    median = statistics.median(values)
    return Measurement(
        metric=metric,
        status="ok",
        value=median,
        unit=middle.unit,
        method=f"median of {len(ok)} fresh processes, each: {middle.method}",
        conditions=conditions,
        uncertainty=Uncertainty(kind=BETWEEN_PROCESSES, low=min(values), high=max(values)),
        notes=[
            f"{len(ok)} fresh processes, in order: {', '.join(f'{v:.4g}' for v in values)} {middle.unit or ''}".rstrip()
            + f"; range {min(values):.4g}-{max(values):.4g}",
            *middle.notes,
        ],
    )


def _combined_load(ok: list[Measurement]) -> dict[str, Scalar]:
    """The load over all the processes: the lowest load average at a start, the highest at an end,
    the lowest CPU per wall second (the process that waited most for its cores), and each one's."""
    def numbers(key: str) -> list[float]:
        return [float(v) for m in ok if isinstance(v := m.conditions.get(key), (int, float))]

    out: dict[str, Scalar] = {}
    for key, pick in (("load_1min_before", min), ("load_1min_after", max), ("cpu_per_wall", min)):
        values = numbers(key)
        if len(values) == len(ok):
            out[key] = pick(values)
    shares = numbers("cpu_per_wall")
    if len(shares) == len(ok):
        out["process_cpu_per_wall"] = ", ".join(f"{v:.3g}" for v in shares)
    return out


def save_processes(records: Sequence[RunRecord], folder: Path) -> None:
    """Each process's record as ``processes/NN.json`` inside a staged run folder."""
    target = folder / PROCESS_FOLDER
    target.mkdir()
    for number, record in enumerate(records, 1):
        (target / f"{number:02d}.json").write_text(json.dumps(to_json_dict(record), indent=1), encoding="utf-8")


__all__ = ["CHILD_ENV", "combine_processes", "run_in_fresh_processes", "save_processes", "write_child_record"]
