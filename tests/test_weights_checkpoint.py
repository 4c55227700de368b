"""Loading safely: weights-only unpickling, checkpoint wrappers, and the exact fit report."""

from __future__ import annotations

import pathlib
import pickle
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from conftest import TinyNet
from weights_world import trained_state
from zoo.weights.checkpoint import fit_report, load_into, read_state_dict, unwrap
from zoo.weights.errors import CheckpointFitError, CheckpointReadError, UnsafeCheckpointError


class TouchOnUnpickle:
    """A payload that creates a marker file when unpickled: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": trained_state(), "extra": TouchOnUnpickle(marker)}, path)

    with pytest.raises(UnsafeCheckpointError) as failure:
        read_state_dict(path)
    assert not marker.exists()
    message = str(failure.value)
    assert "getattr" in message and "none of its code ran" in message  # Path.touch pickles via getattr

    # the payload is real: an unsafe load would have run it
    control = tmp_path / "control"
    torch.save(TouchOnUnpickle(control), tmp_path / "control.pth")
    torch.load(tmp_path / "control.pth", weights_only=False)
    assert control.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_plain_pickle_that_is_no_checkpoint_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pkl"
    with open(path, "wb") as out:
        pickle.dump(TouchOnUnpickle(marker), out)
    with pytest.raises((UnsafeCheckpointError, CheckpointReadError)):
        read_state_dict(path)
    assert not marker.exists()


def test_garbage_file_is_unreadable(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    with pytest.raises(CheckpointReadError) as failure:
        read_state_dict(path)
    assert "garbage.pth" in str(failure.value)


@pytest.mark.parametrize(
    ("wrap", "wrapper", "prefix"),
    [
        (lambda sd: sd, "", ""),
        (lambda sd: {"state_dict": sd, "epoch": 3, "arch": "tiny"}, "state_dict", ""),
        (lambda sd: {"model": sd, "optimizer": {"lr": 0.1}}, "model", ""),
        (lambda sd: {"state_dict": {k: v * 0 for k, v in sd.items()}, "state_dict_ema": sd}, "state_dict_ema", ""),
        (lambda sd: OrderedDict(("module." + k, v) for k, v in sd.items()), "", "module."),
        (lambda sd: {"state_dict": {"module." + k: v for k, v in sd.items()}}, "state_dict", "module."),
    ],
)
def test_wrappers_are_unwrapped(tmp_path, wrap, wrapper, prefix):
    state = trained_state(seed=5)
    path = tmp_path / "wrapped.pth"
    torch.save(wrap(state), path)

    found = read_state_dict(path)
    assert (found.wrapper, found.stripped_prefix) == (wrapper, prefix)
    model = TinyNet()
    load_into(model, found)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key  # EMA preferred: the zeroed copy is not used


def test_fit_report_lists_missing_unexpected_and_mis_shaped():
    state = trained_state(width=4)
    state.pop("fc.bias")
    state["head.extra"] = torch.zeros(3)
    state["conv.weight"] = torch.zeros(8, 3, 3, 3)
    report = fit_report(TinyNet(width=4), unwrap(state))
    assert report.missing == ("fc.bias",)
    assert report.unexpected == ("head.extra",)
    assert report.mis_shaped == (("conv.weight", (4, 3, 3, 3), (8, 3, 3, 3)),)
    text = report.describe()
    assert "fc.bias" in text and "head.extra" in text and "model [4, 3, 3, 3], checkpoint [8, 3, 3, 3]" in text


def test_model_is_untouched_when_the_state_dict_does_not_fit():
    model = TinyNet(width=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = trained_state(width=4)
    state["fc.weight"] = torch.zeros(3, 4)
    with pytest.raises(CheckpointFitError) as failure:
        load_into(model, unwrap(state), model_name="tiny", file_name="t.pth")
    assert "fc.weight" in str(failure.value) and "left as built" in str(failure.value)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_missing_batchnorm_counter_is_not_a_misfit():
    state = trained_state()
    state.pop("bn.num_batches_tracked")
    model = TinyNet()
    report = load_into(model, unwrap(state))
    assert report.fits
    assert torch.equal(model.state_dict()["bn.running_mean"], state["bn.running_mean"])


def test_checkpoint_without_state_dict_is_explained(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save({"epoch": 3, "weights_here": [1, 2, 3]}, path)
    with pytest.raises(CheckpointReadError) as failure:
        read_state_dict(path)
    assert "no state dict" in str(failure.value) and "epoch" in str(failure.value)
