"""The package as a user installs it: a wheel, in a new virtual environment outside the clone.

The wheel is built once for this module (`python -m build`, with the registry only for the
build's own requirements, from pip's cache after the first time) and installed with its dependencies
into a virtual environment in a temporary folder. Every command then runs from another
temporary folder with the clone nowhere on the path: what it needs (catalogs, migrations,
sample data) must come from the installed package. The running bot is a separate process
here, so this is also where `backup` and `restore` meet a bot in another process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.db import Database, utcnow
from storage.outbox import OutboxItem, OutboxRepository
from tests.fakeapi import FakeBotAPI, FakeUser, SentMessage
from tests.helpers import eventually

pytestmark = pytest.mark.wheel
ROOT = Path(__file__).resolve().parents[1]
LEEDS = (53.7997, -1.5492)
WAIT_S = 60.0  # a cold start builds the place index; never a bound on speed, only on hanging
NOTICE = "Sorry, something went wrong on our side. Please try again in a moment."


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this clone's sources, as a fresh clone has them: setuptools leaves a build/
    folder beside pyproject.toml and puts whatever is in it into the next wheel, modules long
    moved or removed too."""
    source = tmp_path_factory.mktemp("source") / "sanctuary-bot"
    leave_out = (".*", "build", "dist", "data", "*.egg-info", "__pycache__", "locale")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*leave_out))
    return source


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `python -m build` builds from the sources (in an isolated environment with
    the build's own requirements, from the registry or pip's cache)."""
    wheels = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"python -m build failed:\n{done.stdout}\n{done.stderr}"
    (built,) = wheels.glob("sanctuary_bot-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a new virtual environment with the wheel built from this clone."""
    venv = tmp_path_factory.mktemp("venv")
    assert not venv.is_relative_to(ROOT)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    _pip("--python", str(venv / "bin" / "python"), "install", str(wheel))
    return venv / "bin"


def test_the_wheel_holds_the_product_and_not_the_tests(wheel: Path) -> None:
    """What only tests and benchmarks need (the fake Bot API with its faults, limits and
    recording) stays out of what `pip install .` installs; the console demo brings its own
    small stand-in."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names if not name.endswith(".dist-info/RECORD")}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"bot", "handlers", "storage"}
    assert not [name for name in names if "fakeapi" in name]
    assert "bot/cli/console_api.py" in names


def _env(**settings: str) -> dict[str, str]:
    """This environment without the bot's settings or anything pointing at the clone."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "SANCTUARY_", "PYTHON", "VIRTUAL_ENV"))
    }
    return {**env, **settings}


