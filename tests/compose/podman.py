"""The harness's hands: podman and podman-compose, the local stand-in images, the stack's own
PostgreSQL through psql, and an HTTP client that arrives as the TLS proxy would forward it.

podman 4.3 (Debian 12) runs no health checks on its own (they need systemd timers) and ignores
depends_on conditions, so `Stack.up` starts the services in the order docker-compose.yml's
conditions give and runs each container's own health check until it passes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STANDINS = HERE / "standins"
PROJECT = "tnharness"
BASE_IMAGE = "localhost/trialsnest-harness/debian:trixie"
APP_IMAGE = "localhost/trialsnest:harness"
# Stand-ins, tagged with the public names docker-compose.yml and the Dockerfile use.
IMAGES = {
    "python": "docker.io/library/python:3.12-slim-bookworm",
    "postgres": "docker.io/library/postgres:16",
    "redis": "docker.io/library/redis:7",
    "mailpit": "docker.io/axllent/mailpit:latest",
}
WEB_PORT = 18000
PG_PORT = 15432
MAIL_API = 8025
PUBLIC_HOST = "localhost"  # in ALLOWED_HOSTS and CSRF_TRUSTED_ORIGINS (https://localhost)
HOST_CA = Path("/usr/local/share/ca-certificates")


def run(*args: str, check: bool = True, **kw: Any) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, **kw)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return str(done.stdout)


def podman(*args: str, check: bool = True) -> str:
    return run("podman", *args, check=check)


def wait_until(check: Callable[[], Any], seconds: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


# Images ----------------------------------------------------------------------------------------


def _label(image: str) -> str | None:
    out = podman("image", "inspect", "--format", "{{json .Labels}}", image, check=False).strip()
    if not out or out == "null":
        return None
    labels = json.loads(out) or {}
    return labels.get("trialsnest.harness")


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.name.encode() + path.read_bytes())
    return sha.hexdigest()[:16]


def debian_mirror() -> str:
    """The Debian mirror apt already uses here (the only registry this machine reaches)."""
    sources = [*Path("/etc/apt/sources.list.d").glob("*.sources"), Path("/etc/apt/sources.list")]
    for source in sources:
        if source.exists():
            found = re.search(r"(?:URIs:|deb)\s+(https?://\S+/debian)\b", source.read_text())
            if found:
                return found.group(1)
    return "http://deb.debian.org/debian"


def base_image() -> str:
    """Debian trixie made with debootstrap and imported: the root of every stand-in."""
    if _exists(BASE_IMAGE):
        return "kept"
    rootfs = Path(tempfile.mkdtemp(prefix="tn-rootfs-"))
    try:
        run("debootstrap", "--variant=minbase", "trixie", str(rootfs), debian_mirror())
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["podman", "import", "-", BASE_IMAGE], stdin=tar.stdout, check=True, capture_output=True
        )
        tar.wait()
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return "built"


def _exists(image: str) -> bool:
    return subprocess.run(["podman", "image", "exists", image], check=False).returncode == 0


def standin(name: str) -> str:
    """Build one stand-in unless an image from the same files is already there."""
    containerfile = STANDINS / f"{name}.Containerfile"
    extras = sorted(p for p in STANDINS.iterdir() if p.suffix in (".sh", ".py"))
    digest = _digest(containerfile, *extras)
    if _label(IMAGES[name]) == digest:
        return "kept"
    context = Path(tempfile.mkdtemp(prefix=f"tn-{name}-"))
    try:
        for path in extras:
            shutil.copy2(path, context / path.name)
        (context / "certs").mkdir()
        if name == "python":
            # pip inside builds reaches PyPI through this machine's egress, which needs its CA.
            for cert in HOST_CA.glob("*.crt") if HOST_CA.exists() else []:
                shutil.copy2(cert, context / "certs" / cert.name)
        run(
            "podman",
            "build",
            "--network",
            "host",
            "--pull=never",
            "-q",
            "--label",
            f"trialsnest.harness={digest}",
            "-f",
            str(containerfile),
            "-t",
            IMAGES[name],
            str(context),
        )
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return "built"


def app_image() -> tuple[float, str]:
    """The project's image from the real Dockerfile (docker format keeps its HEALTHCHECK)."""
    started = time.monotonic()
    run(
        "podman",
        "build",
        "--network",
        "host",
        "--pull=never",
        "--format",
        "docker",
        "-t",
        APP_IMAGE,
        "-f",
        str(ROOT / "Dockerfile"),
        str(ROOT),
    )
    size = podman("image", "inspect", "--format", "{{.Size}}", APP_IMAGE).strip()
    return time.monotonic() - started, f"{int(size) / 1e6:.0f} MB"


# The stack ------------------------------------------------------------------------------------


