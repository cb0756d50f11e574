"""Credentials resolution (pure apart from the file read)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from archive_analyzer.errors import ConfigError
from archive_analyzer.sources.credentials import (
    SMBOptions,
    parse_credentials_file,
    resolve_credentials,
)


def test_parse_credentials_file() -> None:
    text = "# comment\nusername = archive\npassword = p = w\n\ndomain=WG\n"
    assert parse_credentials_file(text) == {
        "username": "archive",
        "password": "p = w",
        "domain": "WG",
    }


def test_env_password_wins_and_repr_hides_it(tmp_path: Path) -> None:
    creds = tmp_path / "c"
    creds.write_text("username=fileuser\npassword=from-file\n")
    creds.chmod(0o600)
    got = resolve_credentials(None, SMBOptions(SecretStr("from-env"), creds))
    assert got.user == "fileuser"
    assert got.password.get_secret_value() == "from-env"
    assert "from-env" not in repr(got) and "from-env" not in str(got)
    got = resolve_credentials("urluser", SMBOptions(credentials_file=creds))
    assert (got.user, got.password.get_secret_value()) == ("urluser", "from-file")


def test_domain_in_user() -> None:
    got = resolve_credentials("WG\\me", SMBOptions(SecretStr("x")))
    assert (got.domain, got.user) == ("WG", "me")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_loose_credentials_file_is_refused(tmp_path: Path, mode: int) -> None:
    creds = tmp_path / "c"
    creds.write_text("username=u\npassword=s3cret\n")
    creds.chmod(mode)
    with pytest.raises(ConfigError, match="readable by others") as caught:
        resolve_credentials(None, SMBOptions(credentials_file=creds))
    assert "s3cret" not in str(caught.value)


def test_missing_credentials_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        resolve_credentials("u", SMBOptions(credentials_file=tmp_path / "none"))
