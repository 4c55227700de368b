"""Property: whatever a card says (names, URLs, numbers, YAML shapes) and whatever file name
a URL carries, zoo never crashes (exit 4) and never writes outside its cache and results
(issue #10). Example counts stay small so the suite stays fast."""

from __future__ import annotations

import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_world import snapshot
from zoo.cli import fetch_cmd, list_cmd, lock_cmd
from zoo.paths import inside, unsafe_name_reason

SETTINGS = settings(max_examples=int(os.environ.get("ZOO_HYPOTHESIS_EXAMPLES", "15")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _AnyPath(BaseHTTPRequestHandler):
    """Serves 300 bytes for any path; paths whose length is odd get a 404."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = b"z" * 300 if len(self.path) % 2 == 0 else b"missing"
        self.send_response(200 if len(self.path) % 2 == 0 else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AnyPath)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["..", "../..", "/etc/passwd", "%2e%2e%2f", "..%2F.bashrc", "a\x00b", "$x$", "<img src=x>",
                     "1e400", "9" * 60, "-0", "nan", "inf", "~", "C:\\x", ".zoo", "x" * 300, "[/]", "[bold]x[/]", "http://[x"]),
)
SEGMENT = st.one_of(HOSTILE_TEXT, HOSTILE_TEXT.map(lambda t: quote(t, safe="")))
NUMBER = st.one_of(st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=True), HOSTILE_TEXT)


@st.composite
def cards(draw, base_url: str) -> str:
    models = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        entry = {"Name": draw(HOSTILE_TEXT), "Metadata": {"File Size": draw(NUMBER), "Parameters": draw(NUMBER)}}
        if draw(st.booleans()):
            entry["Weights"] = base_url + "/" + "/".join(draw(st.lists(SEGMENT, min_size=1, max_size=3)))
        else:
            entry["Weights"] = draw(HOSTILE_TEXT)
        if draw(st.booleans()):
            entry["Results"] = [{"Task": "Image Classification", "Dataset": "ImageNet",
                                 "Metrics": {"Top 1 Accuracy": draw(NUMBER)}}]
        models.append(entry)
    text = yaml.safe_dump({"Models": models}, allow_unicode=True)
    if draw(st.booleans()):  # sometimes break the YAML itself
        cut = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:cut] + draw(st.sampled_from(["&a [*a]", "[" * 80, "{", ": :", "\t", "*b", "!!python/object:os.system {}"])) + text[cut:]
    return text


@SETTINGS
@given(data=st.data())
def test_no_card_crashes_zoo_or_writes_outside_its_roots(base_url, data):
    text = data.draw(cards(base_url))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "victim.txt").write_text("precious")
        index = root / "index" / "model-index.yml"
        index.parent.mkdir()
        index.write_text(text, encoding="utf-8")
        cache, owned = root / "home" / "cache", root / "owned"
        before = snapshot(root, [cache, owned])
        common = ["--index", str(index)]
        fetch_args = ["--cache-dir", str(cache), "--lock-file", str(owned / "weights.lock")]
        runner = CliRunner()
        results = [
            runner.invoke(list_cmd.command, common),
            runner.invoke(fetch_cmd.command, ["--all", *common, *fetch_args], env={"ZOO_PROGRESS": "0"}),
            runner.invoke(lock_cmd.command, ["--all", *common, *fetch_args], env={"ZOO_PROGRESS": "0"}),
        ]
        for result in results:
            assert result.exit_code in (0, 2, 3), (result.exit_code, result.output, text)
            assert "internal error" not in result.output
        assert snapshot(root, [cache, owned]) == before


@SETTINGS
@given(name=HOSTILE_TEXT)
def test_a_name_that_passes_the_check_is_one_file_directly_in_its_folder(name):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        reason = unsafe_name_reason(name)
        if reason is None:
            assert inside(root, root / name).parent == root.resolve() and (root / name).name == name
        else:
            assert reason.startswith("it ")
