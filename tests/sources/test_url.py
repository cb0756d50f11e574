"""Source spec parsing (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_analyzer.errors import ConfigError
from archive_analyzer.sources.url import LocalSpec, SMBSpec, parse


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("smb://nas/ARCHIVE", SMBSpec(host="nas", share="ARCHIVE")),
        (
            "smb://archive@nas.local:1445/ARCHIVE/WSOP/2024",
            SMBSpec(host="nas.local", share="ARCHIVE", path="WSOP/2024", port=1445, user="archive"),
        ),
        ("SMB://nas/share/", SMBSpec(host="nas", share="share")),
        ("smb://nas/share/@eaDir/x", SMBSpec(host="nas", share="share", path="@eaDir/x")),
        ("smb://nas:445/s/@x", SMBSpec(host="nas", share="s", path="@x")),
        ("smb://me@[::1]:1445/s", SMBSpec(host="::1", share="s", port=1445, user="me")),
        (
            "smb://DOM%5Cme@nas/s/%ED%95%9C%EA%B8%80",
            SMBSpec(host="nas", share="s", path="한글", user="DOM\\me"),
        ),
        ("/mnt/nas/archive", LocalSpec(root=Path("/mnt/nas/archive"))),
        ("file:///srv/archive", LocalSpec(root=Path("/srv/archive"))),
    ],
)
def test_parse(spec: str, expected: object) -> None:
    assert parse(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "smb://user:hunter2@nas/share",
        "smb://user:hun/ter2@nas/share/x",
        "smb://user:hunter2@nas:445/share",
        "smb://user:@nas/share",
    ],
)
def test_password_in_url_is_refused_without_echoing_it(spec: str) -> None:
    with pytest.raises(ConfigError, match="must not contain a password") as caught:
        parse(spec)
    assert "hunter2" not in str(caught.value) and "hun/ter2" not in str(caught.value)


@pytest.mark.parametrize(
    "spec",
    ["", "smb://", "smb://nas", "smb://nas/", "smb:///share", "ftp://x/y", "smb://h:99999/s"],
)
def test_bad_specs(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse(spec)


def test_display_never_has_a_password() -> None:
    spec = parse("smb://archive@nas:1445/ARCHIVE/WSOP")
    assert isinstance(spec, SMBSpec)
    assert spec.display == "smb://archive@nas:1445/ARCHIVE/WSOP"
    assert spec.unc_root == "\\\\nas\\ARCHIVE\\WSOP"
