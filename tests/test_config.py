"""Settings: a plain value, built from the environment and a TOML file only at the entrance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive_analyzer.config import Settings, load_settings
from archive_analyzer.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_settings_read_nothing_but_their_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "archive.toml").write_text("port = 1234\n", encoding="utf-8")
    monkeypatch.setenv("ARCHIVE_DB", "leaked.db")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "leaked")
    monkeypatch.delenv("ARCHIVE_CONFIG")
    settings = Settings(workers=3)
    assert (settings.db, settings.port, settings.workers) == (Path("archive.db"), 8000, 3)
    assert settings.firestore_project is None


def test_layers_strongest_first(tmp_path: Path) -> None:
    (tmp_path / "archive.toml").write_text(
        'port = 1234\nworkers = 5\nsource = "toml"\nfirestore_project = "from-toml"\n',
        encoding="utf-8",
    )
    environ = {"ARCHIVE_PORT": "4321", "archive_source": "env", "GOOGLE_CLOUD_PROJECT": "g"}
    got = load_settings(None, environ=environ, cwd=tmp_path, source="flag")
    assert (got.port, got.workers, got.source) == (4321, 5, "flag")
    assert got.firestore_project == "g"  # an alias variable beats the TOML key
    plain = load_settings(None, environ={}, cwd=tmp_path)
    assert plain.firestore_project == "from-toml"  # the setting's own name works in TOML


def test_the_config_file_is_an_argument(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("port = 1\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text("port = 2\n", encoding="utf-8")
    (tmp_path / "archive.toml").write_text("port = 3\n", encoding="utf-8")
    env = {"ARCHIVE_CONFIG": "b.toml"}
    assert load_settings(Path("a.toml"), environ=env, cwd=tmp_path).port == 1
    assert load_settings(None, environ=env, cwd=tmp_path).port == 2
    assert load_settings(None, environ={}, cwd=tmp_path).port == 3
    # one build does not leak into the next (there is no module-level override any more)
    assert load_settings(None, environ={}, cwd=tmp_path / "..").port == 8000
    with pytest.raises(ConfigError, match=r"config file not found: c\.toml"):
        load_settings(Path("c.toml"), environ={}, cwd=tmp_path)


def test_bad_values_name_the_variable_not_the_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as bad:
        load_settings(None, environ={"ARCHIVE_WORKERS": "many"}, cwd=tmp_path)
    assert "workers [env ARCHIVE_WORKERS]" in str(bad.value) and "many" not in str(bad.value)
    with pytest.raises(ConfigError) as alias:
        load_settings(None, environ={"GOOGLE_CLOUD_PROJECT": "x"}, cwd=tmp_path, workers=-1)
    assert "workers [env ARCHIVE_WORKERS]" in str(alias.value)


def test_the_test_fixture_hides_a_developers_environment(tmp_path: Path) -> None:
    """A developer with ARCHIVE_* variables and an archive.toml in the folder pytest runs from:
    a test that builds settings the way the CLI does still sees the defaults."""
    (tmp_path / "archive.toml").write_text("port = 1234\n", encoding="utf-8")
    (tmp_path / "test_inner.py").write_text(
        "from pathlib import Path\n"
        "from archive_analyzer.cli.app import settings\n"
        "def test_defaults():\n"
        "    got = settings()\n"
        "    assert (got.port, got.db, got.workers) == (8000, Path('archive.db'), 2)\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "ARCHIVE_PORT": "4321",
        "archive_workers": "9",
        "ARCHIVE_DB": "leaked.db",
        "PYTHONPATH": str(REPO),
    }
    env.pop("ARCHIVE_CONFIG")  # the developer's shell has none; ./archive.toml is found
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", "."]
    inner = subprocess.run(
        [*run, "-p", "tests.fixtures.isolation", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inner.returncode == 0, inner.stdout + inner.stderr
    # and without the fixture the same test does see them (the check above is not vacuous)
    leaky = subprocess.run(
        [*run, "test_inner.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert leaky.returncode == 1 and "4321" in leaky.stdout, leaky.stdout
