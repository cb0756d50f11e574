"""HLS over SMB: how long the first segment of a ProRes and an MXF master takes, and a poster.

The masters are ``bench.playback``'s (made once and cached): a 1080p ProRes 422 MOV and an
MPEG-2 4:2:2 35 Mb/s XDCAM-like MXF, ``--seconds`` long. They are put in a throwaway smbd's
share and catalogued with the real probe engine; the app (uvicorn in a thread) then serves
them with the share as its source, so ffmpeg reads every byte through the loopback input
endpoint and our SMB reader. For each file, ``--runs`` times with a cold segment cache:
the time of ``GET /hls/<id>/0.ts`` (the first segment: what a viewer waits for), of a
segment in the middle (an input seek), and of ``GET /thumb/<id>`` (a poster frame, cold).
The same with the share's folder as a local source is the baseline. ``--rtt-ms`` puts the
share behind ``tests.fixtures.delay_proxy`` (in its own process) with that round trip added.
Run it on two commits to compare before/after (``PYTHONPATH=<checkout>/src:<checkout>``).

    .venv/bin/python -m bench.hls_smb [--runs 5] [--seconds 30] [--rtt-ms 0]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.fixtures.browser import serve_app
from tests.fixtures.smb import SambaServer
from tests.web.playback_data import seed_corpus

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.pipeline import source_opener
from archive_analyzer.web import accounts
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from archive_analyzer.web.transcode import SegmentCache
from bench.playback import media
from bench.read import delayed

PASSWORD = "quiet lantern orchard 1"
MODES = {"prores": "transcode-prores", "mxf": "transcode"}
LABELS = {"prores": "ProRes 422 MOV", "mxf": "MPEG-2 4:2:2 MXF"}


@contextlib.contextmanager
def site(settings: Settings, files: dict[str, Path], work: Path) -> Iterator[Site]:
    """The app over ``settings.source`` with ``files`` catalogued, served and logged in."""
    source = source_opener(settings)(settings.source or "")
    source.connect()
    conn = db.connect(settings.db)
    try:
        ids = seed_corpus(conn, files, list(files), source=source)
        accounts.add_user(conn, "bench", PASSWORD, role="admin")
        durations = {
            name: conn.execute(
                "SELECT m.duration_s FROM contents c JOIN media_info m ON m.id = c.file_id "
                "WHERE c.id = ?",
                (cid,),
            ).fetchone()[0]
            for name, cid in ids.items()
        }
    finally:
        conn.close()
        source.close()
    registry = SourceRegistry(settings)
    app = create_app(
        settings,
        conn_factory=lambda: db.connect(settings.db, migrate=False),
        source_factory=registry,
    )
    try:
        with serve_app(app) as server, httpx.Client(base_url=server.url, timeout=300) as client:
            page = client.get("/login")
            token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert token
            client.post(
                "/login", data={"username": "bench", "password": PASSWORD, "csrf": token.group(1)}
            )
            yield Site(settings, app, client, ids, durations, work)
    finally:
        registry.close()


@dataclass
class Site:
    settings: Settings
    app: Any
    client: httpx.Client
    ids: dict[str, str]
    durations: dict[str, float]
    work: Path

    def once(self, name: str, run: int) -> list[float]:
        """[first segment ms, middle segment ms, poster ms] of ``name``, caches cold."""
        cid = self.ids[name]
        middle = int(self.durations[name] / self.settings.hls_segment_s / 2)
        state = self.app.state.playback
        state.segments = SegmentCache(
            self.work / f"hls-{name}-{run}", self.settings.hls_cache_bytes
        )
        state.thumbs_dir = self.work / f"thumbs-{name}-{run}"
        conn = db.connect(self.settings.db, migrate=False)
        with db.transaction(conn):
            conn.execute("DELETE FROM thumbnails")
        conn.close()
        out = []
        for url in (f"/hls/{cid}/0.ts", f"/hls/{cid}/{middle}.ts", f"/thumb/{cid}"):
            start = time.perf_counter()
            response = self.client.get(url)
            out.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    args = parser.parse_args()
    made = media(args.seconds)
    smb = SambaServer()
    work = Path(tempfile.mkdtemp(prefix="bench-hls-smb-"))
    try:
        files: dict[str, Path] = {}
        for label, mode in MODES.items():
            target = smb.root / made[mode].name
            shutil.copyfile(made[mode], target)
            target.chmod(0o644)
            files[label] = target
        smb.start()
        load_before = os.getloadavg()
        remote = f"SMB (loopback smbd, +{args.rtt_ms:g} ms)"
        # name -> kind -> [[first, middle, poster] per run]
        timings: dict[str, dict[str, list[list[float]]]] = {
            name: {"local disk": [], remote: []} for name in files
        }
        with contextlib.ExitStack() as stack:
            port = stack.enter_context(delayed(smb.port, args.rtt_ms))
            url = smb.url.replace(f":{smb.port}/", f":{port}/")
            sites = {}
            for kind, spec, extra in (
                ("local disk", str(smb.root), {}),
                (remote, url, {"smb_password": smb.password}),
            ):
                folder = work / re.sub(r"\W+", "-", kind)
                folder.mkdir()
                settings = Settings(
                    db=folder / "web.db",
                    data_dir=folder / "data",
                    source=spec,
                    **extra,  # type: ignore[arg-type]
                )
                sites[kind] = stack.enter_context(site(settings, files, folder))
            for run in range(args.runs):  # local and SMB alternate: load drift hits both
                for name in files:
                    for kind, each in sites.items():
                        timings[name][kind].append(each.once(name, run))
        load_after = os.getloadavg()
        print(
            f"\n{args.seconds} s masters, {args.runs} runs alternating local/SMB (medians, "
            f"cold caches), {os.cpu_count()} cores, load average {load_before[0]:.2f} before, "
            f"{load_after[0]:.2f} after\n"
        )
        print(
            "| file | source | first segment ms | middle segment ms | poster frame ms | "
            "first segment SMB / local |"
        )
        print("|---|---|---|---|---|---|")
        for name, kinds in timings.items():
            medians = {
                kind: [statistics.median(run[i] for run in runs) for i in range(3)]
                for kind, runs in kinds.items()
            }
            for kind, (first, mid, poster) in medians.items():
                ratio = first / medians["local disk"][0]
                print(
                    f"| {LABELS[name]} | {kind} | {first:.0f} | {mid:.0f} | {poster:.0f} | "
                    f"{'' if kind == 'local disk' else f'{ratio:.2f}'} |"
                )
            print(
                f"  runs {LABELS[name]}: "
                + "; ".join(
                    f"{kind} {[round(r[0]) for r in runs]}" for kind, runs in kinds.items()
                ),
                file=sys.stderr,
            )
    finally:
        smb.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
