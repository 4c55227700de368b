"""measure_weights and the sources: cache, mirrors (URL and folder), offline, local files."""

from __future__ import annotations

import hashlib

import shutil
from pathlib import Path

import pytest
import torch

from conftest import TinyNet, card as make_card, fast_fetch_options
from weights_world import cache_listing, checkpoint_bytes, FaultyServer, hashed_name, sha256, trained_state
from zoo.measure.weights import measure_weights
from zoo.records import Measurement


@pytest.fixture()
def server():
    with FaultyServer() as srv:
        yield srv


@pytest.fixture()
def weights(tmp_path) -> tuple[str, bytes, dict]:
    state = trained_state(seed=3)
    data = checkpoint_bytes({"state_dict": state, "epoch": 7}, tmp_path)
    return hashed_name("tiny", data), data, state


def by_metric(measurements: list[Measurement]) -> dict[str, Measurement]:
    return {m.metric: m for m in measurements}


def test_fetch_verify_and_load_in_place(server, weights, tmp_path):
    name, data, state = weights
    url = server.serve(f"/rel/{name}", data)
    model = TinyNet()
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), model, fast_fetch_options(tmp_path))

    assert outcome.loaded
    m = by_metric(outcome.measurements)
    assert (m["file_size"].status, m["file_size"].value, m["file_size"].unit) == ("ok", len(data), "bytes")
    assert (m["weights"].status, m["weights"].value) == ("ok", sha256(data))
    assert m["weights"].conditions["source"] == "url"
    assert m["weights"].conditions["file_name"] == name
    assert m["weights"].conditions["verified_by"] == "name-hash"
    assert m["weights"].conditions["lock"] == "no lock file"
    assert "state_dict" in str(m["weights"].conditions["checkpoint"])
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key

    again = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), TinyNet(), fast_fetch_options(tmp_path))
    assert by_metric(again.measurements)["file_size"].conditions["source"] == "cache"


def test_wrong_file_size_claim_still_measures_the_true_size(server, weights, tmp_path):
    name, data, _ = weights
    url = server.serve(f"/rel/{name}", data)
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=14202571), TinyNet(), fast_fetch_options(tmp_path))
    m = by_metric(outcome.measurements)
    assert m["file_size"].status == "ok" and m["file_size"].value == len(data)  # judged later as drift


def test_unreachable_weights_make_both_measurements_unavailable(server, weights, tmp_path):
    name, data, _ = weights
    url = server.serve(f"/rel/{name}", data, ["503"])
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), TinyNet(), fast_fetch_options(tmp_path, retries=1))
    assert not outcome.loaded
    for metric in ("file_size", "weights"):
        m = by_metric(outcome.measurements)[metric]
        assert m.status == "unavailable" and "503" in (m.reason or "")
        assert m.conditions["error"] == "UnreachableError"


def test_card_without_weights_url(tmp_path):
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=None), TinyNet(), fast_fetch_options(tmp_path))
    assert not outcome.loaded
    assert {m.status for m in outcome.measurements} == {"unavailable"}
    assert all("no weights URL" in (m.reason or "") for m in outcome.measurements)


def test_unsafe_checkpoint_is_an_error_and_the_model_is_untouched(server, tmp_path):
    class Payload:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    data = checkpoint_bytes({"state_dict": trained_state(), "x": Payload()}, tmp_path)
    name = hashed_name("evil", data)
    url = server.serve(f"/{name}", data)
    model = TinyNet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), model, fast_fetch_options(tmp_path))
    m = by_metric(outcome.measurements)
    assert not outcome.loaded and not (tmp_path / "pwned").exists()
    assert m["file_size"].status == "ok"
    assert m["weights"].status == "error" and m["weights"].conditions["error"] == "UnsafeCheckpointError"
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_misfit_is_an_error_with_the_key_report(server, tmp_path):
    data = checkpoint_bytes(trained_state(width=8), tmp_path)
    name = hashed_name("wide", data)
    url = server.serve(f"/{name}", data)
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), TinyNet(width=4), fast_fetch_options(tmp_path))
    weights = by_metric(outcome.measurements)["weights"]
    assert not outcome.loaded and weights.status == "error"
    assert "mis-shaped" in (weights.reason or "") and "conv.weight (model [4, 3, 3, 3], checkpoint [8, 3, 3, 3])" in (weights.reason or "")


def test_unprovable_file_loads_but_is_not_ok(server, tmp_path):
    data = checkpoint_bytes(trained_state(), tmp_path)
    url = server.serve("/plain.pth", data)  # no hash in the name, no File Size, no lock entry
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=None), TinyNet(), fast_fetch_options(tmp_path))
    weights = by_metric(outcome.measurements)["weights"]
    assert outcome.loaded and weights.status == "unavailable" and "zoo lock tiny" in (weights.reason or "")


def test_a_size_matching_its_own_claim_proves_neither_claim(server, tmp_path):
    data = checkpoint_bytes(trained_state(), tmp_path)
    url = server.serve("/plain-sized.pth", data)  # no hash in the name, no lock entry; File Size matches
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data)), TinyNet(), fast_fetch_options(tmp_path))
    found = by_metric(outcome.measurements)
    assert outcome.loaded
    assert found["file_size"].status == "unavailable" and found["weights"].status == "unavailable"
    assert "zoo lock tiny" in (found["file_size"].reason or "")
    assert "proven by nothing" in found["weights"].method


# --------------------------------------------------------------------------- mirrors


