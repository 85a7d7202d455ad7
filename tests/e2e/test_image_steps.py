"""The Dockerfile's steps, run outside Docker (no Docker daemon here): copy what its build stage
copies, build Ally's wheel from that alone, install it into a fresh virtual environment, then
migrate and serve as an unprivileged user, from a read-only working folder, with the database
under a writable volume path, against the fake Slack: ``/healthz`` answers 200.

pip reuses its cache, so on a machine that has installed Ally once this costs seconds of
installing rather than downloads.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.process import Bot, bot_env, wait_until
from tests.support.settings import SECRET

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534  # nobody:nogroup on Debian and in python:slim
PIP_DEADLINE = 600  # seconds; a cold pip cache downloads every dependency


def build_stage_copies(dockerfile: str) -> list[str]:
    """The sources the first stage's ``COPY`` lines take from the build context."""
    first_stage = dockerfile.split("\nFROM ", 2)[1]
    sources: list[str] = []
    for line in first_stage.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *srcs, _dest = line.split()[1:]
            sources += [s.rstrip("/") for s in srcs]
    return sources


def allowed_by_dockerignore(path: str, dockerignore: str) -> bool:
    """Docker's rule for an allow-list .dockerignore: the last matching pattern wins."""
    allowed = True
    for raw in dockerignore.splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        glob = re.escape(pattern.lstrip("!").rstrip("/")).replace(r"\*", "[^/]*")
        if re.fullmatch(glob, path):
            allowed = negate
    return allowed


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="ally-image-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(argv: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_DEADLINE, **options)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result


def as_nobody(argv: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]


def read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_the_image_steps_serve_healthz_as_an_unprivileged_user(
    fake_slack: FakeSlack, scratch: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("switching to the unprivileged user `nobody` needs root (setpriv)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    dockerfile = (ROOT / "Dockerfile").read_text()
    dockerignore = (ROOT / ".dockerignore").read_text()

    # Build stage: only what the Dockerfile copies, and .dockerignore lets through.
    context = scratch / "context"
    context.mkdir()
    for source in build_stage_copies(dockerfile):
        assert allowed_by_dockerignore(source, dockerignore), f".dockerignore drops {source}"
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, context / source, ignore=shutil.ignore_patterns("*.pyc"))
        else:
            shutil.copy(ROOT / source, context / source)
    wheels = scratch / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        cwd=context,
    )
    [wheel] = wheels.glob("ally-*.whl")
    venv = scratch / "opt-ally"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)])
    ally_bot = str(venv / "bin" / "ally-bot")

    # Runtime stage: a read-only working folder (a copy of the project) and a writable volume.
    workdir = scratch / "app"
    skip = shutil.ignore_patterns(".git", ".venv", "data", "*cache*", "*.egg-info")
    shutil.copytree(ROOT, workdir, ignore=skip)
    read_only(workdir)
    volume = scratch / "data"
    volume.mkdir()
    os.chown(volume, NOBODY, NOBODY)
    env = bot_env(fake_slack.base_url, f"sqlite:///{volume}/ally.db", SECRET, HOME="/nonexistent")
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"

    run(as_nobody([ally_bot, "migrate"]), cwd=workdir, env=env)
    log_path = scratch / "ally-bot.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            as_nobody([ally_bot, "run"]),
            cwd=workdir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    bot = Bot(process, log_path, int(env["PORT"]))
    try:
        wait_until(bot.healthy, "GET /healthz to answer 200")
        with urllib.request.urlopen(f"{bot.url}/metrics", timeout=10) as response:
            assert response.status == 200
        assert bot.stop(signal.SIGTERM) == 0
    finally:
        if bot.running():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert "Traceback" not in bot.log()
    assert (volume / "ally.db").stat().st_uid == NOBODY
    # Nothing was written into the working folder.
    assert not (workdir / "data").exists()
    assert not list(workdir.glob("*.log"))
