"""``flask up``: everything on one machine, on the embedded defaults.

Migrates, seeds the demo, starts the embedded Redis once and hands its socket
to the web server, the RQ worker and the scheduler, then waits; Ctrl-C stops all.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

import migrations
from console.demo import seed_demo_staff
from groups.demo import seed_demo


@click.command("up")
@with_appcontext
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def up(port: int, host: str) -> None:
    """Migrate, seed the demo and run web, worker and scheduler together."""
    services = current_app.extensions["kassa"]
    cfg = services.config
    migrations.upgrade(cfg.DATABASE_URL)
    with services.db.transaction() as session:
        people = seed_demo(session)
        logins = seed_demo_staff(session)
    services.redis.ping()  # starts the embedded Redis when REDIS_URL is unset
    env = dict(os.environ, REDIS_URL=cfg.REDIS_URL, DATABASE_URL=cfg.DATABASE_URL,
               # the local console is plain http: its cookies cannot be https-only here
               CONSOLE_SECURE_COOKIES=os.environ.get("CONSOLE_SECURE_COOKIES", "0"))
    py = sys.executable
    procs = {
        "web": [py, "-m", "gunicorn", "-b", f"{host}:{port}", "-w", "2", "--access-logfile", "-", "app:create_app()"],
        "worker": [py, "worker.py", "work"],
        "scheduler": [py, "worker.py", "schedule"],
    }
    running = {name: subprocess.Popen(cmd, env=env) for name, cmd in procs.items()}
    _banner(host, port, cfg.USSD_SERVICE_CODE, people, logins)
    try:
        while all(p.poll() is None for p in running.values()):
            time.sleep(0.5)
        dead = [n for n, p in running.items() if p.poll() is not None]
        click.echo(f"stopped: {', '.join(dead)} exited", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for p in running.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in running.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def _banner(host: str, port: int, code: str, people, logins=()) -> None:
    base = f"http://{host}:{port}"
    click.echo(f"\nKassa is up at {base}  (health: {base}/health, ready: {base}/ready)")
    click.echo(f"Console: {base}/console/")
    for phone, password, role, name in logins:
        click.echo(f"  {role:<12} log in with {phone}  password {password}  ({name})")
    click.echo(f"USSD endpoint: POST {base}/ussd/africastalking  (service code {code})\n")
    click.echo("Demo phones to try:")
    for phone, name, group, role in people:
        click.echo(f"  {phone:<15} {name:<22} {role:<12} {group}")
    example = people[0][0] if people else "+254712000003"
    click.echo(f"\nTry:  curl -d phoneNumber={example.replace('+', '%2B')} -d sessionId=s1 "
               f"-d serviceCode='{code}' -d text= {base}/ussd/africastalking")
    click.echo(f"  or:  flask ussd {example} --url {base}\nCtrl-C stops everything.\n")
COMMANDS = [up]
