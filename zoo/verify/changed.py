"""``zoo verify --changed-since REF RUN...``: measure only what changed, carry the rest over.

A model is measured again when, between REF (:mod:`zoo.verify.at_ref`) and now, its claims
changed (compared claim by claim as zoo reads them, not as text), what its card builds or loads
changed (library, ``hf-hub:`` model, ``Weights Hub`` key), a tolerance of a metric it claims
changed, a waiver naming it changed, the pinned FLOPs convention its collection is held to
changed, or its weights lock entry changed; when it is new; or when the given run did not
measure it. Every other model's measurements are taken from the given run (the last full run),
and every model is judged again, together, against the zoo data of today.

Measurements carry over only from a run made where they would be made the same way: the same
torch, timm, torchvision and zoo versions, the same CUDA and GPUs (and, for throughput, the same
CPU, threads and allocator), the kinds asked for measured there, and the same measuring options
(data, class map, image count, own checkpoint, weights source, device, dtype, batch size, ...).
Otherwise every model is measured and the output says why. The run record names the models
carried, the run they came from, and why each other model was measured (:class:`zoo.records.CarriedOver`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from zoo.errors import InputError
from zoo.records import CarriedOver, ConventionTable, Environment, Measurement, ModelCard, RunRecord

if TYPE_CHECKING:
    from zoo.judge.policy import Policy
    from zoo.verify.at_ref import ZooAtRef
    from zoo.verify.models import ModelWork
    from zoo.weights.lockfile import WeightsLock

MEASURING_OPTIONS = (
    "data", "data_labels", "class_map", "limit", "eval_device", "amp", "eval_channels_last", "interval", "population",
    "device", "dtype", "channels_last", "compile", "compile_mode", "threads", "batch_size", "rounds", "allocator",
    "local_weights", "weights_source", "hub_repos",
)
"""Options that change what a measurement is (the data scored and its labels, the checkpoint
measured, the device, the precision, ...). Seeds, baselines, caches, mirrors and output options
are left out: a subset seed only draws which images the changed models are scored on, and a
mirror or cache serves the same verified bytes."""


def _flag(key: str) -> str:
    """The command-line flag an option key is given by (``local_weights`` is ``--weights``)."""
    from zoo.flags import flag_fields
    from zoo.measure.accuracy.options import EvalOptions
    from zoo.measure.throughput.options import BenchOptions
    from zoo.weights.options import FetchOptions

    for cls in (FetchOptions, EvalOptions, BenchOptions):
        for _, meta in flag_fields(cls):
            if meta.name == key and meta.flag:
                return meta.flag
    return f"--{key.replace('_', '-')}"


def environment_facts(environment: Environment, kinds: Sequence[str]) -> dict[str, Any]:
    """What measurements depend on in the environment a run was made in."""
    facts: dict[str, Any] = {
        "torch": environment.torch,
        "timm": environment.packages.get("timm", ""),
        "torchvision": environment.packages.get("torchvision", ""),
        "zoo": environment.packages.get("zoo", ""),
        "CUDA": environment.cuda,
        "GPUs": ", ".join(environment.gpus) or "none",
    }
    if "throughput" in kinds:  # timing depends on the machine itself
        facts.update({"CPU": environment.cpu, "CPU threads": environment.cpu_threads, "allocator": environment.allocator})
    return facts


def why_everything(last: RunRecord, here: Environment, kinds: Sequence[str], options: Mapping[str, Any]) -> Optional[str]:
    """Why no measurement of ``last`` can stand for one made here, or None when they all can."""
    then, now = environment_facts(last.environment, kinds), environment_facts(here, kinds)
    differ = [f"{key} {then[key] or 'none'} there, {now[key] or 'none'} here" for key in now if then.get(key) != now[key]]
    if differ:
        return f"the environment of run {last.run_id} differs: {'; '.join(differ)}"
    missing = [kind for kind in kinds if kind not in last.measurements_requested]
    if missing:
        return f"run {last.run_id} did not measure {', '.join(missing)} (it measured {', '.join(last.measurements_requested) or 'nothing'})"
    changed = [
        f"{_flag(key)} {last.options.get(key)!r} there, {options.get(key)!r} here"
        for key in MEASURING_OPTIONS if _plain(last.options.get(key)) != _plain(options.get(key))
    ]
    if changed:
        return f"run {last.run_id} measured with other options: {'; '.join(changed)}"
    return None


def _plain(value: Any) -> Any:
    """An option as a run record keeps it (lists joined, paths as text), for comparison."""
    if isinstance(value, (tuple, list)):
        return ", ".join(str(item) for item in value) or None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _claims(card: ModelCard) -> dict[str, tuple[Any, ...]]:
    """The card's claims as zoo reads them (field, value, text, unit), without their places."""
    return {metric: (claim.field, repr(claim.value), claim.raw, claim.unit) for metric, claim in card.claims.items()}


