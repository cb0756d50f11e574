"""The SMB file reader against a real smbd: faults, pipelining, version checks, no leaked opens.

Connection drops are made with ``DelayProxy.drop_all`` (the TCP connection is cut while smbd
keeps running) or a server restart; a hung server is smbd frozen with SIGSTOP.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.errors import FileVanished, SourceTimeout
from archive_analyzer.sources.credentials import SMBOptions
from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.url import SMBSpec, parse
from tests.fixtures.delay_proxy import DelayProxy
from tests.fixtures.net import wait_for
from tests.fixtures.smb import SambaServer, SMBFolder

pytestmark = pytest.mark.smb

MIB = 1024 * 1024


def write(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    path.chmod(0o644)
    return data


def source_for(url: str, options: SMBOptions, waits: list[float], **kwargs: Any) -> SMBSource:
    spec = parse(url)
    assert isinstance(spec, SMBSpec)
    return SMBSource(spec, options, sleep=waits.append, **kwargs)


@pytest.fixture
def proxied(smb_folder: SMBFolder) -> Iterator[tuple[SMBFolder, DelayProxy, str]]:
    """The folder, a proxy in front of its server, and the folder's URL through the proxy."""
    server = smb_folder.server
    with DelayProxy((server.host, server.port)) as proxy:
        url = smb_folder.url.replace(f":{server.port}/", f":{proxy.port}/")
        yield smb_folder, proxy, url


def receive_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("smb-receive")]


def test_connection_dropped_mid_stream_continues_at_the_same_offset(
    proxied: tuple[SMBFolder, DelayProxy, str], caplog: pytest.LogCaptureFixture
) -> None:
    folder, proxy, url = proxied
    data = write(folder.root / "master.mxf", 40 * MIB)
    waits: list[float] = []
    source = source_for(url, folder.options(), waits)
    caplog.set_level(logging.WARNING)
    try:
        digest = hashlib.sha256()
        with source.open_reader("master.mxf") as reader:
            for index, chunk in enumerate(reader.chunks()):
                digest.update(chunk)
                if index in (3, 20):
                    proxy.drop_all()  # twice: once early, once in the middle
            assert digest.digest() == hashlib.sha256(data).digest()
            assert reader.stats.opens == 3  # the first open and one reopen per drop
            assert reader.stats.bytes_read >= len(data)
        # a drop seen before a read reconnects at once; one seen while waiting backs off
        assert waits in ([], [1.0], [1.0, 1.0])
        assert caplog.text.count("dropped; retry 1/3") == len(waits)
    finally:
        source.close()
    folder.server.wait_no_open_files()


def test_connection_dropped_between_random_reads(
    proxied: tuple[SMBFolder, DelayProxy, str],
) -> None:
    folder, proxy, url = proxied
    data = write(folder.root / "probe.mp4", 3 * MIB)
    source = source_for(url, folder.options(), [])
    try:
        with source.open_reader("probe.mp4") as reader:
            assert reader.read_at(100, 16) == data[100:116]
            proxy.drop_all()
            assert reader.read_at(2 * MIB, 64 * 1024) == data[2 * MIB : 2 * MIB + 64 * 1024]
            assert reader.stats.opens == 2
    finally:
        source.close()
    folder.server.wait_no_open_files()


def test_server_restart_mid_stream(smb_private_server: SambaServer) -> None:
    server = smb_private_server
    data = write(server.root / "ep.mp4", 24 * MIB)
    source = source_for(server.url, server.options(), [])
    try:
        with source.open_reader("ep.mp4") as reader:
            got = bytearray()
            for index, chunk in enumerate(reader.chunks()):
                got += chunk
                if index == 2:
                    server.restart()
            assert bytes(got) == data
    finally:
        source.close()
    server.wait_no_open_files()


def test_hung_server_gives_a_timeout_not_a_hung_thread(smb_private_server: SambaServer) -> None:
    server = smb_private_server
    data = write(server.root / "ep.mp4", 30 * MIB)
    before = set(receive_threads())
    source = source_for(server.url, server.options(timeout_s=0.5), [])
    try:
        with source.open_reader("ep.mp4") as reader:
            chunks = reader.chunks()
            first = bytes(next(chunks))
            assert first and data.startswith(first)
            server.pause()
            try:
                start = time.monotonic()
                with pytest.raises(SourceTimeout, match="no answer within"):
                    for _ in chunks:
                        pass
                assert time.monotonic() - start < 5  # the time limit, not a hang
            finally:
                server.resume()
            # the reader reconnects and reopens on its next read
            assert reader.read_at(29 * MIB, 10) == data[29 * MIB : 29 * MIB + 10]
    finally:
        source.close()
    wait_for(lambda: set(receive_threads()) <= before, timeout=10, what="receive threads gone")
    server.wait_no_open_files()


def test_vanish_seen_by_the_periodic_check(smb_folder: SMBFolder) -> None:
    """With the default check period, a stream notices a deleted file at the first check
    after it (the clock is injected), and keeps raising the same error."""
    now = [0.0]
    write(folder_file := smb_folder.root / "gone.mp4", 40 * MIB)
    source = source_for(smb_folder.url, smb_folder.options(recheck_s=5.0), [], clock=lambda: now[0])
    try:
        with source.open_reader("gone.mp4") as reader:
            chunks = reader.chunks()
            for _ in range(4):
                next(chunks)
            folder_file.unlink()
            for _ in range(4):
                next(chunks)  # no check due yet: the open handle still reads the old bytes
            assert reader.stats.checks == 0
            now[0] += 6.0
            with pytest.raises(FileVanished):
                for _ in chunks:
                    pass
            assert reader.stats.checks == 1
            with pytest.raises(FileVanished):
                reader.read_at(0, 1)
    finally:
        source.close()
    smb_folder.server.wait_no_open_files()


def test_many_readers_in_threads_spread_over_the_connections(smb_folder: SMBFolder) -> None:
    files = {f"f{i}.mp4": write(smb_folder.root / f"f{i}.mp4", (3 + i) * MIB) for i in range(6)}
    source = source_for(smb_folder.url, smb_folder.options(read_connections=3), [])
    opened = [source.open_reader(name) for name in list(files)[:4]]
    for reader in opened:
        assert reader.info.size  # opens it
    assert sum(conn is not None for conn in source._conns) == 3  # the 4th shares the 1st
    for reader in opened:
        reader.close()
    results: dict[str, bytes] = {}

    def read(name: str) -> None:
        with source.open_reader(name) as reader:
            results[name] = b"".join(reader.chunks())

    try:
        threads = [threading.Thread(target=read, args=(name,)) for name in files]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results == files
        assert source.reader_memory() == (0, 0)  # every reader closed, nothing held
    finally:
        source.close()
    smb_folder.server.wait_no_open_files()


@pytest.mark.parametrize("signing", ["required", "auto"])
def test_signing_on_and_off(smb_folder: SMBFolder, signing: str) -> None:
    data = write(smb_folder.root / "s.mp4", 2 * MIB + 3)
    source = source_for(smb_folder.url, smb_folder.options(signing=signing), [])
    try:
        with source.open_reader("s.mp4") as reader:
            assert b"".join(reader.chunks()) == data
        conn = source._conn
        assert conn is not None
        described = conn.describe()
        assert described.endswith("unsigned") == (signing == "auto"), described
    finally:
        source.close()
