"""A local SMS provider speaking Africa's Talking's and Twilio's HTTP (tests and benchmarks).

- ``POST /version1/messaging`` (Africa's Talking, form ``username, to, message,
  bulkSMSMode, from, enqueue``): one answer per recipient of ``to``, in AT's
  JSON (``SMSMessageData.Recipients[].statusCode/number/messageId``).
- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (Twilio, form ``To, From,
  Body``): ``201`` with the message resource's ``sid``.
- ``GET /health``: ``ok`` (warm-up waits for it).
- ``GET /stats``: JSON counts (requests, messages, connections); ``POST /reset``.
- ``GET /arrivals``: ``[[unix time, number], ...]`` of every message answered
  "sent" since the last reset (the end-to-end benchmark's clock).

Faults, for tests: ``fail_times[number] = n`` answers that recipient with a
transient error (AT statusCode 500, Twilio 429/20429) its first ``n`` times;
``hold_after = k`` answers ``k`` messages, then holds every request unanswered
until ``release()`` (a provider that never answered is taken as never having
sent). Only answered messages are counted in ``delivered``.

Run it in a thread (``StubServer(port).start()``) or as a process
(``python -m bench.provider_stub --port 5501``).
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import threading
import time
from collections import Counter

from aiohttp import web

AT_PATH = "/version1/messaging"
TWILIO_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


class StubServer:
    def __init__(self, port: int, host: str = "127.0.0.1", delay: float = 0.0) -> None:
        self.host, self.port, self.delay = host, port, delay
        self.lock = threading.Lock()
        self.delivered: Counter[tuple[str, str]] = Counter()  # (number, text) -> times answered "sent"
        self.arrivals: list[tuple[float, str]] = []  # (time.time(), number) per message answered "sent"
        self.requests = 0
        self.messages = 0
        self.peers: set[tuple[str, int]] = set()
        self.fail_times: dict[str, int] = {}
        self.hold_after: int | None = None
        self.held = 0
        self._held_one = threading.Event()  # set when a request is first held
        self._holding: list[web.Request] = []
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._released: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- the app ------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(AT_PATH, self.africastalking)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.twilio)
        app.router.add_get("/health", self.health)
        app.router.add_get("/stats", self.stats)
        app.router.add_post("/reset", self.reset_view)
        app.router.add_get("/arrivals", self.arrivals_view)
        return app

    async def _admit(self, request: web.Request, count: int) -> None:
        if request.transport is not None:
            self.peers.add(request.transport.get_extra_info("peername")[:2])
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold_after is not None and self.messages + count > self.hold_after:
            with self.lock:
                self.held += 1
                self._holding.append(request)
                self._held_one.set()
            assert self._released is not None  # set by _run before the server starts
            await self._released.wait()
            if request.transport is None or request.transport.is_closing():  # the sender died waiting
                raise web.HTTPServiceUnavailable()

    def _fails(self, number: str) -> bool:
        with self.lock:
            left = self.fail_times.get(number, 0)
            if left:
                self.fail_times[number] = left - 1
            return bool(left)

    def _deliver(self, number: str, text: str) -> str:
        with self.lock:
            self.delivered[(number, text)] += 1
            self.arrivals.append((time.time(), number))
            self.messages += 1
            return f"{next(self._ids)}"

    async def africastalking(self, request: web.Request) -> web.Response:
        form = await request.post()
        numbers = [n for n in str(form.get("to", "")).split(",") if n]
        await self._admit(request, len(numbers))
        text = str(form.get("message", ""))
        recipients = []
        for n in numbers:
            if self._fails(n):
                recipients.append({"statusCode": 500, "number": n, "status": "InternalServerError",
                                   "cost": "0", "messageId": "None"})
            else:
                recipients.append({"statusCode": 101, "number": n, "status": "Success", "cost": "KES 0.8000",
                                   "messageId": f"ATXid_{self._deliver(n, text)}"})
        body = {"SMSMessageData": {"Message": f"Sent to {len(numbers)}/{len(numbers)}", "Recipients": recipients}}
        return web.Response(text=json.dumps(body), content_type="application/json")

    async def twilio(self, request: web.Request) -> web.Response:
        form = await request.post()
        await self._admit(request, 1)
        number = str(form.get("To", ""))
        if self._fails(number):
            return web.json_response({"code": 20429, "message": "Too Many Requests", "status": 429}, status=429)
        sid = f"SM{self._deliver(number, str(form.get('Body', ''))):0>32}"
        return web.json_response({"sid": sid, "status": "queued", "to": number, "body": form.get("Body")},
                                 status=201)

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.requests, "messages": self.messages,
                                  "connections": len(self.peers), "held": self.held})

    async def arrivals_view(self, request: web.Request) -> web.Response:
        with self.lock:
            return web.json_response(self.arrivals)

    async def reset_view(self, request: web.Request) -> web.Response:
        self.reset()
        return web.Response(text="ok")

    def reset(self) -> None:
        with self.lock:
            self.delivered.clear()
            self.arrivals.clear()
            self.requests = self.messages = self.held = 0
            self._held_one.clear()
            self.peers.clear()

    # -- in a thread ----------------------------------------------------------------------------
    def start(self) -> StubServer:
        self._thread = threading.Thread(target=self._run, name="provider-stub", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the provider stub did not start")
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._released = asyncio.Event()
        self._runner = web.AppRunner(self.app(), access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, self.host, self.port).start())
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:  # an unclosed loop leaks its self-pipe sockets (ResourceWarning in a later test)
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def wait_held(self, timeout: float) -> bool:
        """Whether a request is held, waiting up to ``timeout`` seconds for the first one."""
        return self._held_one.wait(timeout)

    def held_alive(self) -> int:
        """Held requests whose sender is still connected (a killed sender's connection closes)."""
        with self.lock:
            return sum(1 for r in self._holding if r.transport is not None and not r.transport.is_closing())

    def release(self) -> None:
        """Answer the held requests and every one after them."""
        self.hold_after = None
        if self._loop is not None and self._released is not None:
            self._loop.call_soon_threadsafe(self._released.set)

    def stop(self) -> None:
        if self._loop is None:
            return
        self.release()
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5501)
    args = parser.parse_args()
    stub = StubServer(args.port)

    async def serve() -> None:
        stub._released = asyncio.Event()
        runner = web.AppRunner(stub.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
