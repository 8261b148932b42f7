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


def camera_jpeg(width: int = 4000, height: int = 3000, orientation: int = 6,
                gps: bool = True) -> bytes:
    """A real JPEG as a phone camera writes it: noisy pixels (so it compresses like a photo),
    an EXIF orientation and, with `gps`, a GPS position near 天平路 (31.2085 N, 121.4375 E)."""
    import io
    import random

    from PIL import Image
    from PIL.ExifTags import IFD

    rng = random.Random(width * height + orientation)
    tile = Image.frombytes("RGB", (64, 64), bytes(rng.randrange(256) for _ in range(64 * 64 * 3)))
    image = Image.new("RGB", (width, height), (120, 140, 90))
    for x in range(0, width, 256):
        for y in range(0, height, 256):
            image.paste(tile, (x, y))
    # A red band across the top as the camera held it: after the orientation is applied it
    # must be on the right (orientation 6 turns the picture 90° clockwise).
    image.paste((220, 0, 0), (0, 0, width, height // 10))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "FieldCam"
    if gps:
        exif[IFD.GPSInfo] = {1: "N", 2: (31.0, 12.0, 30.6), 3: "E", 4: (121.0, 26.0, 15.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()
