"""Acceptance (issue 8, "Done when"): a new user runs the system, logs in, finds and plays a demo
episode in Chromium.

``python -m archive_analyzer run`` starts as ``make run`` would (only the port differs) in an
empty folder with a clean ``ARCHIVE_*`` environment, so it generates the demo archive itself,
creates the first admin and prints the one-time password. The browser logs in with it, sets a
new password when told to, waits until the demo has been scanned and probed, searches for a
player from the demo file names, opens the episode and plays it. SIGTERM then stops the system
cleanly. Screenshots go to ./artifacts/acceptance-*.png.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.net import free_port, port_open, wait_for

pytestmark = pytest.mark.slow

# Names the settings also read without the ARCHIVE_ prefix (config.py validation aliases).
_ALIASES = ("GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS", "FIRESTORE_EMULATOR_HOST")
_PASSWORD_LINE = re.compile(r"^\s{4}(\S+)\s*$")
NEW_PASSWORD = "acceptance-pass-1"


@dataclass
class RunningSystem:
    """The ``run`` process and everything it printed (stdout and stderr merged)."""

    process: subprocess.Popen[str]
    url: str
    # repr=False: pytest prints locals on failure, and the password must not show
    lines: list[str] = field(default_factory=list, repr=False)
    secret: str = field(default="", repr=False)
    reader: threading.Thread | None = field(default=None, repr=False)

    def output(self) -> str:
        """The transcript, with the one-time password blanked out (it is never shown)."""
        text = "".join(self.lines)
        return text.replace(self.secret, "<one-time password>") if self.secret else text

    def one_time_password(self) -> str | None:
        """The password from the first-admin announcement, once it has been printed."""
        for i, line in enumerate(self.lines):
            if "one-time password" in line:
                for after in self.lines[i + 1 : i + 4]:
                    match = _PASSWORD_LINE.match(after)
                    if match:
                        return match.group(1)
        return None


def _clean_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_") and k not in _ALIASES
    }
    env["ARCHIVE_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSystem]:
    monkeypatch.chdir(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archive_analyzer",
            "run",
            "--port",
            str(port),
            "--db",
            "archive.db",
        ],
        cwd=tmp_path,
        env=_clean_env(tmp_path / "data"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    running = RunningSystem(process, f"http://127.0.0.1:{port}")
    assert process.stdout is not None
    stream = process.stdout
    running.reader = threading.Thread(
        target=lambda: running.lines.extend(iter(stream.readline, "")), daemon=True
    )
    running.reader.start()
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        running.reader.join(timeout=5)


def _alive(system: RunningSystem) -> bool:
    if system.process.poll() is not None:
        raise AssertionError(
            f"run exited early with {system.process.returncode}:\n{system.output()}"
        )
    return True


def test_new_user_runs_logs_in_finds_and_plays_a_demo_episode(
    system: RunningSystem, chromium: Any, artifacts: Path
) -> None:
    def printed() -> str | None:
        _alive(system)
        return system.one_time_password()

    system.secret = wait_for(printed, timeout=45, what="the one-time admin password") or ""
    wait_for(
        lambda: _alive(system) and port_open(int(system.url.rsplit(":", 1)[1])),
        timeout=30,
        what="the web port",
    )
    url = system.url

    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)

        # log in with the one-time password; the app insists on a new one first
        page.goto(f"{url}/")
        assert page.url.startswith(f"{url}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", system.secret)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/account/password")
        page.screenshot(path=artifacts / "acceptance-password.png")
        page.fill("input[name=current]", system.secret)
        page.fill("input[name=password]", NEW_PASSWORD)
        page.fill("input[name=repeat]", NEW_PASSWORD)
        page.click("form[action='/account/password'] button[type=submit]")
        page.wait_for_url(f"{url}/")

        # the first scan and probe run in the background: poll the search API until the
        # episode is catalogued with a duration (probed)
        def probed() -> bool:
            _alive(system)
            reply = page.request.get(f"{url}/api/search?q=Moneymaker")
            assert reply.ok, reply.status
            items = reply.json()["items"]
            return bool(items) and bool(items[0]["play_seconds"])

        wait_for(probed, timeout=30, interval=0.25, what="the demo catalog to be probed")
        page.reload()
        page.screenshot(path=artifacts / "acceptance-home.png", full_page=True)

        # find it as a user would: the search box in the header
        page.fill("header input[name=q]", "Moneymaker")
        page.press("header input[name=q]", "Enter")
        page.wait_for_url("**/search?q=Moneymaker*")
        results = page.locator("ul.results li a")
        assert results.count() >= 1
        assert "Moneymaker" in results.first.inner_text()
        page.screenshot(path=artifacts / "acceptance-search.png", full_page=True)

        results.first.click()
        page.wait_for_url("**/content/*")
        page.screenshot(path=artifacts / "acceptance-content.png", full_page=True)
        page.click("a.button.primary[href^='/watch/']")
        page.wait_for_url("**/watch/*")
        # polled from here with evaluate: wait_for_function evals a string, which the app's
        # CSP (script-src 'self') refuses, and the CSP stays on to test the real page
        player = "document.getElementById('player')"
        wait_for(lambda: page.evaluate(f"{player}.readyState >= 1"), timeout=20, what="metadata")
        page.evaluate(f"{player}.play()")
        wait_for(lambda: page.evaluate(f"{player}.currentTime > 0.3"), timeout=20, what="playback")
        assert page.evaluate(f"{player}.error") is None
        page.screenshot(path=artifacts / "acceptance-playing.png")
    finally:
        context.close()

    # SIGTERM: in-flight work finishes, the process exits 0
    system.process.send_signal(signal.SIGTERM)
    wait_for(
        lambda: system.process.poll() is not None, timeout=30, interval=0.1, what="run to stop"
    )
    assert system.reader is not None
    system.reader.join(timeout=10)  # the rest of the output, up to end of file
    output = system.output()
    assert system.process.returncode == 0, output
    assert "Traceback" not in output, output