class Stack:
    """docker-compose.yml with the harness's override, as project PROJECT."""

    def __init__(self) -> None:
        self.env = {
            **os.environ,
            "SECRET_KEY": "harness-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "POSTGRES_PASSWORD": "harness-" + uuid.uuid4().hex[:12],
        }
        self.compose_command = [
            str(ROOT / ".venv" / "bin" / "podman-compose"),
            "--project-name",
            PROJECT,
            "-f",
            str(ROOT / "docker-compose.yml"),
            "-f",
            str(HERE / "override.yml"),
        ]

    def compose(self, *args: str) -> str:
        return run(*self.compose_command, *args, env=self.env, cwd=ROOT)

    def container(self, service: str, index: int = 1) -> str:
        return f"{PROJECT}_{service}_{index}"

    def healthy(self, container: str) -> bool:
        """The container's own health check (podman here runs none by itself)."""
        return (
            subprocess.run(
                ["podman", "healthcheck", "run", container], check=False, capture_output=True
            ).returncode
            == 0
        )

    def up(self) -> None:
        """In docker-compose.yml's order: postgres and redis healthy, migrate completed, then
        web, worker and beat, until web's and the worker's checks pass."""
        self.compose("up", "-d", "--no-build", "--no-deps", "postgres", "redis", "mail")
        for service in ("postgres", "redis"):
            container = self.container(service)
            wait_until(partial(self.healthy, container), 90, f"{service} healthy")
        self.compose("up", "-d", "--no-build", "--no-deps", "migrate")
        code = podman("wait", self.container("migrate")).strip()
        if code != "0":
            logs = podman("logs", self.container("migrate"), check=False)
            raise AssertionError(f"migrate exited {code}:\n{logs[-3000:]}")
        self.compose("up", "-d", "--no-build", "--no-deps", "web", "worker", "beat")
        for service in ("web", "worker"):
            container = self.container(service)
            wait_until(partial(self.healthy, container), 120, f"{service} healthy")

    def down(self, volumes: bool = False) -> None:
        self.compose("down", *(["--volumes"] if volumes else []))
        # `down` removes the containers of each service's declared scale: a worker added by
        # `--scale` would outlive it and join the next stack.
        label = f"label=com.docker.compose.project={PROJECT}"
        left = podman("ps", "-a", "-q", "--filter", label).split()
        if left:
            podman("rm", "-f", *left)
        kept = podman("volume", "ls", "-q", "--filter", label).split() if volumes else []
        if kept:
            podman("volume", "rm", "-f", *kept)

    def exec(self, service: str, *command: str) -> str:
        return podman("exec", self.container(service), *command)

    def psql(self, sql: str) -> list[list[str]]:
        """Rows from the stack's own PostgreSQL, read from the host (psql, tab-separated)."""
        out = run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(PG_PORT),
            "-U",
            "trialsnest",
            "-d",
            "trialsnest",
            "-At",
            "-F",
            "\t",
            "-c",
            sql,
            env={**os.environ, "PGPASSWORD": self.env["POSTGRES_PASSWORD"]},
        )
        return [line.split("\t") for line in out.splitlines() if line]

    def value(self, sql: str) -> str:
        rows = self.psql(sql)
        return rows[0][0] if rows else ""

    def mail(self) -> list[dict[str, Any]]:
        connection = HTTPConnection("127.0.0.1", MAIL_API, timeout=10)
        connection.request("GET", "/api/v1/messages")
        messages: list[dict[str, Any]] = json.loads(connection.getresponse().read())["messages"]
        return messages


# HTTP, as forwarded by a TLS proxy ------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: str) -> None:
        self.status, self.headers, self.body = status, headers, body


class ProxiedClient:
    """Speaks to gunicorn on 127.0.0.1 as a TLS-terminating proxy forwards a browser: the public
    host, X-Forwarded-Proto: https and X-Forwarded-For; keeps cookies (Secure ones included,
    since the browser saw https) and never follows redirects."""

    def __init__(self, client_ip: str = "203.0.113.10") -> None:
        self.cookies: dict[str, str] = {}
        self.client_ip = client_ip
        self.set_cookie_headers: list[str] = []

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        connection = HTTPConnection("127.0.0.1", WEB_PORT, timeout=60)
        sent = {
            "Host": PUBLIC_HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client_ip,
            "Referer": f"https://{PUBLIC_HOST}{path}",
            "Origin": f"https://{PUBLIC_HOST}",
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                self.set_cookie_headers.append(value)
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        got = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, got, response.read().decode("utf-8", "replace"))

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def token(self, path: str) -> str:
        page = self.get(path)
        assert page.status == 200, (path, page.status, page.body[:300])
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def post_form(self, path: str, data: dict[str, Any], page: str | None = None) -> Answer:
        token = self.token(page or path)
        body = urlencode({**data, "csrfmiddlewaretoken": token}, doseq=True).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_file(self, path: str, fields: dict[str, str], name: str, content: bytes) -> Answer:
        token = self.token(path)
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
            for key, value in {**fields, "csrfmiddlewaretoken": token}.items()
        ]
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
        )
        tail = f"\r\n--{boundary}--\r\n"
        body = "".join(parts).encode() + head.encode() + content + tail.encode()
        return self.request(
            "POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )

    def sign_in(self, email: str, password: str) -> Answer:
        return self.post_form("/accounts/login/", {"username": email, "password": password})
