"""Smaller photos before sync: the laptop's photo settings and the downscaling itself.

A photo whose long edge is over the limit (default 2,000 px) is re-encoded as JPEG (quality
85) when it is attached: the camera's orientation is applied to the pixels, the EXIF block
(camera, time taken, GPS position) is kept. The registry receives the smaller file; the
original stays in this laptop's content store unless the user turned that off. HEIC photos
are decoded through `pi_heif` where it is installed (wheels exist for Windows, macOS and
manylinux); without it they are stored as they are.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

MAX_EDGE = "photos:max_edge"
QUALITY = "photos:quality"
KEEP_ORIGINAL = "photos:keep_original"
DEFAULT_MAX_EDGE = 2000
DEFAULT_QUALITY = 85
RESIZABLE = ("image/jpeg", "image/png", "image/webp", "image/heic")
_EXIF_GPS, _EXIF_SUB = 0x8825, 0x8769


@dataclass(frozen=True)
class PhotoSettings:
    max_edge: int = DEFAULT_MAX_EDGE  # 0: photos are kept as they are
    quality: int = DEFAULT_QUALITY
    keep_original: bool = True

    def describe(self, lang: str = "zh") -> str:
        if self.max_edge <= 0:
            return "照片按原样保存(不缩小)" if lang == "zh" else "photos are kept as they are"
        kept = ("原图留在本机" if self.keep_original else "不保留原图") if lang == "zh" else (
            "originals kept on this laptop" if self.keep_original else "originals not kept")
        if lang == "zh":
            return f"照片长边超过 {self.max_edge} 像素时缩小(JPEG 质量 {self.quality}),{kept}"
        return (f"photos over {self.max_edge} px on the long edge are made smaller "
                f"(JPEG quality {self.quality}); {kept}")


def settings(store) -> PhotoSettings:
    def number(key: str, default: int) -> int:
        try:
            return int(store.setting(key) or default)
        except ValueError:
            return default

    return PhotoSettings(max(0, number(MAX_EDGE, DEFAULT_MAX_EDGE)),
                         min(95, max(1, number(QUALITY, DEFAULT_QUALITY))),
                         store.setting(KEEP_ORIGINAL, "1") != "0")


def save_settings(store, *, max_edge: int | None = None, quality: int | None = None,
                  keep_original: bool | None = None) -> PhotoSettings:
    """Change what was given; the caller holds the transaction."""
    if max_edge is not None:
        if max_edge != 0 and not 200 <= max_edge <= 20000:
            raise ValueError("长边应为 200–20000 像素,或 0 表示不缩小 / the long edge must be "
                             "200–20000 px, or 0 to keep photos as they are")
        store.set_setting(MAX_EDGE, str(max_edge))
    if quality is not None:
        if not 30 <= quality <= 95:
            raise ValueError("JPEG 质量应为 30–95 / the JPEG quality must be 30–95")
        store.set_setting(QUALITY, str(quality))
    if keep_original is not None:
        store.set_setting(KEEP_ORIGINAL, "1" if keep_original else "0")
    return settings(store)


@dataclass
class Shrunk:
    data: bytes
    pixels: str  # "2000x1500"
    original_pixels: str


def heic_supported() -> bool:
    try:
        import pi_heif  # noqa: F401
    except ImportError:
        return False
    return True


def _open(path: Path, mime: str):
    from PIL import Image

    if mime == "image/heic":
        import pi_heif  # ImportError: the caller stores the file as it is

        pi_heif.register_heif_opener()
    return Image.open(path)


def shrink(path: Path, mime: str, setting: PhotoSettings) -> Shrunk | None:
    """A smaller JPEG of the photo at `path`, or None to keep the file as it is (small
    enough, not a photo, cannot be decoded here, or re-encoding would not save anything)."""
    if setting.max_edge <= 0 or mime not in RESIZABLE:
        return None
    try:
        from PIL import Image, ImageOps
    except ImportError:
        return None
    try:
        with _open(path, mime) as image:
            original = f"{image.width}x{image.height}"
            if max(image.size) <= setting.max_edge:
                return None
            if image.format == "JPEG":
                # Let the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding (never below
                # the target): several times faster than decoding 12 MP and resampling it all.
                scale = setting.max_edge / max(image.size)
                image.draft("RGB", (math.ceil(image.width * scale),
                                    math.ceil(image.height * scale)))
            exif = image.getexif()
            for ifd in (_EXIF_GPS, _EXIF_SUB):  # loaded now so that tobytes() writes them
                if ifd in exif:
                    exif.get_ifd(ifd)
            upright = ImageOps.exif_transpose(image) or image
            exif = upright.getexif() if upright is not image else exif
            for ifd in (_EXIF_GPS, _EXIF_SUB):
                if ifd in exif:
                    exif.get_ifd(ifd)
            upright.thumbnail((setting.max_edge, setting.max_edge), Image.Resampling.LANCZOS)
            if upright.mode in ("RGBA", "LA", "P"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            elif upright.mode != "RGB":
                upright = upright.convert("RGB")
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=setting.quality, optimize=True,
                         exif=exif.tobytes() if len(exif) else b"")
    except ImportError:
        return None
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None  # a photo Pillow cannot read is still attached, as it is
    data = out.getvalue()
    # A HEIC becomes a JPEG even when that is no smaller: every laptop and viewer opens it.
    if len(data) >= path.stat().st_size and mime != "image/heic":
        return None
    return Shrunk(data, f"{upright.width}x{upright.height}", original)
