"""Uploaded files are checked by their content, not their name, and by size."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.exceptions import InvalidInput

# Leading bytes of each accepted format.
SIGNATURES = {
    "application/pdf": [b"%PDF-"],
    "image/jpeg": [b"\xff\xd8\xff"],
    "image/png": [b"\x89PNG\r\n\x1a\n"],
    "audio/mpeg": [b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"],
    "audio/wav": [b"RIFF"],
}
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "audio/mpeg": (".mp3",),
    "audio/wav": (".wav",),
}
LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "audio/mpeg": "MP3",
    "audio/wav": "WAV",
}
DOCUMENTS = ("application/pdf", "image/jpeg", "image/png")


def sniff(uploaded):
    """The content type the file's bytes show (None if none of ours)."""
    position = uploaded.tell() if hasattr(uploaded, "tell") else 0
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(position)
    for content_type, prefixes in SIGNATURES.items():
        if any(head.startswith(p) for p in prefixes):
            if content_type == "audio/wav" and head[8:12] != b"WAVE":
                continue
            return content_type
    return None


def check_upload(uploaded, allowed=DOCUMENTS, max_bytes=None, field="file"):
    """Return the sniffed content type, or raise InvalidInput with a clear message.

    A file whose name claims one format and whose bytes are another (a JPEG renamed .pdf) is refused.
    """
    max_bytes = max_bytes or settings.UPLOAD_MAX_BYTES
    if uploaded is None or not getattr(uploaded, "size", 0):
        raise InvalidInput({field: [_("The file is empty.")]})
    if uploaded.size > max_bytes:
        raise InvalidInput(
            {field: [_("The file is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}]}
        )
    content_type = sniff(uploaded)
    accepted = ", ".join(LABELS[t] for t in allowed)
    if content_type not in allowed:
        raise InvalidInput(
            {field: [_("The file's content is not one of: %(types)s.") % {"types": accepted}]}
        )
    name = (getattr(uploaded, "name", "") or "").lower()
    if "." in name and not name.endswith(EXTENSIONS[content_type]):
        raise InvalidInput(
            {
                field: [
                    _("The file is named %(name)s but its content is %(real)s.")
                    % {"name": uploaded.name, "real": LABELS[content_type]}
                ]
            }
        )
    return content_type
