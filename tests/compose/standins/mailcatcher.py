"""The harness's stand-in for mailpit: keeps every message it is sent in memory and lists them
as mailpit's API does (GET /api/v1/messages: total and, per message, ID, From, To, Subject,
Attachments and the start of its text as Snippet).
SMTP on MP_SMTP_PORT (1025), HTTP on MP_UI_PORT (8025), on every address as mailpit's are."""

import email
import email.policy
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

MESSAGES = []
LOCK = threading.Lock()


class Keep:
    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        attachments = [
            part.get_filename() or part.get_content_type() for part in parsed.iter_attachments()
        ]
        text = parsed.get_body(preferencelist=("plain", "html"))
        with LOCK:
            MESSAGES.append(
                {
                    "ID": str(len(MESSAGES) + 1),
                    "From": {"Address": envelope.mail_from},
                    "To": [{"Address": address} for address in envelope.rcpt_tos],
                    "Subject": str(parsed["Subject"] or ""),
                    "Attachments": len(attachments),
                    "AttachmentNames": attachments,
                    "Snippet": text.get_content()[:500] if text is not None else "",
                }
            )
        return "250 Message accepted"


class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] != "/api/v1/messages":
            self.send_error(404)
            return
        with LOCK:
            body = json.dumps({"total": len(MESSAGES), "messages": MESSAGES[::-1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    every = "0.0.0.0"  # noqa: S104 (a container's service)
    smtp = Controller(Keep(), hostname=every, port=int(os.environ.get("MP_SMTP_PORT", 1025)))
    smtp.start()
    ThreadingHTTPServer((every, int(os.environ.get("MP_UI_PORT", 8025))), Api).serve_forever()
