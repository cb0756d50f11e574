"""The catalog commands' contract: classify JSON Lines, import summaries and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.catalog import contents, db
from archive_analyzer.cli import main
from tests.catalog.catalog_rows import CLASSIFY_KEYS, FakeClock, add_file


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "archive_analyzer", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        check=False,
    )


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def call(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run the CLI in this process (the entry point itself is covered by ``run``)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return Result(code if isinstance(code, int) else 1, out, err)


def records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_classify_json_contract(tmp_path: Path) -> None:
    paths = [
        "WSOP/WSOP-SC/2025 WSOP-SC (Cyprus)/$5M GTD   WSOP Super Circuit Cyprus Main Event 2025/"
        "Day 1 A.mp4",
        "HCL/2025/20250611 - Nik Airball, Sashimi Commentary.mp4",
        "nowhere.txt",
        "PAD/PAD S12/PAD S12 EP05.mp4",
        "PAD/PAD S12/PAD S12 EP05.mov",
    ]
    result = run("classify", "--json", *paths, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = records(result.stdout)
    assert [g["path"] for g in got] == paths
    for record in got:
        assert set(record) >= CLASSIFY_KEYS
    assert got[0]["catalog"] == "wsop"
    assert (got[0]["day"], got[0]["location"], got[0]["year"]) == ("1A", "cyprus", 2025)
    assert got[1]["players"] == ["Nik Airball", "Sashimi"]
    assert got[2]["catalog"] is None and got[2]["year"] is None and got[2]["players"] == []
    assert got[3]["series"] == got[4]["series"]
    assert got[3]["title"] != got[4]["title"]  # unique within the series
    assert isinstance(got[3]["duplicate"], bool)


def test_classify_table_and_bad_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = call(capsys, "classify", "PAD/PAD S12/PAD S12 EP05.mp4")
    assert table.returncode == 0
    assert "PAD S12 EP05" in table.stdout
    rules = tmp_path / "rules.toml"
    rules.write_text("[[catalog]]\nid = 'x'\nfolders = ['(']\n", encoding="utf-8")
    bad = call(capsys, "classify", "--rules", str(rules), "a.mp4")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: rules: bad pattern")
    assert "Traceback" not in bad.stderr
    custom = tmp_path / "custom.toml"
    custom.write_text(
        "[[catalog]]\nid = 'wpt'\ntitle = 'WPT'\nfolders = ['^wpt$']\n", encoding="utf-8"
    )
    got = records(call(capsys, "classify", "--json", "--rules", str(custom), "WPT/x.mp4").stdout)
    assert got[0]["catalog"] == "wpt"


def test_imports_and_reclassify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_file = tmp_path / "archive.db"
    conn = db.connect(db_file)
    clock = FakeClock()
    fid = add_file(conn, "PAD/PAD S12/PAD S12 EP05.mp4", duration=3600)
    with db.transaction(conn):
        contents.refresh(conn, [fid], now=clock)
    conn.close()
    players = tmp_path / "players.csv"
    players.write_text(
        "id,name,display_name,name_kr,country,total_hands,total_wins,career_earnings,"
        "wsop_bracelets\np1,Phil Ivey,,필 아이비,US,1,1,1,10\np2,,,,,,,,\n",
        encoding="utf-8",
    )
    result = call(capsys, "import", "players", str(players), "--db", str(db_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "players: 2 rows, 1 created, 0 updated, 0 unchanged, 1 skipped"
    assert "line 3: name is empty" in result.stderr

    hands = tmp_path / "hands.csv"
    hands.write_text(
        "id,file_id,start_sec,end_sec,highlight_score,players,tags,winner,pot_size_bb,"
        "is_all_in,is_showdown,board,display_title\n"
        "h1,PAD/PAD S12/PAD S12 EP05.mp4,0:01:00,0:02:00,2,Phil Ivey,bluff,,,,,,\n"
        "h2,PAD/PAD S12/PAD S12 EP05.mp4,0:01:00,9:02:00,2,,,,,,,,\n",
        encoding="utf-8",
    )
    result = call(capsys, "import", "hands", str(hands), "--db", str(db_file), "--json")
    assert result.returncode == 0, result.stderr
    got = records(result.stdout)
    assert got[0]["line"] == 3 and "duration" in got[0]["error"]
    assert got[-1] == {
        "kind": "hands",
        "rows": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "skipped": 1,
    }
    again = call(capsys, "import", "hands", str(hands), "--db", str(db_file))
    assert "0 created, 0 updated, 1 unchanged, 1 skipped" in again.stdout

    missing = call(capsys, "import", "hands", str(tmp_path / "nope.csv"), "--db", str(db_file))
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot read")
    wrong = call(capsys, "import", "hands", str(players), "--db", str(db_file))
    assert wrong.returncode == 1 and "missing column" in wrong.stderr

    result = call(capsys, "reclassify", "--db", str(db_file), "--json")
    assert result.returncode == 0, result.stderr
    report = records(result.stdout)[0]
    assert (report["files"], report["clips"], report["moved"]) == (1, 1, 0)
