"""SMB-only behaviour against a real smbd: reconnects, outages, and secrets staying secret."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from archive_analyzer.errors import ArchiveError, ConfigError, SourceTimeout, SourceUnavailable
from archive_analyzer.sources import SMBOptions, open_source
from archive_analyzer.sources.smb import BACKOFF_S, SMBSource
from archive_analyzer.sources.url import SMBSpec, parse
from tests.fixtures.smb import SambaServer


def smb_source(server: SambaServer, waits: list[float], **options: object) -> SMBSource:
    spec = parse(server.url)
    assert isinstance(spec, SMBSpec)
    return SMBSource(spec, server.options(**options), sleep=waits.append)


def make_tree(root: Path, folders: int = 12, files: int = 5) -> list[str]:
    expected = []
    for i in range(folders):
        folder = f"f{i:02d}"
        (root / folder).mkdir()
        expected.append(folder)
        for j in range(files):
            (root / folder / f"{j}.mp4").write_bytes(b"x" * j)
            expected.append(f"{folder}/{j}.mp4")
    return expected


def error_text(exc: BaseException) -> str:
    """The message of an exception and every exception chained to it."""
    parts = []
    seen: BaseException | None = exc
    while seen is not None:
        parts.append(f"{type(seen).__name__}: {seen} {seen!r}")
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


@pytest.mark.smb
def test_restart_between_operations_reconnects(smb_private_server: SambaServer) -> None:
    server = smb_private_server
    expected = make_tree(server.root, folders=3, files=2)
    waits: list[float] = []
    source = smb_source(server, waits)
    try:
        assert [i.path for i in source.list_directory("", recursive=True)] == expected
        server.restart()
        assert [i.path for i in source.list_directory("", recursive=True)] == expected
        server.restart()
        assert source.read_partial("f00/1.mp4", 0, 10) == b"x"
        assert source.stat("f01/1.mp4").size == 1
    finally:
        source.close()
    assert all(w == BACKOFF_S[0] for w in waits)


@pytest.mark.smb
def test_restart_mid_listing_completes_the_walk(
    smb_private_server: SambaServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="archive_analyzer.sources.smb")
    server = smb_private_server
    # a chain of folders: each is discovered only when its parent is reached, so the walk
    # cannot have fetched everything before the restart
    expected = []
    folder = server.root
    for depth in range(30):
        folder = folder / f"d{depth}"
        folder.mkdir()
        expected.append(str(folder.relative_to(server.root)))
        (folder / "a.mp4").write_bytes(b"a")
    expected = sorted(
        [*expected, *(f"{p}/a.mp4" for p in expected)], key=lambda p: tuple(p.split("/"))
    )
    waits: list[float] = []
    source = smb_source(server, waits, list_concurrency=2)
    got: list[str] = []
    try:
        for info in source.list_directory("", recursive=True):
            got.append(info.path)
            if len(got) == 20:
                server.restart()
    finally:
        source.close()
    assert got == expected
    assert "connected again" in caplog.text


@pytest.mark.smb
def test_server_back_during_backoff(smb_private_server: SambaServer) -> None:
    server = smb_private_server
    make_tree(server.root, folders=1, files=1)
    waits: list[float] = []

    def wait_and_recover(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            server.start()

    spec = parse(server.url)
    assert isinstance(spec, SMBSpec)
    source = SMBSource(spec, server.options(), sleep=wait_and_recover)
    try:
        source.connect()
        server.stop()
        assert [i.path for i in source.list_directory("f00")] == ["f00/0.mp4"]
    finally:
        source.close()
    assert waits == [1.0, 2.0]


@pytest.mark.smb
def test_server_down_for_good_raises_unavailable_after_backoff(
    smb_private_server: SambaServer,
) -> None:
    server = smb_private_server
    waits: list[float] = []
    source = smb_source(server, waits)
    source.connect()
    server.stop()
    with pytest.raises(SourceUnavailable, match="unreachable after 3 retries"):
        list(source.list_directory(""))
    assert waits == [1.0, 2.0, 4.0]
    waits.clear()
    with pytest.raises(SourceUnavailable):
        source.read_partial("a.mp4", 0, 1)
    assert waits == [1.0, 2.0, 4.0]
    source.close()


@pytest.mark.smb
def test_password_never_in_errors_logs_or_repr(
    smb_private_server: SambaServer, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    server = smb_private_server
    password = server.password
    caplog.set_level(logging.DEBUG)  # smbprotocol's debug logging included
    texts: list[str] = []
    waits: list[float] = []

    source = smb_source(server, waits)
    texts += [repr(source), source.name, str(source.__dict__.get("_creds"))]
    source.connect()
    (server.root / "f").mkdir()
    list(source.list_directory("", recursive=True))
    for action in (
        lambda: source.read_partial("missing.mp4", 0, 1),
        lambda: source.stat("missing.mp4"),
        lambda: list(source.list_directory("f/nothing")),
    ):
        with pytest.raises(ArchiveError) as caught:
            action()
        texts.append(error_text(caught.value))
    server.stop()
    with pytest.raises(SourceUnavailable) as down:
        source.stat("f")
    texts.append(error_text(down.value))
    source.close()
    server.start()

    wrong = SMBSource(parse(server.url), server.options(password=SecretStr(password + "-wrong")))  # type: ignore[arg-type]
    with pytest.raises(SourceUnavailable, match="wrong user or password") as denied:
        wrong.connect()
    texts.append(error_text(denied.value))

    with pytest.raises(ConfigError) as in_url:
        open_source(f"smb://{server.user}:{password}@127.0.0.1:{server.port}/x", server.options())
    texts.append(error_text(in_url.value))

    texts.append(caplog.text)
    for text in texts:
        assert password not in text
    assert caplog.text  # something was logged, so the check above had material


@pytest.mark.smb
def test_credentials_file(smb_server: SambaServer, tmp_path: Path) -> None:
    creds = tmp_path / "smb.cred"
    creds.write_text(f"username = {smb_server.user}\npassword = {smb_server.password}\n")
    creds.chmod(0o644)
    url = f"smb://127.0.0.1:{smb_server.port}/{smb_server.share}"
    with pytest.raises(ConfigError, match="chmod 600") as loose:
        open_source(url, SMBOptions(credentials_file=creds))
    assert smb_server.password not in str(loose.value)
    creds.chmod(0o600)
    source = open_source(url, SMBOptions(credentials_file=creds))
    try:
        source.connect()
        list(source.list_directory(""))
    finally:
        source.close()


def test_missing_password_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no SMB password"):
        open_source("smb://someone@127.0.0.1:1/share")
    with pytest.raises(ConfigError, match="no SMB user"):
        open_source("smb://127.0.0.1:1/share", SMBOptions(SecretStr("x")))


@pytest.mark.smb
@pytest.mark.parametrize("where", ["global", "share"])
def test_encrypted_server_or_share_is_read_by_the_lean_clients(
    caplog: pytest.LogCaptureFixture, where: str
) -> None:
    """``smb encrypt = required`` for the server (the session is encrypted) or for the share
    only (the tree is): listing, stats and reads all work, encrypted (AES-128-GCM)."""
    setting = "    smb encrypt = required"
    server = SambaServer(extra_global=setting if where == "global" else "")
    if where == "share":
        server.conf.write_text(server.conf.read_text() + setting + "\n")
    caplog.set_level(logging.DEBUG, logger="archive_analyzer.sources.smb")
    try:
        server.start()
        expected = make_tree(server.root, folders=2, files=2)
        (server.root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 5))
        source = smb_source(server, [])
        try:
            assert [i.path for i in source.list_directory("", recursive=True)] == [
                "big.bin",
                *expected,
            ]
            assert source.read_partial("f01/1.mp4", 0, 5) == b"x"
            assert source.stat("f01/1.mp4").size == 1
            with source.open_reader("big.bin") as reader:
                assert b"".join(reader.chunks()) == (server.root / "big.bin").read_bytes()
        finally:
            source.close()
    finally:
        server.close()
    assert "encrypted AES-128-GCM" in caplog.text
    assert "through smbprotocol" not in caplog.text


@pytest.mark.smb
def test_server_the_lean_clients_cannot_serve_goes_through_smbprotocol(
    smb_server: SambaServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archive_analyzer.sources import smb_conn, smb_wire
    from archive_analyzer.sources.smb_proto import UnsupportedServer

    def refuse(*args: object, **kwargs: object) -> None:
        raise UnsupportedServer("the server wants Kerberos")

    monkeypatch.setattr(smb_conn, "login", refuse)
    monkeypatch.setattr(smb_wire, "login", refuse)
    folder = smb_server.new_folder("fallback")
    expected = make_tree(folder.root, folders=2, files=2)
    spec = parse(folder.url)
    assert isinstance(spec, SMBSpec)
    source = SMBSource(spec, folder.options(), sleep=[].append)
    caplog.set_level(logging.INFO, logger="archive_analyzer.sources.smb")
    try:
        assert [i.path for i in source.list_directory("", recursive=True)] == expected
        assert source.read_partial("f01/1.mp4", 0, 5) == b"x"
        with source.open_reader("f01/1.mp4") as reader:
            assert b"".join(reader.chunks()) == b"x"
    finally:
        source.close()
    assert "listing smb://" in caplog.text and "reading smb://" in caplog.text
    assert caplog.text.count("through smbprotocol") == 2


@pytest.mark.smb
@pytest.mark.parametrize("fast", [True, False], ids=["wire", "smbprotocol"])
def test_folder_bigger_than_two_query_buffers_is_paged(smb_server: SambaServer, fast: bool) -> None:
    folder = smb_server.new_folder("big")
    # ~500 bytes per entry: two 64 KiB answers hold ~260, so 400 names need paging
    names = sorted(f"{i:04d} {'long episode name ' * 11}.mp4" for i in range(400))
    for name in names:
        (folder.root / name).touch()
    spec = parse(folder.url)
    assert isinstance(spec, SMBSpec)
    source = SMBSource(spec, folder.options(), fast_listing=fast)
    try:
        assert [i.path for i in source.list_directory("", recursive=True)] == names
    finally:
        source.close()


@pytest.mark.smb
def test_symlink_loop_is_not_followed_forever(
    smb_server: SambaServer, caplog: pytest.LogCaptureFixture
) -> None:
    folder = smb_server.new_folder("loop")
    (folder.root / "show" / "season").mkdir(parents=True)
    (folder.root / "show" / "season" / "ep.mp4").write_bytes(b"x")
    (folder.root / "show" / "season" / "back").symlink_to("..")
    spec = parse(folder.url)
    assert isinstance(spec, SMBSpec)
    source = SMBSource(spec, folder.options())
    caplog.set_level(logging.WARNING)
    try:
        got = [i.path for i in source.list_directory("", recursive=True)]
    finally:
        source.close()
    assert got == ["show", "show/season", "show/season/back", "show/season/ep.mp4"]
    assert "loops back" in caplog.text


@pytest.mark.smb
@pytest.mark.parametrize("fast", [True, False], ids=["wire", "smbprotocol"])
def test_hung_server_raises_source_timeout(smb_private_server: SambaServer, fast: bool) -> None:
    server = smb_private_server
    make_tree(server.root, folders=1, files=1)
    spec = parse(server.url)
    assert isinstance(spec, SMBSpec)
    source = SMBSource(spec, server.options(timeout_s=0.5), fast_listing=fast, sleep=[].append)
    try:
        list(source.list_directory(""))
        source.read_partial("f00/0.mp4", 0, 1)
        for operation in (
            lambda: list(source.list_directory("f00")),
            lambda: source.read_partial("f00/0.mp4", 0, 1),
            lambda: source.stat("f00/0.mp4"),
        ):
            server.pause()
            try:
                with pytest.raises(SourceTimeout, match="no answer within"):
                    operation()
            finally:
                server.resume()
            operation()  # the next call reconnects
    finally:
        source.close()


@pytest.mark.smb
def test_nfd_name_found_in_a_folder_bigger_than_two_query_buffers(smb_server: SambaServer) -> None:
    import unicodedata

    folder = smb_server.new_folder("bignfd")
    for i in range(400):
        (folder.root / f"{i:04d} {'long episode name ' * 11}.mp4").touch()
    (folder.root / unicodedata.normalize("NFD", "한글 마지막.mp4")).write_bytes(b"found")
    spec = parse(folder.url)
    assert isinstance(spec, SMBSpec)
    source = SMBSource(spec, folder.options())
    try:
        assert source.stat("한글 마지막.mp4").size == 5
        with source.open_reader("한글 마지막.mp4") as reader:
            assert reader.read_at(0, 5) == b"found"
    finally:
        source.close()