def _built(card: ModelCard) -> tuple[str, str, Any]:
    """What is built and loaded for the card besides its claims: the library, what it builds
    (``hf-hub:ORG/NAME``) and the Hub repo its card key names for the weights."""
    from zoo.verify.builders import library_of
    from zoo.weights.hub.refs import CARD_KEY

    nested = card.metadata.get("Metadata")
    hub = card.metadata.get(CARD_KEY, nested.get(CARD_KEY) if isinstance(nested, dict) else None)
    return library_of(card), card.builds, None if hub is None else str(hub)


def _bounds(policy: "Policy", metric: str) -> tuple[float, float]:
    tolerance = policy.tolerance(metric)
    return tolerance.relative, tolerance.absolute


def _label(table: ConventionTable, collection: Optional[str]) -> str:
    """The pinned convention a collection is held to (its evidence, refitted, may change; the rule not)."""
    convention = table.for_collection(collection)
    return convention.label() if convention is not None else "none pinned"


def _waivers(policy: "Policy", model: str) -> list[tuple[str, str, str]]:
    return sorted((w.metric, w.reason, w.expires) for w in policy.waivers if w.model == model)


def _lock_entries(lock: Optional["WeightsLock"], model: str) -> list[tuple[str, ...]]:
    if lock is None:
        return []
    return sorted((e.file_name, e.sha256, str(e.size), e.url, e.repo, e.commit, e.file) for e in lock.entries.values() if model in e.models)


def change_reasons(
    card: ModelCard, then: "ZooAtRef", policy: "Policy", conventions: ConventionTable, lock: Optional["WeightsLock"],
) -> list[str]:
    """Why ``card`` is measured again since ``then`` (empty: nothing it depends on changed)."""
    before = then.cards.get(card.name)
    if before is None:
        return [f"new since {then.ref}"]
    reasons = []
    old, new = _claims(before), _claims(card)
    fields = sorted({(new.get(m) or old.get(m))[0] for m in set(old) | set(new) if old.get(m) != new.get(m)})  # type: ignore[index]
    if fields:
        reasons.append(f"claims changed: {', '.join(fields)}")
    if _built(before) != _built(card):
        was, now = _built(before), _built(card)
        what = [label for label, a, b in zip(("library", "builds", "Weights Hub"), was, now) if a != b]
        reasons.append(f"what is built changed: {', '.join(what)}")
    if before.collection != card.collection:
        reasons.append(f"collection changed: {before.collection} -> {card.collection}")
    tolerances = sorted(m for m in card.claims if _bounds(then.policy, m) != _bounds(policy, m))
    if tolerances:
        reasons.append(f"tolerance changed: {', '.join(tolerances)}")
    if _waivers(then.policy, card.name) != _waivers(policy, card.name):
        reasons.append("waivers changed")
    if "flops" in card.claims:
        was, now = _label(then.conventions, card.collection), _label(conventions, card.collection)
        if was != now:
            reasons.append(f"FLOPs convention changed: {was} -> {now}")
    if _lock_entries(then.lock, card.name) != _lock_entries(lock, card.name):
        reasons.append("weights lock entry changed")
    return reasons


