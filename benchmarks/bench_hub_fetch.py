"""Hub fetch cost: zoo's verified Hub download against a bare ``hf_hub_download`` of the same file.

A loopback stand-in for the Hub (tests/hub_world.py, in another process) serves one repo with a
``model.safetensors`` of ``--mb`` MB. Interleaved, best of N rounds, each into an empty Hub cache:

- bare: ``hf_hub_download(repo, "model.safetensors")`` (huggingface_hub's own HEAD + GET, no hash);
- zoo:  ``fetch_hub`` (file list with the LFS SHA-256, HEAD + GET at the resolved commit through the
        guarded client, bounded progress hook, then SHA-256 of the file and the comparison).

Run: ``.venv/bin/python benchmarks/bench_hub_fetch.py [--mb 100] [--rounds 5]``. What zoo adds is
one metadata request and reading the file once more to hash it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

REPO = "timm/bench.hub_in1k"


def _serve(megabytes: int, ports: "multiprocessing.Queue[int]", stop: "multiprocessing.Event") -> None:
    from hub_world import HubStandIn

    data = os.urandom(megabytes * 1_000_000)
    with HubStandIn() as hub:
        hub.repo(REPO).commit("v1", {"model.safetensors": data})
        ports.put(hub.port)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    ports: "multiprocessing.Queue[int]" = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(args.mb, ports, stop), daemon=True)
    server.start()
    port = ports.get(timeout=120)
    scratch = Path(tempfile.mkdtemp(prefix="zoo-bench-hub-"))
    os.environ.update({"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                       "HF_TOKEN": "", "ZOO_PROGRESS": "0"})
    from huggingface_hub import hf_hub_download

    from zoo.records import ModelCard, SourceRef
    from zoo.weights.hub import fetch_hub
    from zoo.weights.options import FetchOptions

    card = ModelCard(name="bench", source=SourceRef("bench", 1))
    times: dict[str, list[float]] = {"bare": [], "zoo": []}
    try:
        for round_number in range(args.rounds):
            for kind in ("bare", "zoo"):
                cache = scratch / f"{kind}-{round_number}"
                os.environ["HF_HUB_CACHE"] = str(cache)
                if hasattr(os, "sync"):
                    os.sync()
                start = time.perf_counter()
                if kind == "bare":
                    hf_hub_download(REPO, "model.safetensors", cache_dir=cache, endpoint=os.environ["HF_ENDPOINT"])
                else:
                    fetch_hub(card, FetchOptions(cache_dir=scratch / "zoo-cache", lock_path=None, progress=False,
                                                 source="hub", hub_repos={"bench": REPO}))
                times[kind].append(time.perf_counter() - start)
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        stop.set()
        server.join(timeout=10)
        shutil.rmtree(scratch, ignore_errors=True)
    best = {kind: min(values) for kind, values in times.items()}
    for kind, seconds in best.items():
        print(f"{kind:>4}: {args.mb / seconds:7.0f} MB/s  (best of {args.rounds}: {seconds:.3f} s for {args.mb} MB)")
    print(f"zoo / bare: {best['bare'] / best['zoo']:.0%} of the bare download's speed")


if __name__ == "__main__":
    main()
