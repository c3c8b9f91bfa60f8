"""gzip for responses people wait for: HTML, JS, CSS, JSON and problem+json over 1 KB
(Tornado's transform, with problem+json added). Event streams are left alone: each would
hold a compressor's state (~300 KB) for as long as it is open, which 10 000 streams per
process cannot afford, and their events are small. Files the H5 handler already
compressed (``Content-Encoding`` set) pass through."""
from __future__ import annotations

from tornado.web import GZipContentEncoding


class Compression(GZipContentEncoding):
    CONTENT_TYPES = GZipContentEncoding.CONTENT_TYPES | {"application/problem+json", "application/manifest+json"}

    def _compressible_type(self, ctype: str) -> bool:
        return ctype != "text/event-stream" and super()._compressible_type(ctype)
