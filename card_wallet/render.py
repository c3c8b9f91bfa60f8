"""Certificate images for 亮证: the certificate's fields (sensitive ones masked), a visible
watermark (purpose, time, "仅供…使用") across the whole card, and a verification QR.

Needs a CJK font: the set-up installs Debian's fonts-wqy-microhei; ``wallet.font_path``
may point at another TrueType/OpenType collection.
"""
from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from server.errors import Unavailable
from server.qr import render_png

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
]
WIDTH, HEIGHT = 1000, 640


@lru_cache(maxsize=8)
def _font_path(configured: str) -> str:
    for candidate in ([configured] if configured else []) + FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    raise Unavailable("服务器缺少中文字体，暂时无法生成证照图片", code="cjk_font_missing")


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _hex(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def render_certificate(*, title: str, issuer: str, color: str, rows: list[tuple[str, str]], validity: str,
                       identifier: str, watermark: str, verify_text: str, font_path: str = "") -> bytes:
    path = _font_path(font_path)
    card = Image.new("RGB", (WIDTH, HEIGHT), (250, 250, 247))
    draw = ImageDraw.Draw(card)
    band = _hex(color)
    draw.rectangle([0, 0, WIDTH, 110], fill=band)
    draw.text((40, 22), title, font=_font(path, 44), fill="white")
    draw.text((42, 76), f"发证机关：{issuer}", font=_font(path, 22), fill=(235, 235, 235))
    y = 140
    label_font, value_font = _font(path, 24), _font(path, 26)
    for label, value in rows[:12]:
        draw.text((40, y), f"{label}", font=label_font, fill=(110, 110, 110))
        text = str(value)
        while draw.textlength(text, font=value_font) > 470 and len(text) > 2:
            text = text[:-2] + "…"
        draw.text((250, y - 2), text, font=value_font, fill=(20, 20, 20))
        y += 38
    draw.text((40, HEIGHT - 70), f"有效期：{validity}", font=_font(path, 20), fill=(90, 90, 90))
    draw.text((40, HEIGHT - 40), identifier, font=_font(path, 16), fill=(130, 130, 130))
    qr = Image.open(io.BytesIO(render_png(verify_text, scale=4, border=2))).convert("RGB").resize((200, 200))
    card.paste(qr, (WIDTH - 240, 150))
    draw.text((WIDTH - 232, 356), "扫码核验真伪与状态", font=_font(path, 18), fill=(90, 90, 90))

    # the watermark: repeated, rotated, semi-transparent, over everything
    mark_font = _font(path, 30)
    tile = Image.new("RGBA", (WIDTH * 2, HEIGHT * 2), (0, 0, 0, 0))
    tdraw = ImageDraw.Draw(tile)
    step_x = int(tdraw.textlength(watermark, font=mark_font)) + 80
    for row, yy in enumerate(range(0, HEIGHT * 2, 110)):
        for xx in range(-step_x + (row % 2) * step_x // 2, WIDTH * 2, step_x):
            tdraw.text((xx, yy), watermark, font=mark_font, fill=(200, 30, 30, 70))
    tile = tile.rotate(math.degrees(math.atan2(HEIGHT, WIDTH)) * 0.5, resample=Image.BICUBIC)
    left, top = (tile.width - WIDTH) // 2, (tile.height - HEIGHT) // 2
    card = Image.alpha_composite(card.convert("RGBA"), tile.crop((left, top, left + WIDTH, top + HEIGHT)))
    out = io.BytesIO()
    card.convert("RGB").save(out, "PNG", optimize=False, compress_level=3)
    return out.getvalue()
