"""Smoke tests of the built container image, run by `make image-test` (not collected by pytest).

    python -m tests.image.smoke IMAGE [--engine podman] [--compose "podman-compose"]

Each check starts the image as a user would, with stand-in models (tests/tiny_models.py) built
here and mounted read-only, and the fake Bot API server of the end-to-end tests on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.engine.registry import TASK_KEYS
from tests.e2e.botapi_server import BotApiServer
from tests.e2e.conftest import ANA
from tests.e2e.telegram_chats import private_chat
from tests.tiny_models import build_all, build_controlled_qa

REPO = Path(__file__).resolve().parents[2]
STAND_INS = "/stand-ins"
"""Where the stand-in models are mounted inside the container."""
READING_TEXT = "Ana nació en Zaragoza. Luego se mudó a la costa."
RUN_TIMEOUT_S = 180.0
"""One container run, model loading included, on a busy two-core CI machine."""
STOP_LIMIT_S = 10.0
"""Docker's default grace between SIGTERM and SIGKILL."""
BUILD_TOOLS = ("gcc", "cc", "c++", "g++", "make", "ld")


class SmokeFailure(Exception):
    """A check failed; the message says what was expected and what the container did."""


@dataclass
class Result:
    """What one engine command did."""

    code: int
    out: str
    err: str

    def shown(self) -> str:
        out, err = self.out[-3000:], self.err[-3000:]
        return f"exit {self.code}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"


@dataclass
class Smoke:
    """The image under test, the engine that runs it and the stand-in models' environment."""

    image: str
    engine: list[str]
    compose: list[str]
    models: Path
    name: str
    """Prefix of every container and volume the checks create, so cleanup finds them."""

    async def command(
        self, *args: str, stdin: str | None = None, timeout: float = RUN_TIMEOUT_S
    ) -> Result:
        """Run one engine command (engine + args) to completion."""
        return await run_command([*self.engine, *args], stdin=stdin, timeout=timeout)

    def model_options(self) -> list[str]:
        """Mount the stand-ins and point every MODEL_<KEY> at one; nothing reaches a hub."""
        options = ["-v", f"{self.models}:{STAND_INS}:ro", "-e", "HF_HUB_OFFLINE=1"]
        options += ["-e", "TORCH_THREADS=1"]
        for key in TASK_KEYS:
            options += ["-e", f"MODEL_{key.upper()}={STAND_INS}/{key}"]
        # A QA model that answers "Zaragoza", so the answer read back is a real one.
        return [*options, "-e", f"MODEL_QA={STAND_INS}/qa-zaragoza"]

    async def run(
        self, *args: str, stdin: str | None = None, options: Sequence[str] = ()
    ) -> Result:
        """`run --rm` the image offline with the stand-in models; stdin piped when given."""
        interactive = ["-i"] if stdin is not None else []
        run = ["run", "--rm", "--network", "none", *interactive, *self.model_options(), *options]
        run += [self.image, *args]
        return await self.command(*run, stdin=stdin)