def _run(
    bin_dir: Path, cwd: Path, *args: str, typed: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    """``sanctuary-bot ARGS`` run in ``cwd`` (``typed``: its standard input)."""
    return subprocess.run(
        [str(bin_dir / "sanctuary-bot"), *args],
        cwd=cwd,
        env=_env(**settings),
        input=typed,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_version_and_the_package_comes_from_the_environment(
    installed: Path, tmp_path: Path
) -> None:
    done = _run(installed, tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sanctuary-bot {_version()}"
    where = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            "import bot, storage; print(bot.__file__, storage.__file__)",
        ],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    for path in where.stdout.split():
        assert Path(path).is_relative_to(installed.parent), path
    catalogs = installed.parent.glob("lib/python*/site-packages/bot/locale/*/LC_MESSAGES/*.mo")
    assert len(list(catalogs)) == 19


def test_pipx_installs_it_from_the_sources(source: Path, tmp_path: Path) -> None:
    """`pipx install .` as the README's "Running it for real" does, with pipx's folders in a
    temporary one: the command it puts on the path works from another folder."""
    pipx = {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    pipx["PIPX_MAN_DIR"] = str(tmp_path / "man")
    done = subprocess.run(
        [sys.executable, "-m", "pipx", "install", "--python", sys.executable, str(source)],
        cwd=tmp_path,
        env=_env(**pipx),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"pipx install failed:\n{done.stdout}\n{done.stderr}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version = _run(tmp_path / "bin", elsewhere, "--version")
    assert version.stdout.strip() == f"sanctuary-bot {_version()}", version.stderr
    demo = _run(tmp_path / "bin", elsewhere, "console", typed="/start\n:quit\n")
    assert demo.returncode == 0, demo.stderr
    assert "sample data loaded" in demo.stdout, demo.stdout[-2000:]
    assert demo.stdout.rstrip().endswith("bye")


def test_the_console_demo_from_another_folder(installed: Path, tmp_path: Path) -> None:
    """`sanctuary-bot console` from the wheel alone (no tests folder anywhere on the path):
    sample data loaded, a search, a card and its calendar file, through its own stand-in."""
    typed = "\n".join(["/start", "#1", "#1", "#1", "Leeds", "#1", "#2", ":quit"]) + "\n"
    done = _run(installed, tmp_path, "console", typed=typed)
    assert done.returncode == 0, done.stderr
    assert "sample data loaded" in done.stdout
    assert "welcoming activities near Leeds" in done.stdout
    assert "Leeds City of Sanctuary (sample)" in done.stdout
    assert "📎 activity-" in done.stdout and ".ics" in done.stdout
    assert done.stdout.rstrip().endswith("bye")
    assert "Traceback" not in done.stdout + done.stderr, done.stderr


async def _shown(
    server: FakeBotAPI, user: FakeUser, check: Callable[[SentMessage], bool], what: str
) -> SentMessage:
    """The first message in the person's chat that ``check`` accepts (waiting for it)."""
    found: list[SentMessage] = []

    def look() -> bool:
        found[:] = [m for m in server.messages(user.chat_id) if check(m)]
        return bool(found)

    await eventually(look, WAIT_S, lambda: f"never shown: {what}\n" + server.describe_calls())
    return found[0]


def _labels(message: SentMessage) -> list[str]:
    return [text for row in message.buttons() for text, _data, _url in row]


async def test_a_journey_and_deliver_from_another_folder(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    seeded = await asyncio.to_thread(_run, installed, elsewhere, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded" in seeded.stdout
    async with FakeBotAPI() as server:
        settings = {"TELEGRAM_BOT_TOKEN": "123456:TEST-token", "TELEGRAM_API_URL": server.base_url}
        bot = await asyncio.create_subprocess_exec(
            str(installed / "sanctuary-bot"),
            "run",
            cwd=elsewhere,
            env=_env(**settings),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await server.wait_polling(WAIT_S)
            user = server.user(5001, first_name="Ana", language_code="en")
            user.send_text("/start")
            picker = await _shown(server, user, lambda m: "✓ English" in _labels(m), "picker")
            user.press(picker.button_data("English"), picker.message_id)
            intent = await _shown(
                server, user, lambda m: "What brings you here?" in m.text, "the intent question"
            )
            user.press(intent.button_data("looking for welcome"), intent.message_id)
            await _shown(server, user, lambda m: "What would you like to do?" in m.text, "menu")
            user.send_location(*LEEDS)
            results = await _shown(
                server, user, lambda m: "welcoming activities near you" in m.text, "results"
            )
            assert "Page 1 of" in results.plain_text()
            user.press(results.button_data("1"), results.message_id)
            card = await _shown(
                server, user, lambda m: "Add to calendar" in " ".join(_labels(m)), "a card"
            )
            assert "welcoming activities near you" not in card.text  # the card, not the list
            assert "verified" in card.plain_text()
            # Another process, while the bot runs: a backup is taken, a restore refused.
            copy = tmp_path / "nightly.db"
            done = await asyncio.to_thread(_run, installed, elsewhere, "backup", str(copy))
            assert done.returncode == 0 and copy.is_file(), done.stderr
            done = await asyncio.to_thread(_run, installed, elsewhere, "restore", str(copy))
            assert done.returncode == 1 and "is in use" in done.stderr, done.stderr
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(bot.communicate(), WAIT_S)
        assert b"Traceback" not in err, err.decode()
        assert (elsewhere / "data" / "sanctuary.db").is_file()  # the default, in this folder

        # Something due in the outbox, sent by `deliver` run from yet another folder.
        db = await Database.open(elsewhere / "data" / "sanctuary.db")
        try:
            await OutboxRepository(db).enqueue(
                [OutboxItem("notice", "package", user.chat_id, {"message": NOTICE})], utcnow()
            )
        finally:
            await db.close()
        other = tmp_path / "other"
        other.mkdir()
        done = await asyncio.to_thread(
            _run,
            installed,
            other,
            "deliver",
            SANCTUARY_DB=str(elsewhere / "data" / "sanctuary.db"),
            **settings,
        )
        assert done.returncode == 0, done.stderr
        assert "sent 1, failed 0" in done.stdout
        assert server.messages(user.chat_id)[-1].text == NOTICE
