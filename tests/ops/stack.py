"""The product's real processes for fault tests: a Redis of the test's own, gunicorn, a worker
with beat, and a cookie-keeping HTTP client that signs in like a browser."""

from __future__ import annotations

import http.cookiejar
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ops.helpers import BASE_DIR, PYTHON, env, free_port
from trialsnest.bench.over_http import database_url, gunicorn


def wait_until(check: Callable[[], Any], seconds: float = 60, what: str = "it") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"waited {seconds} s for {what}")


class RedisServer:
    """A redis-server on a free port, started and stopped by the test (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for this test"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._answers, 10, "redis-server")

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Stack:
    """gunicorn on `port` and, once `start_worker` is called, a worker with beat."""

    redis: RedisServer
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tn-stack-")))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def extra(self) -> dict[str, str]:
        return {
            "REDIS_URL": self.redis.url,
            "INTEREST_RATE_LIMIT": "1000/hour",
        }

    def start_web(self) -> None:
        self.processes.append(gunicorn(self.port, **self.extra()))
        wait_until(lambda: _status(f"{self.base}/healthz") in (200, 503), 60, "gunicorn")

    def start_worker(self) -> None:
        variables = env(
            DJANGO_SETTINGS_MODULE="trialsnest.settings",
            DEBUG="false",
            SECRET_KEY="stack-only-" + "k" * 50,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            EMAIL_URL="console://",
            DATABASE_URL=database_url(),
            LOG_LEVEL="WARNING",
            **self.extra(),
        )
        schedule = str(self.folder / "beat-schedule")
        command = [PYTHON, "-m", "celery", "-A", "trialsnest", "worker", "-Q", "celery,inbound",
                   "--beat", "--pool=solo", "--loglevel=WARNING",
                   "--schedule", schedule]  # fmt: skip
        self.processes.append(subprocess.Popen(command, cwd=BASE_DIR, env=variables))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http://127.0.0.1)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Answer:
    status: int
    body: str
    headers: Any


class Browser:
    """Cookies, CSRF tokens and no redirect following: each answer is seen as it was sent."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310
        request.add_header("Referer", self.base + path)
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, response.read().decode(), response.headers)
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(), error.headers)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post_form(self, path: str, data: dict[str, Any]) -> Answer:
        """GET the page for its CSRF token, then POST the form to it."""
        page = self.get(path)
        assert page.status == 200, (path, page.status)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, f"no CSRF token on {path}"
        return self.request("POST", path, {**data, "csrfmiddlewaretoken": token.group(1)})

    def sign_in(self, email: str, password: str) -> Answer:
        return self.post_form("/accounts/login/", {"username": email, "password": password})
