"""The ``probe`` command's contract: JSON Lines, one object per target in order, exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

KEYS = {"path", "status", "container", "duration_s", "bit_rate", "video", "audio"}
KEYS |= {"bytes_read", "reads"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive_analyzer", "probe", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check_shape(record: dict[str, Any]) -> None:
    assert set(record) >= KEYS
    assert isinstance(record["bytes_read"], int) and isinstance(record["reads"], int)
    if record["status"] == "ok":
        assert isinstance(record["duration_s"], float)
        assert isinstance(record["bit_rate"], int)
    video = record["video"]
    if video is not None:
        assert {"codec", "width", "height", "frame_rate"} <= set(video)
        assert video["frame_rate"] is None or isinstance(video["frame_rate"], float)
    for audio in record["audio"]:
        assert {"codec", "channels", "sample_rate"} <= set(audio)


def test_json_lines_in_order_exit_zero(corpus: dict[str, Path], tmp_path: Path) -> None:
    names = ["mp4_moov_end", "mp4_moov_end_truncated", "text_as_mp4", "empty", "mkv", "ts_2audio"]
    targets = [str(corpus[n]) for n in names] + [str(tmp_path / "missing.mp4")]
    proc = run("--json", *targets)
    assert proc.returncode == 0, proc.stderr
    got = records(proc.stdout)
    assert [r["path"] for r in got] == targets
    for record in got:
        check_shape(record)
    statuses = [r["status"] for r in got]
    assert statuses == ["ok", "truncated", "invalid", "invalid", "ok", "ok", "error"]
    first = got[0]
    assert first["container"] == "mov,mp4,m4a,3gp,3g2,mj2"
    assert first["video"]["codec"] == "h264" and first["video"]["frame_rate"] == 25.0
    assert first["audio"] == [
        {"codec": "aac", "channels": 1, "sample_rate": 48000, "language": "und"}
    ]


@pytest.mark.parametrize("strategy", ["smart", "ladder", "full"])
def test_strategies(strategy: str, corpus: dict[str, Path]) -> None:
    proc = run("--json", "--strategy", strategy, str(corpus["mp4_faststart"]))
    assert proc.returncode == 0, proc.stderr
    (record,) = records(proc.stdout)
    assert record["status"] == "ok" and record["strategy"] == strategy
    assert abs(record["duration_s"] - 10.0) < 0.25


def test_table_output(corpus: dict[str, Path]) -> None:
    proc = run(str(corpus["mkv"]))
    assert proc.returncode == 0
    assert "matroska,webm" in proc.stdout and "h264" in proc.stdout


def test_bad_strategy_is_a_usage_error(corpus: dict[str, Path]) -> None:
    proc = run("--strategy", "nope", str(corpus["mkv"]))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_folders_and_missing_targets_are_errors_in_their_own_words(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "x.mp4"
    targets = [str(tmp_path), str(tmp_path / "missing.mp4"), str(missing), f"file://{tmp_path}"]
    proc = run("--json", *targets)
    assert proc.returncode == 0, proc.stderr
    got = records(proc.stdout)
    assert [(r["path"], r["status"], r["error"]) for r in got] == [
        (str(tmp_path), "error", f"is a folder: {tmp_path}"),
        (targets[1], "error", f"not found: {targets[1]}"),
        (str(missing), "error", f"not found: {missing}"),
        (targets[3], "error", f"is a folder: {tmp_path}"),
    ]


@pytest.mark.smb
def test_smb_url(corpus: dict[str, Path], smb_server: Any) -> None:
    folder = smb_server.new_folder("cli")
    name = "WSOP 2003 - 복사본 Day 1.mkv"  # a space and Hangul: percent-encoded in the URL
    target = folder.root / name
    target.write_bytes(corpus["mkv"].read_bytes())
    target.chmod(0o644)
    url = f"{folder.url}/{quote(name)}"
    proc = run("--json", url, env={"ARCHIVE_SMB_PASSWORD": smb_server.password})
    assert proc.returncode == 0, proc.stderr
    (record,) = records(proc.stdout)
    check_shape(record)
    assert record["path"] == url
    assert record["status"] == "ok" and record["container"] == "matroska,webm"
    assert smb_server.password not in proc.stdout + proc.stderr

    env = {"ARCHIVE_SMB_PASSWORD": smb_server.password}
    (sub,) = records(run("--json", folder.url + "/", env=env).stdout)  # the folder itself
    (gone,) = records(run("--json", f"{folder.url}/gone.mp4", env=env).stdout)
    assert sub["status"] == gone["status"] == "error"
    assert sub["error"].startswith("is a folder: smb://")
    assert smb_server.password not in sub["error"]
    assert gone["error"] == f"not found: {folder.url}/gone.mp4"
