"""A Bearer token service for a real docker-registry on loopback, as Docker Hub, GHCR and Harbor
run one: the registry answers 401 with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``,
the client asks the realm for a token with its Basic credentials, and the registry verifies the
token (RS256, signed by a certificate in its ``rootcertbundle``, carried in the ``x5c`` header) and
the access it grants. Keys and signatures come from the ``openssl`` command."""

from __future__ import annotations

import base64
import http.server
import json
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

SERVICE, ISSUER = "test-registry", "test-token-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """Issues pull and push tokens to ``user`` (with ``password``) on a loopback port."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.key, self.cert = root / "token.key", root / "token.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                        "-out", str(self.cert), "-days", "1", "-subj", f"/CN={ISSUER}"],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.requests: list[dict[str, str]] = []
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
                service.requests.append(query)
                if self.headers.get("Authorization") != service.expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": service.token(query.get("scope", ""))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def registry_auth(self) -> dict[str, Any]:
        """The registry's ``auth`` section for this service."""
        return {"token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER,
                          "rootcertbundle": str(self.cert)}}

    def token(self, scope: str) -> str:
        """A token granting pull and push on the repository ``scope`` names."""
        _, name, _ = (scope.split(":") + ["", "", ""])[:3]
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": "puller", "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": f"t{now}{len(self.requests)}",
                  "access": [{"type": "repository", "name": name, "actions": ["pull", "push"]}] if name else []}
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signing.encode(),
                                   check=True, capture_output=True).stdout
        return f"{signing}.{_b64url(signature)}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
