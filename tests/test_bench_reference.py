"""Reference throughput figures: timm-style CSV tables and card keys, only for the same device."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import card
from bench_world import IMAGE_SIDE
from zoo.index.reference import (
    attach_reference,
    card_claim,
    device_matches,
    find_reference_tables,
    load_reference_table,
    reference_claim,
    table_claim,
)
from zoo.errors import InputError
from zoo.records import Measurement

HEADER = (
    "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,infer_gmacs,infer_macts\n"
)


def write_table(folder: Path, name: str, rows: str) -> Path:
    path = folder / name
    path.write_text(HEADER + rows)
    return path


def measured(
    device_name: str,
    *,
    dtype: str = "fp16",
    channels_last: bool = False,
    compile: bool = False,
    input_size: str = "3x224x224",
    status: str = "ok",
) -> Measurement:
    return Measurement(
        metric="throughput",
        status=status,
        value=9000.0 if status == "ok" else None,
        unit="images/s",
        conditions={
            "device_name": device_name,
            "dtype": dtype,
            "channels_last": channels_last,
            "compile": compile,
            "input_size": input_size,
            "batch_size": 256,
        },
        reason=None if status == "ok" else "no GPU",
    )


@pytest.mark.parametrize(
    "reference, name, expected",
    [
        ("rtx4090", "NVIDIA GeForce RTX 4090", True),
        ("4090", "NVIDIA GeForce RTX 4090", True),
        ("GPU RTX 3090", "NVIDIA GeForce RTX 3090", True),
        ("A100 80GB", "NVIDIA A100-SXM4-80GB", True),
        ("i7_12700h", "12th Gen Intel(R) Core(TM) i7-12700H", True),
        ("a10", "NVIDIA A100-SXM4-80GB", False),
        ("rtx3090", "NVIDIA GeForce RTX 4090", False),
        ("", "NVIDIA GeForce RTX 4090", False),
    ],
)
def test_device_names_match_word_by_word(reference: str, name: str, expected: bool) -> None:
    assert device_matches(reference, name) is expected


def test_a_table_row_for_the_same_device_and_settings_becomes_a_claim(tmp_path: Path) -> None:
    path = write_table(
        tmp_path,
        "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv",
        "resnet18,224,13726.29,74.577,1024,11.69,1.82,2.48\n"
        "mobilenetv2_100,160,20001.5,1,1024,3.5,0.1,1\n"
        "mobilenetv2_100,224,10807.07,94.728,1024,3.5,0.31,6.68\n",
    )
    table = load_reference_table(path)
    assert (table.device, table.dtype, table.channels_last, table.compiled) == ("rtx4090", "fp16", False, False)
    claim = table_claim(card("mobilenetv2_100.ra_in1k", image_size=IMAGE_SIDE), measured("NVIDIA GeForce RTX 4090"), [table])
    assert claim is not None
    assert (claim.metric, claim.value, claim.unit, claim.field) == (
        "throughput",
        10807.07,
        "images/s",
        "infer_samples_per_sec",
    )
    assert claim.precision == pytest.approx(0.01)
    assert (claim.source.path, claim.source.line) == (str(path), 4)
    assert "batch 1024" in claim.raw and "img 224" in claim.raw


@pytest.mark.parametrize(
    "measurement",
    [
        measured("NVIDIA GeForce RTX 3090"),  # other device
        measured("NVIDIA GeForce RTX 4090", dtype="fp32"),  # table is AMP fp16
        measured("NVIDIA GeForce RTX 4090", channels_last=True),  # table is NCHW
        measured("NVIDIA GeForce RTX 4090", compile=True),  # table is eager
        measured("NVIDIA GeForce RTX 4090", input_size="3x256x256"),  # no row at 256
        measured("NVIDIA GeForce RTX 4090", status="unavailable"),
    ],
)
def test_no_claim_when_the_conditions_differ(tmp_path: Path, measurement: Measurement) -> None:
    path = write_table(
        tmp_path,
        "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv",
        "mobilenetv2_100,224,10807.07,94.728,1024,3.5,0.31,6.68\n",
    )
    assert table_claim(card("mobilenetv2_100", image_size=IMAGE_SIDE), measurement, [load_reference_table(path)]) is None


def test_file_name_settings_are_read(tmp_path: Path) -> None:
    path = write_table(
        tmp_path,
        "benchmark-infer-fp32-nhwc-pt240-cpu-i7_12700h-dynamo.csv",
        "mobilenetv2_100,224,151.16,6.591,1,3.5,0.31,6.68\n",
    )
    table = load_reference_table(path)
    assert (table.device, table.dtype, table.channels_last, table.compiled) == ("i7_12700h", "fp32", True, True)
    m = measured("12th Gen Intel(R) Core(TM) i7-12700H", dtype="fp32", channels_last=True, compile=True)
    claim = table_claim(card("mobilenetv2_100", image_size=IMAGE_SIDE), m, [table])
    assert claim is not None and claim.value == 151.16


def test_tables_are_found_in_a_folder(tmp_path: Path) -> None:
    write_table(tmp_path, "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv", "m,224,1.0,1,1,1,1,1\n")
    (tmp_path / "notes.csv").write_text("a,b\n")
    assert [Path(t.path).name for t in find_reference_tables(tmp_path)] == [
        "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv"
    ]
    assert find_reference_tables(tmp_path / "absent") == []


def test_a_table_without_a_device_or_columns_is_refused_with_its_place(tmp_path: Path) -> None:
    anonymous = write_table(tmp_path, "speeds.csv", "m,224,1.0,1,1,1,1,1\n")
    with pytest.raises(InputError, match="speeds.csv:1.*which device"):
        load_reference_table(anonymous)
    assert load_reference_table(anonymous, device="RTX 4090").device == "RTX 4090"
    broken = tmp_path / "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv"
    broken.write_text("model,speed\nm,3\n")
    with pytest.raises(InputError, match="lacks column.*infer_samples_per_sec"):
        load_reference_table(broken)
    broken.write_text("model,infer_samples_per_sec\nm,3\nn,fast\n")
    with pytest.raises(InputError, match=r"rtx4090.csv:3: model 'n': field 'infer_samples_per_sec'"):
        load_reference_table(broken)


def test_a_card_key_naming_the_measured_device_is_a_claim() -> None:
    the_card = card("net", image_size=IMAGE_SIDE, **{"Training Data": ["ImageNet"], "FPS (GPU RTX 3090, batch 256)": "1,234.5"})
    claim = card_claim(the_card, measured("NVIDIA GeForce RTX 3090"))
    assert claim is not None
    assert (claim.value, claim.field, claim.raw, claim.precision) == (
        1234.5,
        "FPS (GPU RTX 3090, batch 256)",
        "1,234.5",
        0.1,
    )
    assert claim.source == the_card.source
    assert card_claim(the_card, measured("NVIDIA GeForce RTX 4090")) is None


def test_a_card_key_for_a_device_name_with_parentheses_is_a_claim() -> None:
    # CPUs report themselves as "Intel(R) Xeon(R) ..."; a card key names the device the same way.
    the_card = card("net", image_size=IMAGE_SIDE, **{"FPS (Intel(R) Xeon(R) Gold 6338)": "88.5"})
    claim = card_claim(the_card, measured("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"))
    assert claim is not None and claim.value == 88.5
    assert card_claim(the_card, measured("AMD EPYC 7763 64-Core Processor")) is None


def test_attach_reference_prefers_the_cards_own_figure(tmp_path: Path) -> None:
    path = write_table(
        tmp_path, "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv", "net,224,10807.07,94.728,1024,3.5,0.31,6.68\n"
    )
    tables = [load_reference_table(path)]
    plain = card("net", image_size=IMAGE_SIDE)
    own = card("net", image_size=IMAGE_SIDE, **{"FPS (RTX 4090)": 9999})
    m = measured("NVIDIA GeForce RTX 4090")
    assert attach_reference(plain, m, tables).claims["throughput"].value == 10807.07
    assert attach_reference(own, m, tables).claims["throughput"].value == 9999.0
    assert reference_claim(plain, measured("NVIDIA H100 80GB HBM3"), tables) is None
    assert attach_reference(plain, measured("NVIDIA H100 80GB HBM3"), tables) is plain


def test_a_card_key_whose_device_name_has_parentheses_is_a_claim() -> None:
    # CPU names carry "(R)" and "(TM)": the key's device is everything between the outer parentheses.
    the_card = card("net", image_size=IMAGE_SIDE, **{"FPS (Intel(R) Xeon(R) Processor)": "1000"})
    claim = card_claim(the_card, measured("Intel(R) Xeon(R) Processor"))
    assert claim is not None and claim.value == 1000.0
