"""gzip for ``/metrics``, where most of the body is pieces the last scrape already compressed.

At 10,000 apps the exposition is some 15 MiB; compressing all of it on every scrape takes most of
the scrape. The per-app families come in blocks that stay the same object until one of their apps
changes (:meth:`exporter.metrics.AppStatusCollector.chunks`), so each piece is deflated on its own,
ended with a sync flush (which ends it on a byte boundary and lets nothing after it refer back into
it), and the deflated piece is kept while the next scrape still sends that piece. Deflate streams
made this way may be concatenated (as ``pigz`` does to compress in parallel); the gzip member
around them needs only the CRC-32 and length of the whole text, which cost a few milliseconds.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Sequence

#: A gzip member header: deflate, no flags, no time, no extra flags, unknown system (RFC 1952).
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
#: An empty final deflate block: what ends the stream after the last piece.
_FINAL = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
#: zlib's fastest level: nearly the ratio of the default at a fraction of the time.
LEVEL = 1


def _deflate(piece: bytes) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)


class PieceCompressor:
    """Gzips a sequence of pieces, reusing the deflated form of pieces the last call had too."""

    def __init__(self) -> None:
        #: id(piece) -> (piece, its deflated form); the piece is held so its id stays its own.
        self._kept: dict[int, tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()
        #: Pieces deflated so far (the others were reused).
        self.deflated = 0

    def gzip(self, pieces: Sequence[bytes]) -> bytes:
        with self._lock:
            kept = self._kept
        fresh: dict[int, tuple[bytes, bytes]] = {}
        out = [_HEADER]
        crc = size = 0
        for piece in pieces:
            hit = kept.get(id(piece))
            if hit is None or hit[0] is not piece:
                hit = (piece, _deflate(piece))
                self.deflated += 1
            fresh[id(piece)] = hit
            out.append(hit[1])
            crc = zlib.crc32(piece, crc)
            size += len(piece)
        out += [_FINAL, struct.pack("<II", crc, size & 0xFFFFFFFF)]
        with self._lock:
            self._kept = fresh
        return b"".join(out)
