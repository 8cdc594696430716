"""Keep patient data out of the logs.

Query strings (searches by phone, e-mail or name) are cut from every message, and the request
object Django attaches to its own log records is dropped so no handler can print its body.
"""

from __future__ import annotations

import logging
import re

_QUERY_STRING = re.compile(r"\?[^\s\"']*")


class RedactPatientData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _QUERY_STRING.sub("?[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if hasattr(record, "request"):
            record.request = None
        return True
