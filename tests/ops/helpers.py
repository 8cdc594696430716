"""Starting the project's own processes from tests."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(**overrides: str | None) -> dict[str, str]:
    """This process's environment with some variables replaced (None removes one)."""
    result = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result
