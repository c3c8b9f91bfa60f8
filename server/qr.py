"""QR images of service codes, fast.

``qrcode.make()`` tries all eight mask patterns and scores each (most of its cost);
a fixed mask is as readable for a short-lived code. The module matrix is then drawn
with Pillow directly (one pixel per module, scaled with NEAREST) and saved as a
1-bit PNG with light compression. Rendered images are kept per code in a small LRU
cache (a pure speed-up: any process can re-render the same bytes).
"""
from __future__ import annotations

import io
from collections import OrderedDict

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

SCALE = 8
BORDER = 4
_CACHE_SIZE = 2048


def qr_matrix(text: str) -> tuple[list[list[bool]], int]:
    """The module matrix (no border) and the QR version, at error correction level M."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, mask_pattern=0, border=0)
    qr.add_data(text, optimize=0)
    qr.make(fit=True)
    return qr.modules, qr.version


def render_png(text: str, scale: int = SCALE, border: int = BORDER) -> bytes:
    modules, _ = qr_matrix(text)
    n = len(modules)
    raw = bytes(0 if dark else 255 for row in modules for dark in row)
    small = Image.frombytes("L", (n, n), raw)
    side = (n + 2 * border) * scale
    img = Image.new("1", (side, side), 1)
    img.paste(small.resize((n * scale, n * scale), Image.NEAREST).convert("1"), (border * scale, border * scale))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


class PngCache:
    def __init__(self, size: int = _CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, text: str) -> bytes:
        png = self._items.get(text)
        if png is not None:
            self._items.move_to_end(text)
            return png
        png = render_png(text)
        self._items[text] = png
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return png
