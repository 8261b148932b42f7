"""Helpers for the attachment tests: small real image/PDF files made from bytes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def png_bytes(seed: int = 0, width: int = 4, height: int = 4) -> bytes:
    """A valid PNG whose pixels depend on `seed` (different seeds, different hashes)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + bytes(((seed + y) % 256, seed % 256, 7)) * width
                    for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def jpeg_bytes(size: int, seed: int = 0) -> bytes:
    """JPEG magic followed by filler: enough for type sniffing and size limits."""
    body = bytes((seed + i) % 251 for i in range(min(size, 4096)))
    filler = (body * (size // max(len(body), 1) + 1))[: max(size - 6, 0)]
    return b"\xff\xd8\xff\xe0\x00\x10" + filler


def pdf_bytes(text: str = "consent") -> bytes:
    return b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
