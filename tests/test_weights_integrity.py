"""Proving the bytes: hash prefix in the name, File Size, and the lock file (trust on first use)."""

from __future__ import annotations

import pytest

from conftest import card as make_card, fast_fetch_options
from weights_world import cache_listing, checkpoint_bytes, FaultyServer, hashed_name, sha256, trained_state
from zoo.errors import InputError
from zoo.weights.errors import HashMismatchError, SizeMismatchError, TruncatedError
from zoo.weights.integrity import Expectation, hash_prefix_from_name
from zoo.weights.lockfile import load_lock
from zoo.weights.sources import fetch_weights


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("mobilenetv2_100_ra-b33bc2c4.pth", "b33bc2c4"),
        ("resnet18-5c106cde.pth", "5c106cde"),
        ("model_ABCDEF0123.pth.tar", "abcdef0123"),  # after "_" counts too; case folded
        ("tf_efficientnet_b0_aa-827b6e33.safetensors", "827b6e33"),
        ("vit-1234567.pth", None),  # 7 hex digits: too short to be a hash
        ("model_best.pth.tar", None),
        ("b33bc2c4_ema.pth", None),  # the run after the LAST separator is "ema"
        ("noextension-b33bc2c4", None),
    ],
)
def test_hash_prefix_from_name(name, prefix):
    assert hash_prefix_from_name(name) == prefix


def test_expectation_accepts_the_right_bytes_and_names_proof():
    data = b"x" * 100
    expect = Expectation.for_file(hashed_name("m", data), claimed_size=100)
    expect.check(sha256(data), 100, origin="test")  # no error
    assert expect.verified_by() == "name-hash"
    unproven = Expectation.for_file("m.pth", claimed_size=100)
    unproven.check(sha256(data), 100, origin="test")
    assert unproven.verified_by() == "file-size-claim"
    assert Expectation.for_file("m.pth").verified_by() == ""


def test_proven_identity_keeps_a_file_whose_size_differs_from_the_claim():
    data = b"x" * 100
    expect = Expectation.for_file(hashed_name("m", data), claimed_size=999)
    expect.check(sha256(data), 100, origin="test")  # the wrong claim is left to the verdict


def test_unproven_identity_rejects_a_size_other_than_the_claim():
    with pytest.raises(SizeMismatchError) as failure:
        Expectation.for_file("m.pth", claimed_size=50, model="m").check(sha256(b"x" * 100), 100, origin="mirror X")
    message = str(failure.value)
    assert "100 bytes" in message and "expected 50 bytes" in message and "File Size" in message
    assert "mirror X" in message and "Likely cause" in message


def test_shorter_than_claimed_with_a_wrong_hash_reads_as_truncated():
    data = b"x" * 100
    expect = Expectation.for_file(hashed_name("m", data), claimed_size=100)
    with pytest.raises(TruncatedError, match="cut short"):
        expect.check(sha256(data[:60]), 60, origin="test", length_confirmed=False)
    # a server that announced 60 bytes and sent them all sent another file, not a cut-short one
    with pytest.raises(HashMismatchError):
        expect.check(sha256(data[:60]), 60, origin="test", length_confirmed=True)


def test_lock_mismatch_names_the_lock_and_how_to_repin():
    expect = Expectation.for_file("m.pth", locked_sha256="a" * 64, locked_size=3, lock_path="metadata/weights.lock", model="m")
    with pytest.raises(HashMismatchError) as failure:
        expect.check(sha256(b"abc"), 3, origin="https://x/m.pth")
    message = str(failure.value)
    assert "a" * 64 in message and sha256(b"abc") in message
    assert "metadata/weights.lock" in message and "zoo lock --update m" in message


# --------------------------------------------------------------------------- File Size end to end


@pytest.fixture()
def server():
    with FaultyServer() as srv:
        yield srv


def test_unhashed_file_with_the_wrong_size_is_deleted(server, tmp_path):
    data = checkpoint_bytes(trained_state(), tmp_path)
    url = server.serve("/plain.pth", data)
    options = fast_fetch_options(tmp_path)
    with pytest.raises(SizeMismatchError) as failure:  # all announced bytes arrived: another file
        fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data) + 1), options)
    assert "download was deleted" in str(failure.value)
    assert cache_listing(options) == []


def test_hashed_file_with_a_wrong_size_claim_is_kept_with_its_true_size(server, tmp_path):
    data = checkpoint_bytes(trained_state(), tmp_path)
    name = hashed_name("tiny", data)
    url = server.serve(f"/{name}", data)
    result = fetch_weights(make_card("tiny", collection="Tiny", weights=url, file_size=len(data) + 1), fast_fetch_options(tmp_path))
    assert result.size == len(data) and result.verified_by == "name-hash"


# --------------------------------------------------------------------------- lock file


def test_lock_round_trip(tmp_path):
    lock = load_lock(tmp_path / "metadata" / "weights.lock")
    assert not lock.exists and lock.entries == {}
    lock.pin("a-12345678.pth", "b" * 64, 10, model="a", url="https://x/a-12345678.pth")
    lock.pin("a-12345678.pth", "b" * 64, 10, model="a2")
    lock.save()
    again = load_lock(tmp_path / "metadata" / "weights.lock")
    entry = again.get("a-12345678.pth")
    assert entry is not None and again.exists
    assert (entry.sha256, entry.size, entry.models, entry.url) == ("b" * 64, 10, ("a", "a2"), "https://x/a-12345678.pth")
    assert [p.name for p in (tmp_path / "metadata").iterdir()] == ["weights.lock"]  # no temp file left


def test_bad_lock_file_names_file_line_and_field(tmp_path):
    path = tmp_path / "weights.lock"
    path.write_text("version: 1\nfiles:\n  a.pth:\n    sha256: nothex\n    size: 3\n")
    with pytest.raises(InputError) as failure:
        load_lock(path)
    message = str(failure.value)
    assert f"{path}:4" in message and "sha256" in message and "64 hex" in message  # the line of the field itself
    path.write_text("files: [unclosed\n")
    with pytest.raises(InputError, match=r"weights.lock:\d+:\d+: not valid YAML"):
        load_lock(path)


def test_lock_pins_and_later_mismatch_is_caught(server, tmp_path):
    """First use pins the bytes; when upstream serves other bytes later, the fetch fails."""
    data = checkpoint_bytes(trained_state(seed=1), tmp_path)
    url = server.serve("/unhashed.pth", data)  # no hash in the name: only the lock can prove it
    card = make_card("tiny", collection="Tiny", weights=url, file_size=len(data))
    options = fast_fetch_options(tmp_path)
    first = fetch_weights(card, options)
    assert first.lock_status == "no lock file"
    lock = load_lock(options.lock_path)
    lock.pin(first.file_name, first.sha256, first.size, model="tiny", url=url)
    lock.save()

    other = checkpoint_bytes(trained_state(seed=2), tmp_path)
    assert len(other) == len(data)  # same size: only the pinned hash can tell them apart
    server.serve("/unhashed.pth", other)
    fresh = fast_fetch_options(tmp_path, cache_dir=tmp_path / "other-cache")
    with pytest.raises(HashMismatchError) as failure:
        fetch_weights(card, fresh)
    assert str(options.lock_path) in str(failure.value) and "download was deleted" in str(failure.value)
    assert cache_listing(fresh) == []

    # and the original bytes, still in the first cache, pass as pinned
    again = fetch_weights(card, options)
    assert (again.source, again.lock_status, again.verified_by) == ("cache", "pinned", "lock")
