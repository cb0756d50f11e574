"""Raw file reads over SMB: our pipelined reader vs Samba's own client, near and far.

Starts a throwaway smbd (``tests.fixtures.smb.SambaServer``) with one ``--mib`` MiB file of
random bytes (in the page cache after the first read, so the disk is out of the picture) and
reads it whole, again and again, alternating between the two contenders:

* smbclient: ``smbclient //HOST/share -c 'get FILE /dev/null'``, login included, with
  ``--client-protection=sign`` (signing on) or ``=off`` (off: smbd does not require it), or
  ``=encrypt`` against a second smbd with ``smb encrypt = required``;
* ours: a new ``SMBSource`` (login included), ``open_reader(FILE).chunks()`` to the end,
  ``smb_signing = "required"`` or ``"auto"`` (encrypted: the server decides).

at each added round trip in ``--rtt-ms`` (0: direct; otherwise through
``tests.fixtures.delay_proxy`` in its own process, half the round trip each way). Prints the
median MiB/s of each, the ratio ours / smbclient (target: >= 0.8 at every delay) and our
process's CPU seconds per GiB (``time.process_time``: the reader and its receive thread;
the proxy runs elsewhere). ``--sweep`` instead compares chunk sizes and windows of ours.

    .venv/bin/python -m bench.read [--mib 256] [--runs 5] [--rtt-ms 0,1,5]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fixtures.smb import SambaServer

from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.url import SMBSpec, parse

FILE = "big.bin"
MIB = 1024 * 1024


@contextmanager
def delayed(port: int, rtt_ms: float) -> Iterator[int]:
    """The port to use for ``rtt_ms`` of added round trip (0: the server's own)."""
    if rtt_ms <= 0:
        yield port
        return
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fixtures.delay_proxy",
            "--target",
            f"127.0.0.1:{port}",
            "--delay-ms",
            str(rtt_ms / 2),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        yield int(line.split()[1])
    finally:
        proc.kill()
        proc.wait()


PROTECTIONS = {"sign": "signed", "off": "off", "encrypt": "encrypted"}


def smbclient(port: int, auth: Path, protection: str) -> float:
    """Seconds for smbclient to log in and read the file to /dev/null."""
    start = time.perf_counter()
    subprocess.run(
        [
            "smbclient",
            "//127.0.0.1/archive",
            "-p",
            str(port),
            "-A",
            str(auth),
            f"--client-protection={protection}",
            "-c",
            f"get {FILE} /dev/null",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def ours(
    server: SambaServer, port: int, protection: str, chunk_kib: int, window: int, size: int
) -> tuple[float, float, int]:
    """(seconds, CPU seconds, peak bytes held) for our client to log in and read the file."""
    spec = parse(f"smb://{server.user}@127.0.0.1:{port}/archive")
    assert isinstance(spec, SMBSpec)
    options = server.options(
        signing="auto" if protection == "off" else "required",
        read_chunk_kib=chunk_kib,
        read_window=window,
        recheck_s=2.0,
        timeout_s=30.0,
    )
    cpu = time.process_time()
    start = time.perf_counter()
    source = SMBSource(spec, options)
    try:
        with source.open_reader(FILE) as reader:
            total = sum(len(chunk) for chunk in reader.chunks())
            peak = reader.stats.peak_buffered
    finally:
        source.close()
    elapsed = time.perf_counter() - start
    assert total == size, (total, size)
    return elapsed, time.process_time() - cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rtt-ms", default="0,1,5")
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--protections", default="sign,off,encrypt")
    parser.add_argument("--sweep", action="store_true", help="compare chunk sizes and windows")
    args = parser.parse_args()
    if not shutil.which("smbclient"):
        raise SystemExit("smbclient is needed (apt-get install smbclient)")
    server = SambaServer()
    sealed = SambaServer(extra_global="    smb encrypt = required")
    work = Path(tempfile.mkdtemp(prefix="bench-read-"))
    try:
        block = os.urandom(MIB)
        for each in (server, sealed):
            target = each.root / FILE
            with open(target, "wb") as handle:
                for _ in range(args.mib):
                    handle.write(block)
            target.chmod(0o644)
            each.start()
        auth = work / "auth"
        auth.write_text(f"username = {server.user}\npassword = {server.password}\n")
        auth.chmod(0o600)
        sealed_auth = work / "sealed-auth"
        sealed_auth.write_text(f"username = {sealed.user}\npassword = {sealed.password}\n")
        sealed_auth.chmod(0o600)
        size = args.mib * MIB
        smbclient(server.port, auth, "sign")  # warm the page cache
        load_before = os.getloadavg()
        if args.sweep:
            sweep(server, size, args)
        else:
            compare({"plain": (server, auth), "sealed": (sealed, sealed_auth)}, size, args)
        load_after = os.getloadavg()
        print(
            f"\nfile {args.mib} MiB, {args.runs} runs each (medians), {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average "
            f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
        )
    finally:
        server.close()
        sealed.close()
        shutil.rmtree(work, ignore_errors=True)


def compare(
    servers: dict[str, tuple[SambaServer, Path]], size: int, args: argparse.Namespace
) -> None:
    rows = []
    for rtt in [float(v) for v in args.rtt_ms.split(",")]:
        for protection in args.protections.split(","):
            server, auth = servers["sealed" if protection == "encrypt" else "plain"]
            with delayed(server.port, rtt) as port:
                theirs: list[float] = []
                mine: list[float] = []
                cpus: list[float] = []
                peaks: list[int] = []
                for _ in range(args.runs):
                    theirs.append(size / MIB / smbclient(port, auth, protection))
                    seconds, cpu, peak = ours(
                        server, port, protection, args.chunk_kib, args.window, size
                    )
                    mine.append(size / MIB / seconds)
                    cpus.append(cpu / (size / 2**30))
                    peaks.append(peak)
            row = (
                rtt,
                PROTECTIONS[protection],
                statistics.median(theirs),
                statistics.median(mine),
                statistics.median(cpus),
                max(peaks),
            )
            rows.append(row)
            print(
                f"rtt {rtt:g} ms, {row[1]}: smbclient {row[2]:.0f} MiB/s "
                f"{[round(v) for v in theirs]}, ours {row[3]:.0f} MiB/s "
                f"{[round(v) for v in mine]}",
                flush=True,
            )
    print(
        "\n| added round trip | protection | smbclient MiB/s | ours MiB/s | ours / smbclient | "
        "our CPU s per GiB | our peak buffer |"
    )
    print("|---|---|---|---|---|---|---|")
    for rtt, protection, theirs_m, mine_m, cpu, peak in rows:
        print(
            f"| {rtt:g} ms | {protection} | {theirs_m:.0f} | {mine_m:.0f} | "
            f"**{mine_m / theirs_m:.2f}** | {cpu:.2f} | {peak / MIB:.0f} MiB |"
        )


def sweep(server: SambaServer, size: int, args: argparse.Namespace) -> None:
    combos = [(1024, 4), (1024, 8), (2048, 4), (4096, 2), (8192, 1), (8192, 2)]
    for rtt in [float(v) for v in args.rtt_ms.split(",")]:
        with delayed(server.port, rtt) as port:
            results: dict[tuple[int, int], list[float]] = {c: [] for c in combos}
            for _ in range(args.runs):
                for chunk, window in combos:
                    seconds, _cpu, _peak = ours(server, port, "sign", chunk, window, size)
                    results[(chunk, window)].append(size / MIB / seconds)
            for (chunk, window), speeds in results.items():
                print(
                    f"rtt {rtt:g} ms, chunk {chunk} KiB x window {window}: "
                    f"{statistics.median(speeds):.0f} MiB/s {[round(v) for v in speeds]}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
