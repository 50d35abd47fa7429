"""Flux's OCI artifacts pushed to a real registry on loopback, as ``flux push artifact`` pushes
them: a config of type ``application/vnd.cncf.flux.config.v1+json``, one tar+gzip layer of type
``application/vnd.cncf.flux.content.v1.tar+gzip`` holding the directory's files, and the
OpenContainers annotations naming the Git source and revision. The upload follows the
distribution spec (POST an upload, PUT the blob with its digest, PUT the manifest)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from typing import Any

FLUX_CONFIG = "application/vnd.cncf.flux.config.v1+json"
FLUX_LAYER = "application/vnd.cncf.flux.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def tarball(files: dict[str, str]) -> bytes:
    """A tar+gzip archive of ``files`` (path -> text)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


class Pusher:
    """Uploads blobs and manifests to ``host`` (plain HTTP), as a user with ``auth`` (Basic) or
    with a ``bearer`` token if given."""

    def __init__(self, host: str, auth: tuple[str, str] | None = None, bearer: str | None = None) -> None:
        self.host = host
        self.headers = {"Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode()} if auth else {}
        if bearer:
            self.headers = {"Authorization": f"Bearer {bearer}"}

    def _send(self, method: str, url: str, body: bytes = b"", content_type: str = "application/octet-stream") -> Any:
        request = urllib.request.Request(url if url.startswith("http") else f"http://{self.host}{url}", data=body or None,
                                         method=method, headers={**self.headers, "Content-Type": content_type})
        return urllib.request.urlopen(request, timeout=10)

    def blob(self, repository: str, data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._send("POST", f"/v2/{repository}/blobs/uploads/") as started:
            location = started.headers["Location"]
        joiner = "&" if "?" in location else "?"
        with self._send("PUT", f"{location}{joiner}digest={digest}", data):
            pass
        return {"digest": digest, "size": len(data)}

    def manifest(self, repository: str, tag: str, manifest: dict[str, Any]) -> str:
        body = json.dumps(manifest).encode()
        with self._send("PUT", f"/v2/{repository}/manifests/{tag}", body, manifest["mediaType"]):
            pass
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def artifact(self, repository: str, tag: str, files: dict[str, str], *, layer_type: str = FLUX_LAYER,
                 layers: list[tuple[str, bytes]] | None = None, revision: str = "main@sha1:0") -> str:
        """Push ``files`` as Flux's artifact (or the given ``layers``) under ``tag``; its digest."""
        config = {**self.blob(repository, b"{}"), "mediaType": FLUX_CONFIG}
        parts = layers if layers is not None else [(layer_type, tarball(files))]
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                    "layers": [{**self.blob(repository, data), "mediaType": kind} for kind, data in parts],
                    "annotations": {"org.opencontainers.image.source": "https://git.example/deploy",
                                    "org.opencontainers.image.revision": revision}}
        return self.manifest(repository, tag, manifest)
