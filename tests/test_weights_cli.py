"""`zoo fetch`, `zoo lock`, the shared fetch flags, and FetchOptions from the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from weights_world import FaultyServer, checkpoint_bytes, hashed_name, sha256, trained_state
from zoo.cli import fetch_cmd, lock_cmd
from zoo.cli.declared import click_options, options_from
from zoo.weights.lockfile import load_lock
from zoo.weights.options import FetchOptions, parse_mirrors

INDEX = """\
Models:
- Name: {name}
  Metadata:
    File Size: {size}
  Weights: {url}
"""


@pytest.fixture()
def server():
    with FaultyServer() as srv:
        yield srv


def write_index(tmp_path: Path, name: str, url: str, size: int) -> Path:
    path = tmp_path / "index" / "model-index.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(INDEX.format(name=name, url=url, size=size), encoding="utf-8")
    return path


def run(command: click.Command, tmp_path: Path, index: Path, *args: str, cache: str = "cache"):
    base = ["--index", str(index), "--cache-dir", str(tmp_path / cache), "--lock-file", str(tmp_path / "weights.lock")]
    return CliRunner().invoke(command, [*args, *base], env={"ZOO_PROGRESS": "0"})


def test_fetch_then_offline_verify_from_cache(server, tmp_path):
    data = checkpoint_bytes(trained_state(), tmp_path)
    name = hashed_name("tiny", data)
    index = write_index(tmp_path, "tiny", server.serve(f"/{name}", data), len(data))

    offline_first = run(fetch_cmd.command, tmp_path, index, "--all", "--offline")
    assert offline_first.exit_code == 3
    assert "missing offline" in offline_first.output and "zoo fetch tiny" in offline_first.output

    fetched = run(fetch_cmd.command, tmp_path, index, "tiny")
    assert fetched.exit_code == 0, fetched.output
    assert "ok      tiny" in fetched.output and "from url" in fetched.output and sha256(data)[:12] in fetched.output

    offline = run(fetch_cmd.command, tmp_path, index, "--all", "--offline")
    assert offline.exit_code == 0 and "from cache" in offline.output


def test_fetch_failure_exit_code_and_message(server, tmp_path):
    data = checkpoint_bytes(trained_state(), tmp_path)
    name = hashed_name("tiny", data)
    index = write_index(tmp_path, "tiny", server.serve(f"/{name}", data, ["404"]), len(data))
    result = run(fetch_cmd.command, tmp_path, index, "tiny")
    assert result.exit_code == 3
    assert "FAILED  tiny" in result.output and "404" in result.output


def test_unknown_model_is_bad_input(server, tmp_path):
    index = write_index(tmp_path, "tiny", server.serve("/x-12345678.pth", b"x"), 1)
    result = run(fetch_cmd.command, tmp_path, index, "nope")
    assert result.exit_code == 2 and "nope" in result.output


def test_lock_first_use_then_mismatch_then_update(server, tmp_path):
    old = checkpoint_bytes(trained_state(seed=1), tmp_path)
    url = server.serve("/weights/plain.pth", old)  # no hash in the name
    index = write_index(tmp_path, "tiny", url, len(old))

    pinned = run(lock_cmd.command, tmp_path, index, "--all")
    assert pinned.exit_code == 0, pinned.output
    assert "pinned (new)" in pinned.output
    entry = load_lock(tmp_path / "weights.lock").get("plain.pth")
    assert entry is not None and (entry.sha256, entry.size, entry.models, entry.url) == (sha256(old), len(old), ("tiny",), url)

    again = run(lock_cmd.command, tmp_path, index, "--all")
    assert again.exit_code == 0 and "unchanged" in again.output

    new = checkpoint_bytes(trained_state(seed=2), tmp_path)
    server.serve("/weights/plain.pth", new)
    mismatch = run(fetch_cmd.command, tmp_path, index, "tiny", cache="fresh-cache")
    assert mismatch.exit_code == 3
    assert "(SHA-256 differs)" in mismatch.output and "zoo lock --update tiny" in mismatch.output

    update = run(lock_cmd.command, tmp_path, index, "tiny", "--update", cache="fresh-cache")
    assert update.exit_code == 0 and "re-pinned" in update.output
    assert load_lock(tmp_path / "weights.lock").get("plain.pth").sha256 == sha256(new)
    assert run(fetch_cmd.command, tmp_path, index, "tiny", cache="fresh-cache").exit_code == 0


# --------------------------------------------------------------------------- flags and environment


@click.command()
@click_options(FetchOptions)
@click.option("--other", default="x")
def echo_options(**kw):
    options = options_from(FetchOptions, kw)
    local = {k: str(v) for k, v in options.local_files.items()}
    click.echo(repr((str(options.cache_dir), options.mirrors, options.offline, local, str(options.lock_path))))


def test_fetch_flags_build_options(tmp_path):
    local = tmp_path / "m.pth"
    local.write_bytes(b"x")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    result = CliRunner().invoke(
        echo_options,
        ["--cache-dir", str(tmp_path / "c"), "--mirror", "https://m.example/w", "--mirror", str(mirror),
         "--offline", "--weights", f"tiny={local}", "--lock-file", str(tmp_path / "l.lock")],
        env={"ZOO_MIRROR": "https://ignored.example"},
    )
    assert result.exit_code == 0, result.output
    assert ast.literal_eval(result.output) == (
        str(tmp_path / "c"), ("https://m.example/w", str(mirror)), True, {"tiny": str(local)}, str(tmp_path / "l.lock")
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--weights", "no-equals-sign"], "MODEL=PATH"),
        (["--weights", "tiny=/does/not/exist.pth"], "is not a file"),
        (["--mirror", "/no/such/folder"], "does not exist"),
        (["--mirror", "ftp://host/w"], "http(s) URL or a folder"),
    ],
)
def test_bad_fetch_flags_are_usage_errors(args, complaint):
    result = CliRunner().invoke(echo_options, args)
    assert result.exit_code == 2 and complaint in result.output


def test_options_from_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_CACHE", raising=False)
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRROR", "https://a.example:8443/w, http://b.example/x")
    options = FetchOptions.from_env()
    assert options.cache_dir == tmp_path / "torch" / "hub" / "checkpoints"
    assert options.offline is True
    assert options.mirrors == ("https://a.example:8443/w", "http://b.example/x")

    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "zc"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert FetchOptions.from_env().cache_dir == tmp_path / "zc"
    assert FetchOptions.from_env().offline is False
    assert FetchOptions.from_env(offline=True, retries=0).retries == 0
    with pytest.raises(TypeError, match="FetchOptions has no option .colour."):
        FetchOptions.from_env(colour="red")


def test_mirror_list_splitting():
    assert parse_mirrors("/srv/a:/srv/b,/srv/c") == ("/srv/a", "/srv/b", "/srv/c")
    assert parse_mirrors("http://h:80/w,/srv/b") == ("http://h:80/w", "/srv/b")
    assert parse_mirrors("") == ()


def test_nothing_fetched_leaves_no_lock_or_folder_in_the_cache(server, tmp_path):
    # Offline with the file missing, and a cache hit, write nothing into the (torch hub) cache.
    data = checkpoint_bytes(trained_state(), tmp_path)
    name = hashed_name("tiny", data)
    index = write_index(tmp_path, "tiny", server.serve(f"/{name}", data), len(data))
    missing = run(fetch_cmd.command, tmp_path, index, "tiny", "--offline")
    assert missing.exit_code == 3 and "FAILED  tiny  (missing offline)" in missing.output
    assert "Error" not in missing.output.split("\n")[0]
    assert not (tmp_path / "cache").exists()
    assert run(fetch_cmd.command, tmp_path, index, "tiny").exit_code == 0
    import shutil

    shutil.rmtree(tmp_path / "cache" / ".zoo")
    assert run(fetch_cmd.command, tmp_path, index, "tiny").exit_code == 0  # a hit, online
    assert run(fetch_cmd.command, tmp_path, index, "tiny", "--offline").exit_code == 0  # a hit, offline
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [name]


def test_hub_fetch_offline_by_env_says_what_set_it(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    index = tmp_path / "i.yml"
    index.write_text("Models:\n- Name: tiny\n  Metadata:\n    File Size: 10\n")
    result = CliRunner().invoke(
        fetch_cmd.command, ["tiny", "--source", "hub", "--hub-repo", "tiny=org/tiny", "--index", str(index),
                            "--lock-file", str(tmp_path / "weights.lock")],
        env={"ZOO_PROGRESS": "0", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "ZOO_OFFLINE": None,
             "HF_HUB_CACHE": None},
    )
    assert result.exit_code == 3, result.output
    text = " ".join(result.output.split())
    assert "set by $HF_HUB_OFFLINE" in text and "unset HF_HUB_OFFLINE" in text and "drop --offline" not in text
    assert "zoo fetch --source hub tiny" in text and f"the Hub cache ({tmp_path / 'hf' / 'hub'})" in text
    assert "without --source" not in text and "(missing offline)" in text
