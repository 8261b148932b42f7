"""What may be attached to a record: file types (recognised by content), size limit, kinds.

One definition for the laptop (checks before copying a file in) and the registry (checks while
a blob streams in), so both refuse the same files with the same bilingual words.
"""

from __future__ import annotations

import re

MAX_SIZE = 20 * 1024 * 1024
KINDS = ("photo", "document")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

#: mime type → (Chinese, English) description
TYPES = {
    "image/jpeg": ("JPEG 照片", "JPEG photo"),
    "image/png": ("PNG 图片", "PNG image"),
    "image/heic": ("HEIC 照片", "HEIC photo"),
    "image/webp": ("WebP 图片", "WebP image"),
    "application/pdf": ("PDF 文档", "PDF document"),
}
EXTENSIONS = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".pdf"}
#: mime type → the file name endings it goes by; the first is the usual one.
MIME_EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe"), "image/png": (".png",),
    "image/heic": (".heic", ".heif"), "image/webp": (".webp",), "application/pdf": (".pdf",),
}
HEAD_BYTES = 16  # enough of the start of a file to recognise every type above
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """The mime type of a file from its first bytes, or None when it is not allowed.

    File names lie (a camera card holds .JPG, a phone's export may call a HEIC ".jpg"), so the
    content decides.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def extension_for(mime: str, name: str = "") -> str:
    """The ending a desktop needs to pick a program: the original's when it fits the content
    (".JPG" stays), else the usual one for the type (a HEIC photo named ".jpg" gets ".heic")."""
    endings = MIME_EXTENSIONS.get(mime, ())
    dot = name.rfind(".")
    original = name[dot:] if dot > 0 else ""
    if original.lower() in endings:
        return original
    return endings[0] if endings else ""


def default_kind(mime: str) -> str:
    return "document" if mime == "application/pdf" else "photo"


def too_large(size: int, limit: int = MAX_SIZE) -> tuple[str, str]:
    """The refusal, with the size shown precisely enough to read as more than the limit
    (a 21,000,000-byte file is 20.03 MB, not "20.0 MB" against a 20 MB limit)."""
    mb, exact = limit / 1048576, size / 1048576
    if float(f"{exact:.1f}") > mb:
        zh = en = f"{exact:.1f} MB"
    elif exact >= mb + 0.005:
        zh = en = f"{exact:.2f} MB"
    else:
        zh, en = f"{size:,} 字节", f"{size:,} bytes"
    return (f"文件太大:{zh},附件最大 {mb:g} MB({limit:,} 字节)",
            f"the file is too large: {en}; attachments are at most {mb:g} MB ({limit:,} bytes)")


def unsupported() -> tuple[str, str]:
    return ("不支持的文件类型:只能附加 JPEG、PNG、HEIC、WebP 照片或 PDF 文档",
            "unsupported file type: only JPEG, PNG, HEIC or WebP photos and PDF documents "
            "can be attached")


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"
