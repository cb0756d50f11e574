"""``archive-analyzer export``: bad input is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from tests.cli.test_catalog import call, run


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    db.connect(path).close()
    return path


def test_unknown_ids_and_missing_selections(
    catalog_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.edl")
    cases = [
        (["export", "clip", "nope", "--out", out], 1, "error: no content with a file: nope"),
        (["export", "edl", "--content", "nope", "--out", out], 1, "error: no such content: nope"),
        (["export", "edl", "--series", "nope", "--out", out], 1, "error: no series nope"),
        (["export", "csv", "--query", "nothing at all", "--out", out], 1, "nothing to export"),
    ]
    for args, code, message in cases:
        result = call(capsys, *args, "--db", str(catalog_file))
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_selection_flags_are_exclusive_and_the_catalog_must_exist(tmp_path: Path) -> None:
    both = run("export", "edl", "--content", "a", "--series", "b", "--out", "x.edl", cwd=tmp_path)
    assert both.returncode == 2 and "one of --content, --series or --query" in both.stderr
    missing = run("export", "otio", "--content", "a", "--out", "x.otio", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("error: catalog not found")
    assert not (tmp_path / "archive.db").exists()  # not created by a typo
    unknown = run("export", "mp4", "--content", "a", "--out", "x", cwd=tmp_path)
    assert unknown.returncode == 2
