"""Rules files: unknown keys are an error naming the key, not silently ignored."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from archive_analyzer.catalog.rules import builtin_text, check_keys, load_rules
from archive_analyzer.cli import main
from archive_analyzer.errors import ConfigError


def test_the_shipped_rules_use_only_known_keys() -> None:
    check_keys(tomllib.loads(builtin_text()), "rules.toml")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("catalgo = []\n", "'catalgo'"),
        ("[strucure]\ncopies = []\n", "'strucure'"),
        ("[players]\nstop_word = ['the']\n", "players.'stop_word'"),
        ("[kinds]\nclips = ['x']\n", "kinds.'clips'"),
    ],
)
def test_unknown_keys_are_named(tmp_path: Path, text: str, named: str) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as failure:
        load_rules(rules)
    message = str(failure.value)
    assert "\n" not in message and str(rules) in message
    assert f"unknown key {named}" in message


def test_known_keys_still_load(tmp_path: Path) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text(
        "rules_version = 'mine'\n[players]\nmax_words = 4\n[kinds]\nclip = ['^hl ']\n",
        encoding="utf-8",
    )
    loaded = load_rules(rules)
    assert loaded.version == "mine" and loaded.max_words == 4


def test_classify_with_a_misspelt_key_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVE_CONFIG", raising=False)
    monkeypatch.delenv("ARCHIVE_RULES_FILE", raising=False)
    (tmp_path / "r.toml").write_text("catalgo = []\n", encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["classify", "x.mp4", "--rules", "r.toml"])
    out, err = capsys.readouterr()
    assert done.value.code == 1 and out == ""
    assert err.startswith("error: rules file r.toml: unknown key 'catalgo' (known: ")
    assert len(err.strip().splitlines()) == 1
