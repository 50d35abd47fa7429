"""``/metrics`` gzip: pieces deflated once and reused while unchanged, in one gzip member that
standard decoders (Python's, the gzip tool's) read back to the exact text."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import zlib

import pytest

from exporter.server.compression import PieceCompressor

PIECES = [b"# HELP a x\n# TYPE a gauge\n", b'a{app="one"} 1\n' * 5000, b"", os.urandom(70_000),
          b'b{app="two"} 0\n' * 3]


def test_the_member_decodes_to_the_pieces_joined() -> None:
    body = PieceCompressor().gzip(PIECES)
    assert gzip.decompress(body) == b"".join(PIECES)
    assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body) == b"".join(PIECES)


def test_nothing_to_send_is_still_a_valid_member() -> None:
    assert gzip.decompress(PieceCompressor().gzip([])) == b""


@pytest.mark.skipif(shutil.which("gzip") is None, reason="the gzip tool is not installed")
def test_the_gzip_tool_reads_it_and_checks_its_crc() -> None:
    body = PieceCompressor().gzip(PIECES)
    done = subprocess.run(["gzip", "-dc"], input=body, capture_output=True, check=True)
    assert done.stdout == b"".join(PIECES)
    corrupt = body[:-8] + bytes([body[-8] ^ 1]) + body[-7:]
    assert subprocess.run(["gzip", "-dc"], input=corrupt, capture_output=True).returncode != 0


def test_pieces_sent_again_are_not_deflated_again() -> None:
    compressor = PieceCompressor()
    compressor.gzip(PIECES)
    assert compressor.deflated == len(PIECES)
    changed = [*PIECES[:3], b'c{app="three"} 1\n', *PIECES[4:]]
    body = compressor.gzip(changed)
    assert compressor.deflated == len(PIECES) + 1
    assert gzip.decompress(body) == b"".join(changed)


def test_an_equal_but_new_piece_is_deflated_rather_than_trusted_by_address() -> None:
    compressor = PieceCompressor()
    compressor.gzip([b"x" * 100])
    fresh = [bytes(bytearray(b"y" * 100))]
    assert gzip.decompress(compressor.gzip(fresh)) == b"y" * 100