async def run_command(
    argv: list[str], stdin: str | None = None, timeout: float = RUN_TIMEOUT_S
) -> Result:
    """Run argv, feeding stdin; raise SmokeFailure if it outlives `timeout`."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    data = stdin.encode() if stdin is not None else None
    try:
        out, err = await asyncio.wait_for(process.communicate(data), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SmokeFailure(f"{shlex.join(argv)} ran over {timeout:.0f} s") from None
    return Result(
        process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")
    )


def expect(condition: bool, what: str, result: Result | None = None) -> None:
    if not condition:
        raise SmokeFailure(what + (f"\n{result.shown()}" if result else ""))


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


async def check_help(smoke: Smoke) -> str:
    """`--help` answers at once, without torch."""
    result = await smoke.command("run", "--rm", smoke.image, "--help")
    expect(result.code == 0 and "usage: tertulia" in result.out, "--help failed", result)
    return "usage printed"


async def check_status(smoke: Smoke) -> str:
    """`status` lists the configured models without loading them."""
    result = await smoke.run("status")
    expect(result.code == 0, "status failed", result)
    expect(f"{STAND_INS}/qa-zaragoza" in result.out, "status does not show MODEL_QA", result)
    return result.out.strip().splitlines()[0]


async def check_contents(smoke: Smoke) -> str:
    """The image runs as a non-root user, with no compiler or make, and the intended torch."""
    script = (
        "import json, os, shutil, torch; print(json.dumps({'uid': os.getuid(), "
        f"'tools': [t for t in {BUILD_TOOLS!r} if shutil.which(t)], 'torch': torch.__version__}}))"
    )
    result = await smoke.command("run", "--rm", "--entrypoint", "python", smoke.image, "-c", script)
    expect(result.code == 0, "python in the image failed", result)
    found = json.loads(result.out.strip().splitlines()[-1])
    expect(found["uid"] != 0, "the image's user is root", result)
    expect(not found["tools"], f"build tools in the image: {found['tools']}", result)
    return f"uid {found['uid']}, no build tools, torch {found['torch']}"


async def check_console_and_volume(smoke: Smoke) -> str:
    """The piped console answers; a named volume carries the reading text to a second run."""
    volume = f"{smoke.name}-data"
    created = await smoke.command("volume", "create", volume)
    expect(created.code == 0, "volume create failed", created)
    try:
        return await _two_console_runs(smoke, ["-v", f"{volume}:/data"])
    except SmokeFailure as exc:
        # The console writes its log to DATA_DIR, so the reason is in the volume.
        log = await smoke.command(
            "run", "--rm", "-v", f"{volume}:/data", "--entrypoint", "tail", smoke.image,
            "-n", "60", "/data/tertulia.log",
        )  # fmt: skip
        raise SmokeFailure(f"{exc}\n--- /data/tertulia.log ---\n{log.out}{log.err}") from None


async def _two_console_runs(smoke: Smoke, options: list[str]) -> str:
    first = await smoke.run("console", stdin=f"/ayuda\n/contexto {READING_TEXT}\n", options=options)
    expect(first.code == 0, "the first console run failed", first)
    expect("Comandos" in first.out and "/pregunta" in first.out, "/ayuda was not answered", first)
    expect("Guardado como texto de lectura" in first.out, "/contexto was not stored", first)
    second = await smoke.run("console", stdin="/pregunta ¿Dónde nació Ana?\n", options=options)
    expect(second.code == 0, "the second console run failed", second)
    expect("Zaragoza" in second.out, "/pregunta did not answer from the stored text", second)
    return "/ayuda, /contexto; a second run answered /pregunta with «Zaragoza»"


async def check_polling_and_sigterm(smoke: Smoke) -> str:
    """The default command polls a Bot API, answers, runs as non-root, and stops on SIGTERM."""
    container = f"{smoke.name}-polling"
    async with BotApiServer() as server:
        started = await smoke.command(
            "run", "-d", "--name", container, "--network", "host", *smoke.model_options(),
            "-e", f"TELEGRAM_BOT_TOKEN={server.token}",
            "-e", f"TELEGRAM_BASE_URL={server.base_url}",
            "-e", f"TELEGRAM_BASE_FILE_URL={server.base_file_url}",
            smoke.image,
        )  # fmt: skip
        expect(started.code == 0, "the bot container did not start", started)
        try:
            return await _poll_then_stop(smoke, server, container)
        except (SmokeFailure, TimeoutError) as exc:
            logs = await smoke.command("logs", container)
            raise SmokeFailure(f"{exc}\n--- container log ---\n{logs.out}{logs.err}") from None


async def _poll_then_stop(smoke: Smoke, server: BotApiServer, container: str) -> str:
    chat = private_chat(ANA)
    server.user_sends(chat, ANA, "/ayuda")
    reply = (await server.wait_for_messages(chat.id, 1, timeout=RUN_TIMEOUT_S))[0]
    expect("/pregunta" in reply.get("text", ""), f"unexpected answer to /ayuda: {reply!r}")
    status = await smoke.command("exec", container, "cat", "/proc/1/status")
    uids = re.search(r"^Uid:\s+(.*)$", status.out, re.MULTILINE)
    expect(uids is not None, "could not read the process's user", status)
    assert uids is not None
    expect("0" not in uids.group(1).split(), f"the bot runs as root: Uid {uids.group(1)}")
    sent = time.monotonic()
    killed = await smoke.command("kill", "--signal", "TERM", container)
    expect(killed.code == 0, "could not send SIGTERM", killed)
    waited = await smoke.command("wait", container, timeout=STOP_LIMIT_S + 5)
    took = time.monotonic() - sent
    expect(waited.code == 0, "wait failed", waited)
    code = waited.out.strip()
    expect(took <= STOP_LIMIT_S, f"SIGTERM took {took:.1f} s to stop the bot")
    expect(code == "0", f"SIGTERM: exit code {code}, not 0")
    uid = uids.group(1).split()[0]
    return f"answered /ayuda over the Bot API; PID 1 is uid {uid}; SIGTERM: exit 0 in {took:.1f} s"


async def check_compose(smoke: Smoke) -> str:
    """compose.yaml's service runs the image (init, volumes, optional .env) and answers."""
    project = ["-p", smoke.name, "-f", str(REPO / "compose.yaml")]
    try:
        result = await run_command(
            [*smoke.compose, *project, "run", "--rm", "-T", "tertulia", "console"],
            stdin="/ayuda\n",
        )
        expect(result.code == 0 and "Comandos" in result.out, "compose run failed", result)
    finally:
        await run_command([*smoke.compose, *project, "down", "-v"])
    return "`run --rm tertulia console` answered /ayuda"


