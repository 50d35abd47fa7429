"""Git over its dumb HTTP protocol on loopback, behind Basic authentication: a real Git server for
tests of credentials, with no daemon to install."""

from __future__ import annotations

import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def serve_dumb_http(bare: Path, authorization: str, first_delay: float = 0.0) -> tuple[Any, str]:
    """Serve a bare repository over Git's dumb HTTP protocol on loopback, wanting ``authorization``.

    The first request is answered after ``first_delay`` seconds, so a test can look at the
    processes that a fetch starts while they run. Returns ``(server, base URL)``; the caller
    shuts the server down."""

    subprocess.run(["git", "update-server-info"], cwd=bare, check=True)
    delayed = threading.Event()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(bare.parent), **kwargs)

        def do_GET(self) -> None:
            if not delayed.is_set():
                delayed.set()
                time.sleep(first_delay)
            if self.headers.get("Authorization") != authorization:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"
