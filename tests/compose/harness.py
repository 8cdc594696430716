"""`make compose-test`: the production stack run for real.

Builds local stand-ins for the public images docker-compose.yml names (from Debian's packages;
this machine reaches no image registry), builds the project's image from the real Dockerfile,
brings up the real docker-compose.yml with only tests/compose/override.yml on top, and checks,
against the live stack: the image, migrations, /healthz, signing in through the proxy settings,
a public interest form becoming a lead through the worker, a 1,000-row CSV import, the worker
killed mid-import and restarted by compose, two workers on one backlog, and the data kept across
`down` and `up`. Each check prints what it saw; the first failure stops the run (exit 1).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from tests.compose.podman import (
    APP_IMAGE,
    HERE,
    IMAGES,
    PUBLIC_HOST,
    ProxiedClient,
    Stack,
    app_image,
    base_image,
    podman,
    standin,
    wait_until,
)

PASSWORD = "trialsnest-demo"  # seed_demo's documented demo password
COORDINATOR = "coordinator@lakeside.example"
SITE_LEAD = "lead@lakeside.example"
IMPORT_ROWS = 1000
BACKLOG = 60


def step(name: str, action: Callable[[], str]) -> None:
    started = time.monotonic()
    print(f"… {name}", flush=True)
    seen = action()
    print(f"✓ {name} ({time.monotonic() - started:.1f} s): {seen}", flush=True)


class Checks:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.study_site = ""

    # The image --------------------------------------------------------------------------------

    def image(self) -> str:
        user = podman("image", "inspect", "--format", "{{.Config.User}}", APP_IMAGE).strip()
        assert user == "trialsnest", f"the image runs as {user!r}"
        health = podman("image", "inspect", "--format", "{{json .Config.Healthcheck}}", APP_IMAGE)
        assert "trialsnest.ops.probe" in health, f"no HEALTHCHECK: {health}"
        probe = (
            "import importlib.util as u, sys, pathlib; "
            "dev = ('pgserver', 'pytest', 'ruff', 'mypy', 'playwright'); "
            "bad = [m for m in dev if u.find_spec(m)]; "
            "static = pathlib.Path('/app/.data/staticfiles/staticfiles.json').exists(); "
            "print(bad, static); sys.exit(1 if bad or not static else 0)"
        )
        out = podman("run", "--rm", "--network", "host", APP_IMAGE, "python", "-c", probe).strip()
        assert out == "[] True", out
        return "runs as trialsnest, HEALTHCHECK set, no dev tools or pgserver, static collected"

    # The live stack ---------------------------------------------------------------------------

    def migrations(self) -> str:
        code = podman("inspect", "--format", "{{.State.ExitCode}}", self.stack.container("migrate"))
        assert code.strip() == "0"
        self.stack.exec("web", "python", "manage.py", "migrate", "--check")
        applied = self.stack.value("SELECT count(*) FROM django_migrations")
        return f"migrate exited 0; {applied} migrations applied, none pending"

    def healthz(self) -> str:
        client = ProxiedClient()

        def all_ok() -> Any:
            answer = client.get("/healthz")
            body = _json(answer.body)
            return (
                body
                if answer.status == 200
                and body.get("status") == "ok"
                and all(check["status"] == "ok" for check in body["checks"].values())
                else None
            )

        body = wait_until(all_ok, 150, "/healthz to report every dependency ok (beat's heartbeat)")
        checks = body["checks"]
        return ", ".join(f"{name} {check['status']}" for name, check in checks.items()) + (
            f" (beat {checks['beat']['age_seconds']} s ago, outbox {checks['outbox']['waiting']})"
        )

    def seed(self) -> str:
        out = self.stack.exec("web", "python", "manage.py", "seed_demo")
        self.study_site = self.stack.value(
            "SELECT ss.code FROM studies_studysite ss JOIN tenancy_site s ON s.id = ss.site_id "
            "WHERE s.name = 'Lakeside Denver' ORDER BY ss.id LIMIT 1"
        )
        assert self.study_site, "seed_demo made no Denver study site"
        return out.strip().splitlines()[0]

    def first_organization(self) -> str:
        admin = "first.admin@harness.example"
        out = self.stack.exec(
            "web", "python", "manage.py", "create_organization", "Harness Research", admin
        )
        mail = wait_until(
            lambda: [m for m in self.stack.mail() if m["To"] == [{"Address": admin}]],
            60,
            "the first admin's invitation (web → outbox → worker → SMTP)",
        )
        assert f"https://{PUBLIC_HOST}/" in mail[0]["Snippet"], mail[0]["Snippet"]
        return f"{out.strip()} The invitation arrived with an https link."

    def sign_in(self) -> str:
        plain = ProxiedClient()
        redirected = plain.request("GET", "/queue/", headers={"X-Forwarded-Proto": "http"})
        assert redirected.status == 301, redirected.status
        assert redirected.headers["location"].startswith("https://"), redirected.headers
        client = ProxiedClient()
        answer = client.sign_in(COORDINATOR, PASSWORD)
        assert answer.status == 302, (answer.status, answer.body[:500])
        session = [h for h in client.set_cookie_headers if h.startswith("sessionid=")]
        assert session, client.set_cookie_headers
        assert "Secure" in session[-1], session
        assert "HttpOnly" in session[-1], session
        queue = client.get("/queue/")
        assert queue.status == 200, queue.status
        assert "Casey" in queue.body, queue.body[:300]
        assert "no-store" in queue.headers.get("cache-control", "")
        before = len(self.stack.mail())
        reset = ProxiedClient().post_form("/accounts/password_reset/", {"email": COORDINATOR})
        assert reset.status == 302, reset.status

        def new_mail() -> list[dict[str, Any]]:
            messages = self.stack.mail()
            return messages[: len(messages) - before]  # newest first

        mail = wait_until(new_mail, 30, "the password-reset e-mail in the mail catcher")
        assert mail[0]["To"] == [{"Address": COORDINATOR}], mail[0]
        assert f"https://{PUBLIC_HOST}/accounts/reset/" in mail[0]["Snippet"], mail[0]["Snippet"]
        return (
            "http → 301 to https; signed in over X-Forwarded-Proto (Secure, HttpOnly "
            "session), queue 200 no-store; password-reset mail over SMTP with an https link"
        )

    def interest_form(self) -> str:
        answer = self._submit(0, "Compose")
        assert answer.status == 302, (answer.status, answer.body[:500])
        assert answer.headers["location"].endswith("/thanks/"), answer.headers
        lead = wait_until(
            lambda: self.stack.value(
                "SELECT l.id FROM leads_lead l JOIN leads_person p ON p.id = l.person_id "
                "WHERE p.last_name = 'Compose'"
            ),
            60,
            "the submission to become a lead through the worker",
        )
        processed = self.stack.value(
            f"SELECT count(*) FROM leads_submission WHERE lead_id = {int(lead)} "
            "AND processed_at IS NOT NULL"
        )
        assert processed == "1", processed
        return f"302 to thanks; the worker made submission into lead {lead}, processed once"

    def _submit(self, number: int, last_name: str) -> Any:
        # Each visitor from a public address of their own (the per-address limit holds).
        visitor = ProxiedClient(client_ip=f"81.2.{number // 200}.{number % 200 + 10}")
        page = f"/studies/sites/{self.study_site}/"
        return visitor.post_form(
            page,
            {
                "site": self.study_site,
                "first_name": f"Visitor{number}",
                "last_name": last_name,
                "phone": f"(312) 263-{1000 + number:04d}",
                "email": f"v{number}.{last_name}@example.org",
                "preferred_time": "morning",
                "postal_code": "60601",
                "consent": ["phone", "email"],
                "material": "",
                "website": "",
            },
        )

    def csv_import(self, campaign: str, exchange: int, kill_worker: bool = False) -> str:
        lead = ProxiedClient()
        assert lead.sign_in(SITE_LEAD, PASSWORD).status == 302
        site_id = self.stack.value(
            f"SELECT id FROM studies_studysite WHERE code = '{self.study_site}'"
        )
        upload = lead.post_file(
            "/imports/new/",
            {"study_site": site_id, "source": "vendor_list", "campaign": campaign},
            f"{campaign}.csv",
            _csv(campaign, exchange),
        )
        assert upload.status == 302, (upload.status, upload.body[:800])
        code = upload.headers["location"].rstrip("/").split("/")[-1]
        where = f"FROM leads_csvimport WHERE code = '{code}'"
        wait_until(
            lambda: self.stack.value(f"SELECT state {where}") == "analyzed",
            120,
            "the worker to check the rows",
        )
        started = lead.post_form(
            f"/imports/{code}/start/", {"attested": "on"}, page=f"/imports/{code}/"
        )
        assert started.status == 302, started.status
        seen = ""
        if kill_worker:
            seen = self._kill_worker_while(where)
        wait_until(
            lambda: self.stack.value(f"SELECT state {where}") == "done", 240, "the import to finish"
        )
        total, created, attached, suspected, skipped, rejected, attempts = self.stack.psql(
            "SELECT total_rows, created, attached, suspected, skipped, rejected, attempts " + where
        )[0]
        buckets = sum(int(n) for n in (created, attached, suspected, skipped, rejected))
        assert int(total) == IMPORT_ROWS == buckets, (total, buckets)
        rows = self.stack.psql(
            "SELECT count(*), count(DISTINCT line) FROM leads_csvimportrow r JOIN leads_csvimport i"
            f" ON i.id = r.csv_import_id WHERE i.code = '{code}'"
        )[0]
        assert rows == [str(IMPORT_ROWS)] * 2, rows
        people = self.stack.psql(
            "SELECT count(*), count(DISTINCT p.email) FROM leads_person p "
            f"WHERE p.email LIKE '%@{campaign}.example'"
        )[0]
        written = int(created) + int(suspected)
        assert people == [str(written)] * 2, (people, written)
        if kill_worker:
            assert int(attempts) >= 2, f"the import finished on its first claim ({attempts})"
        return (
            f"{total} rows: {created} new, {attached} attached, {suspected} suspected, "
            f"{skipped} skipped, {rejected} rejected; {people[0]} people, none twice; "
            f"{attempts} claims{seen}"
        )

    def _kill_worker_while(self, where: str) -> str:
        container = self.stack.container("worker")
        wait_until(
            lambda: int(self.stack.value(f"SELECT written_through {where}") or 0) > 0,
            120,
            "the first chunk to be written",
            every=0.05,
        )
        written = self.stack.value(f"SELECT written_through {where}")
        assert int(written) < IMPORT_ROWS, "the import was over before the worker was killed"
        restarts = _restarts(container)
        pid = int(podman("inspect", "--format", "{{.State.Pid}}", container).strip())
        os.kill(pid, signal.SIGKILL)
        wait_until(
            lambda: _restarts(container) > restarts and _running(container),
            60,
            "compose's restart policy to start the worker again",
        )
        return f"; worker SIGKILLed at line {written}, restarted by its restart policy"

    def scale(self) -> str:
        self.stack.compose("stop", "worker")
        for number in range(BACKLOG):
            answer = self._submit(100 + number, "Backlog")
            assert answer.status == 302, answer.status
        waiting = self.stack.value(
            "SELECT count(*) FROM leads_submission WHERE processed_at IS NULL"
        )
        assert int(waiting) == BACKLOG, waiting
        self.stack.compose("up", "-d", "--no-build", "--no-deps", "--scale", "worker=2", "worker")
        wait_until(lambda: _running(self.stack.container("worker", 2)), 60, "a second worker")
        wait_until(
            lambda: (
                self.stack.value("SELECT count(*) FROM leads_submission WHERE processed_at IS NULL")
                == "0"
            ),
            120,
            "both workers to drain the backlog",
        )
        leads, people = self.stack.psql(
            "SELECT count(*), count(DISTINCT l.person_id) FROM leads_lead l "
            "JOIN leads_person p ON p.id = l.person_id WHERE p.last_name = 'Backlog'"
        )[0]
        assert leads == people == str(BACKLOG), (leads, people)
        # Both containers took part: Celery's own count of the tasks each node ran since it
        # (re)started for this step.
        stats = json.loads(
            self.stack.exec("worker", "celery", "-A", "trialsnest", "inspect", "stats", "--json")
        )
        per_node = {
            node: data.get("total", {}).get("leads.tasks.process_submission", 0)
            for node, data in stats.items()
        }
        assert len(per_node) == 2, per_node
        assert all(per_node.values()), f"a worker took no part: {per_node}"
        return (
            f"{BACKLOG} forms waited with no worker; two workers ({sorted(per_node.values())} "
            f"tasks) made {leads} leads for {people} people, none twice"
        )

    def persistence(self) -> str:
        count = "SELECT count(*) FROM leads_lead"
        before = self.stack.value(count)
        self.stack.down()
        self.stack.up()
        after = self.stack.value(count)
        assert before == after, (before, after)
        client = ProxiedClient()
        assert client.sign_in(COORDINATOR, PASSWORD).status == 302
        return f"down, then up: {after} leads before and after; sign-in still works"


def _json(text: str) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = json.loads(text)
    except ValueError:
        return {}
    return parsed


def _csv(campaign: str, exchange: int) -> bytes:
    lines = ["First name;Last name;Phone;E-mail;DOB;Notes"]
    for i in range(IMPORT_ROWS):
        lines.append(
            f"Row{i};{campaign.title()};(970) {exchange}-{i:04d};"
            f"row{i}@{campaign}.example;1970-01-02;imported"
        )
    return ("\n".join(lines) + "\n").encode()


def _restarts(container: str) -> int:
    return int(podman("inspect", "--format", "{{.RestartCount}}", container).strip() or 0)


def _running(container: str) -> bool:
    return podman("inspect", "--format", "{{.State.Status}}", container, check=False).strip() == (
        "running"
    )


def _up(stack: Stack) -> str:
    stack.up()
    return "every service started, in the order of depends_on"


def main() -> int:
    os.environ.setdefault("CONTAINERS_CONF", str(HERE / "containers.conf"))
    started = time.monotonic()
    stack = Stack()
    checks = Checks(stack)
    try:
        step("base image (debootstrap trixie)", base_image)
        for name in IMAGES:
            step(f"stand-in for {IMAGES[name]}", partial(standin, name))
        step("the project's image from the Dockerfile", lambda: "{:.0f} s, {}".format(*app_image()))
        step("the image", checks.image)
        stack.down(volumes=True)
        step("docker compose up", partial(_up, stack))
        step("migrations", checks.migrations)
        step("/healthz", checks.healthz)
        step("demo data", checks.seed)
        step("the first organization and its admin", checks.first_organization)
        step("sign-in through the proxy settings", checks.sign_in)
        step("interest form → lead through the worker", checks.interest_form)
        step("CSV import of 1,000 rows", lambda: checks.csv_import("vendorone", 201))
        step("worker killed mid-import", lambda: checks.csv_import("vendortwo", 202, True))
        step("two workers, one backlog", checks.scale)
        step("down and up keeps the data", checks.persistence)
    except (AssertionError, RuntimeError) as failure:
        print(f"✗ {failure}", file=sys.stderr)
        for service in ("web", "worker", "beat"):
            logs = podman("logs", "--tail", "40", stack.container(service), check=False)
            print(f"--- {service} ---\n{logs}", file=sys.stderr)
        return 1
    finally:
        if os.environ.get("COMPOSE_TEST_KEEP") != "1":
            stack.down(volumes=True)
    print(f"compose-test passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