# --------------------------------------------------------------------------------------------
# Running them
# --------------------------------------------------------------------------------------------


async def cleanup(smoke: Smoke) -> None:
    await smoke.command("rm", "-f", f"{smoke.name}-polling")
    await smoke.command("volume", "rm", "-f", f"{smoke.name}-data")


async def run_checks(smoke: Smoke) -> int:
    checks: list[Callable[[Smoke], Awaitable[str]]] = [
        check_help,
        check_status,
        check_contents,
        check_console_and_volume,
        check_polling_and_sigterm,
    ]
    if smoke.compose:
        checks.append(check_compose)
    failed = 0
    try:
        for check in checks:
            started = time.monotonic()
            try:
                outcome = await check(smoke)
            except SmokeFailure as exc:
                failed += 1
                print(f"FAILED {check.__name__} ({time.monotonic() - started:.1f} s): {exc}")
            else:
                print(f"ok {check.__name__} ({time.monotonic() - started:.1f} s): {outcome}")
            sys.stdout.flush()
    finally:
        await cleanup(smoke)
    print(f"image smoke: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


def build_stand_ins(root: Path) -> Path:
    """Every task's stand-in model, and a QA model that answers "Zaragoza", readable by anyone."""
    build_all(root)
    build_controlled_qa(root / "qa-zaragoza", "Zaragoza")
    # The container's user is not the host's: let it read (mkdtemp makes the root 0700).
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--engine", default="podman", help="container engine command")
    parser.add_argument("--compose", default="", help="compose command; empty skips that check")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tertulia-stand-ins-") as folder:
        started = time.monotonic()
        models = build_stand_ins(Path(folder))
        print(f"stand-in models built in {time.monotonic() - started:.1f} s")
        smoke = Smoke(
            image=args.image,
            engine=shlex.split(args.engine),
            compose=shlex.split(args.compose),
            models=models,
            name=f"tertulia-smoke-{os.getpid()}",
        )
        return asyncio.run(run_checks(smoke))


if __name__ == "__main__":
    sys.exit(main())