@dataclass(frozen=True)
class CarryPlan:
    """What a ``--changed-since`` run measures and what it carries over from the last run."""

    cards: list[ModelCard]
    """Every model of the run, in index order."""
    measure: list[ModelCard]
    carried: dict[str, list[Measurement]] = field(default_factory=dict)
    """Model -> its measurements in the last run."""
    info: Optional[CarriedOver] = None

    def combine(self, measured: Sequence["ModelWork"]) -> list["ModelWork"]:
        """The measured models and the carried ones, in index order, for judging together."""
        from zoo.verify.models import ModelWork

        by_name = {work.card.name: work for work in measured}
        return [by_name.get(card.name) or ModelWork(card, None, list(self.carried[card.name])) for card in self.cards]

    def summary(self) -> str:
        """One line for the terminal: how many models were measured and carried, and why."""
        info = self.info
        assert info is not None
        if info.everything:
            return f"--changed-since {info.changed_since}: measuring all {len(self.cards)} models: {info.everything}"
        shown = "; ".join(f"{name} ({why})" for name, why in list(info.measured.items())[:10])
        more = f"; ... {len(info.measured) - 10} more" if len(info.measured) > 10 else ""
        return (f"--changed-since {info.changed_since}: measuring {len(self.measure)} of {len(self.cards)} models"
                f"{': ' + shown + more if shown else ''}; {len(info.carried)} carried over from run {info.from_run}")


def plan_changes(
    cards: Sequence[ModelCard], then: "ZooAtRef", last: RunRecord, *, here: Environment, kinds: Sequence[str],
    options: Mapping[str, Any], policy: "Policy", conventions: ConventionTable, lock: Optional["WeightsLock"],
) -> CarryPlan:
    """Which of ``cards`` to measure and which to carry over from ``last`` (see the module doc)."""
    everything = why_everything(last, here, kinds, options)
    stored = {result.card.name: result for result in last.models}
    measured: dict[str, str] = {}
    carried: dict[str, list[Measurement]] = {}
    for card in cards:
        if everything is not None:
            measured[card.name] = "every model is measured"
            continue
        reasons = change_reasons(card, then, policy, conventions, lock)
        if not reasons and card.name not in stored:
            reasons = [f"not in run {last.run_id}"]
        if reasons:
            measured[card.name] = "; ".join(reasons)
        else:
            carried[card.name] = list(stored[card.name].measurements)
    records = last.merge.merged_from if last.merge is not None else [last.run_id]
    info = CarriedOver(
        changed_since=then.ref, commit=then.commit, from_run=last.run_id, from_records=list(records),
        carried=list(carried), measured=measured, everything=everything,
    )
    return CarryPlan(cards=list(cards), measure=[c for c in cards if c.name in measured], carried=carried, info=info)


def last_full_run(paths: Sequence[str]) -> RunRecord:
    """The run the RUN arguments hold (its shards merged): one run, made in full."""
    from zoo.runs.merge import combine_runs
    from zoo.runs.store import load_run

    if not paths:
        raise InputError(
            "--changed-since needs the last full run's records: zoo verify --changed-since REF RUN...",
            hint="give the run folders (or run.json files) of the last full `zoo verify --all` run, e.g. runs/*/",
        )
    for path in paths:
        if not Path(path).exists():
            raise InputError(
                f"--changed-since: {path!r} is not a run record (no such file or folder); with --changed-since "
                "the arguments are the last full run's records, and the models are those of the index that changed",
                hint="give run folders or run.json files, e.g. runs/*/",
            )
    runs = combine_runs([load_run(Path(p)) for p in paths])
    if len(runs) != 1:
        raise InputError(
            f"--changed-since: the records given hold {len(runs)} runs ({', '.join(r.run_id for r in runs)}); give one run's records",
            hint="give the records (shards) of the last full run only",
        )
    run = runs[0]
    if run.carried is not None:
        raise InputError(
            f"--changed-since: run {run.run_id} was itself a --changed-since run (it carried models over from {run.carried.from_run})",
            hint="give the records of the last full run (zoo verify --all)",
        )
    return run


__all__ = ["CarryPlan", "MEASURING_OPTIONS", "change_reasons", "environment_facts", "last_full_run", "plan_changes", "why_everything"]