def test_url_mirror_is_tried_before_the_card_url(server, weights, tmp_path):
    name, data, _ = weights
    card_url = server.serve(f"/origin/{name}", data)
    server.serve(f"/mirror/{name}", data)
    options = fast_fetch_options(tmp_path, mirrors=(server.base_url + "/mirror/",))
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), options)
    assert outcome.loaded
    assert by_metric(outcome.measurements)["weights"].conditions["source"] == f"mirror {server.base_url}/mirror/"
    assert server.requests_for(f"/origin/{name}") == []


def test_folder_mirror_and_wrong_mirror_fallback(server, weights, tmp_path):
    name, data, _ = weights
    card_url = server.serve(f"/origin/{name}", data)
    bad = tmp_path / "bad-mirror"
    good = tmp_path / "good-mirror"
    bad.mkdir(), good.mkdir()
    (bad / name).write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # a wrong copy
    (good / name).write_bytes(data)

    options = fast_fetch_options(tmp_path, mirrors=(str(bad), str(good)))
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), options)
    m = by_metric(outcome.measurements)
    assert m["weights"].conditions["source"] == f"mirror {good}"
    assert (bad / name).exists()  # a mirror's file is never deleted
    assert server.requests_for(f"/origin/{name}") == []

    shutil.rmtree(options.cache_dir)
    only_bad = fast_fetch_options(tmp_path, mirrors=(str(bad),))
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), only_bad)
    m = by_metric(outcome.measurements)
    assert m["weights"].conditions["source"] == "url"
    assert any(f"mirror {bad}" in note for note in m["file_size"].notes)


def test_offline_uses_cache_and_mirrors_only(server, weights, tmp_path):
    name, data, _ = weights
    card_url = server.serve(f"/origin/{name}", data)
    offline = fast_fetch_options(tmp_path, offline=True)
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), offline)
    reason = by_metric(outcome.measurements)["weights"].reason or ""
    assert not outcome.loaded and server.requests_for(f"/origin/{name}") == []
    assert name in reason and "offline" in reason and f"zoo fetch tiny" in reason and "--mirror" in reason
    assert str(offline.cache_dir) in reason

    folder = tmp_path / "usb"
    folder.mkdir()
    (folder / name).write_bytes(data)
    outcome = measure_weights(
        make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), fast_fetch_options(tmp_path, offline=True, mirrors=(str(folder),))
    )
    assert outcome.loaded and server.requests_for(f"/origin/{name}") == []
    # now it is cached: offline alone suffices
    assert measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), offline).loaded


# --------------------------------------------------------------------------- local files


def test_local_file_is_used_in_place(server, weights, tmp_path):
    name, data, _ = weights
    card_url = server.serve(f"/origin/{name}", data)
    local = tmp_path / "downloads" / "my-copy.pth"
    local.parent.mkdir()
    local.write_bytes(data)
    options = fast_fetch_options(tmp_path, local_files={"tiny": local})
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), options)
    assert outcome.loaded
    assert by_metric(outcome.measurements)["weights"].conditions["source"] == f"local {local}"
    assert cache_listing(options) == [] and server.requests_for(f"/origin/{name}") == []


def test_a_local_file_that_is_not_the_cards_is_loaded_and_leaves_the_cards_claims_unverified(server, weights, tmp_path):
    from zoo.judge.compare import judge
    from zoo.judge.policy import Policy

    name, data, _ = weights
    card_url = server.serve(f"/origin/{name}", data)
    local = tmp_path / "other.pth"
    local.write_bytes(checkpoint_bytes(trained_state(seed=9), tmp_path))
    before = local.read_bytes()
    options = fast_fetch_options(tmp_path, local_files={"tiny": local})
    the_card = make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data), top1="50%")
    outcome = measure_weights(the_card, TinyNet(), options)
    weights_m = by_metric(outcome.measurements)["weights"]
    assert outcome.loaded and weights_m.status == "ok" and weights_m.value == hashlib.sha256(before).hexdigest()
    assert "expected" in str(weights_m.conditions["not_card_file"]) and local.read_bytes() == before
    assert server.requests_for(f"/origin/{name}") == []  # the card's file is not fetched instead
    verdicts = {v.metric: v for v in judge(the_card, outcome.measurements, Policy())}
    for metric in ("weights", "file_size"):
        assert verdicts[metric].status == "unverified"
        assert verdicts[metric].explanation.startswith(f"not the card's file: the checkpoint measured is {local}")


def test_read_only_cache_still_serves_what_it_holds(server, weights, tmp_path, monkeypatch):
    import zoo.weights.cache as cache_module
    from zoo.weights.errors import CacheError

    name, data, _ = weights
    card_url = server.serve(f"/origin/{name}", data)
    options = fast_fetch_options(tmp_path)
    assert measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), options).loaded

    def read_only(self):
        raise CacheError(f"cannot create the weights cache folder {self.cache_dir}: Read-only file system")

    monkeypatch.setattr(cache_module.CacheEntry, "prepare", read_only)
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), options)
    assert outcome.loaded and by_metric(outcome.measurements)["weights"].conditions["source"] == "cache"

    shutil.rmtree(options.cache_dir / ".zoo")
    (options.cache_dir / name).unlink()
    outcome = measure_weights(make_card("tiny", collection="Tiny", weights=card_url, file_size=len(data)), TinyNet(), options)
    assert not outcome.loaded and "Read-only" in (by_metric(outcome.measurements)["weights"].reason or "")
