"""Fill the folder ``benchmarks/gpu_check.py`` needs on a GPU machine that reaches no network.

That machine runs its own ``python3`` (CPython 3.12 on x86-64 Linux, with torch, timm,
torchvision, numpy, pandas, pyarrow, matplotlib, scipy, jinja2, rich, click, pytest and
huggingface_hub 1.x) and has no pydantic. Written into ``--out`` (default ``.gpu-wheels/``,
ignored by git; it travels with the working tree and must stay under 64 MiB):

- ``zoo-*.whl``: zoo itself, built from this tree;
- the wheels zoo needs there and the machine lacks (``EXTRA``: pydantic and its own needs),
  at the versions installed here, for that machine's Python and platform
  (``pip download --only-binary=:all: --python-version --platform``);
- ``timm/<ref>/benchmark.py`` and ``validate.py`` from a timm git repository (``--timm-git``),
  for its newest commit (``HEAD``) and each release tag from ``--timm-since`` on, so the check
  runs the scripts of the timm version installed there; ``timm/results/``: the published
  inference tables the summary quotes (``PUBLISHED``);
- ``manifest.json``: what is there and where it came from.

    .venv/bin/python benchmarks/gpu_prep.py --timm-git /path/to/pytorch-image-models/.git
    make gpu-wheels TIMM_GIT=/path/to/pytorch-image-models/.git
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRA = ("pydantic", "pydantic-core", "annotated-types", "typing-inspection", "typing-extensions")
"""What zoo imports that the GPU machine does not have (typing-extensions: pydantic-core needs a
newer one than some images carry; a wheel on the path first is harmless)."""
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64", "any")
PUBLISHED = (
    "results/benchmark-infer-amp-nhwc-pt240-cu124-rtx4090.csv",
    "results/benchmark-infer-amp-nchw-pt291-cu130-5090.csv",
    "results/benchmark-infer-amp-nchw-pt291-cu130-5090-dynamo.csv",
)
"""timm's published inference tables quoted beside the measured figure (the RTX 5090's is NCHW:
timm published no NHWC table for it)."""
SCRIPTS = ("benchmark.py", "validate.py")
LIMIT = 48 * 2**20
"""The folder travels with the working tree, whose limit is 64 MiB in all."""


def run(command: list[str], **kw: object) -> None:
    print("+", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True, **kw)  # type: ignore[call-overload]


def zoo_wheel(out: Path) -> None:
    """zoo's wheel, built from this tree (pip fetches the build backend pyproject.toml names)."""
    for old in out.glob("zoo-*.whl"):
        old.unlink()
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)])


def extra_wheels(out: Path, python_version: str) -> dict[str, str]:
    pins = {name: metadata.version(name) for name in EXTRA}
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", python_version, "--implementation", "cp", "--dest", str(out)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    run(command + [f"{name}=={version}" for name, version in pins.items()])
    return pins


def timm_scripts(out: Path, git_dir: str, since: str) -> list[str]:
    """benchmark.py and validate.py of HEAD and of each release tag from ``since`` on; the tables."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True).stdout

    def version(tag: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", tag))

    tags = [t for t in git("tag").split() if re.fullmatch(r"v\d+\.\d+\.\d+", t) and version(t) >= version(since)]
    refs = ["HEAD", *sorted(tags, key=version)]
    folder = out / "timm"
    shutil.rmtree(folder, ignore_errors=True)
    for ref in refs:
        (folder / ref).mkdir(parents=True)
        for script in SCRIPTS:
            (folder / ref / script).write_text(git("show", f"{ref}:{script}"), encoding="utf-8")
    (folder / "results").mkdir()
    for table in PUBLISHED:
        (folder / table).write_text(git("show", f"HEAD:{table}"), encoding="utf-8")
    (folder / "HEAD" / "COMMIT").write_text(git("rev-parse", "HEAD"), encoding="utf-8")
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / ".gpu-wheels"))
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's Python (default 3.12)")
    parser.add_argument("--timm-git", default=None, help="a timm git repository (bare or .git) to take the scripts from")
    parser.add_argument("--timm-since", default="v1.0.15", help="the oldest release tag whose scripts are kept")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    zoo_wheel(out)
    manifest: dict[str, object] = {"python_version": args.python_version, "timm_refs": []}
    manifest["extra"] = extra_wheels(out, args.python_version)
    if args.timm_git:
        manifest["timm_refs"] = timm_scripts(out, args.timm_git, args.timm_since)
    manifest["wheels"] = sorted(p.name for p in out.glob("*.whl"))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {len(manifest['wheels'])} wheels, timm scripts of {len(manifest['timm_refs'])} refs, "  # type: ignore[arg-type]
          f"{size / 2**20:.1f} MiB")
    if size > LIMIT:
        raise SystemExit(f"{out} holds {size / 2**20:.1f} MiB: more than the {LIMIT // 2**20} MiB that may travel with the tree")


if __name__ == "__main__":
    main()
