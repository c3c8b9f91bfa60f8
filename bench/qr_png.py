"""QR PNG rendering: naive ``qrcode.make(text).save(png)`` vs the service's renderer.

    .venv/bin/python bench/qr_png.py [--n 200]

Renders real service codes (signed payloads, as issued) and prints the median and p90
time per image for each way, the ratio, the payload size and the QR version.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qrcode  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from identity.codes.codec import PERSON, CodeKeys, CodePayload  # noqa: E402
from server.qr import PngCache, qr_matrix, render_png  # noqa: E402


def naive(text: str) -> bytes:
    buf = io.BytesIO()
    qrcode.make(text).save(buf)
    return buf.getvalue()


def timed(fn, texts: list[str]) -> list[float]:  # noqa: ANN001
    out = []
    for t in texts:
        t0 = time.perf_counter()
        fn(t)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    keys = CodeKeys([ec.generate_private_key(ec.SECP256R1())])
    texts = [keys.sign(CodePayload(PERSON, keys.signing_kid, int(time.time()) + 60, os.urandom(16)))
             for _ in range(args.n)]
    scoped = keys.sign(CodePayload(PERSON, keys.signing_kid, int(time.time()) + 60, os.urandom(16), (1, 2, 3)))
    naive_ms = timed(naive, texts)
    fast_ms = timed(render_png, texts)
    cache = PngCache()
    for t in texts:
        cache.get(t)
    cached_ms = timed(cache.get, texts)
    p90 = lambda xs: sorted(xs)[int(0.9 * (len(xs) - 1))]  # noqa: E731
    print(f"{args.n} codes, {len(texts[0])} characters each (QR version {qr_matrix(texts[0])[1]} at level M); "
          f"with 3 pre-authorised items: {len(scoped)} characters, version {qr_matrix(scoped)[1]}\n")
    print(f"{'way':<34}{'median ms':>11}{'p90 ms':>9}")
    for name, xs in (("naive qrcode.make().save()", naive_ms), ("fixed mask + Pillow (first render)", fast_ms),
                     ("cached per code", cached_ms)):
        print(f"{name:<34}{statistics.median(xs):>11.2f}{p90(xs):>9.2f}")
    print(f"\nfirst render is {statistics.median(naive_ms) / statistics.median(fast_ms):.1f}x faster than naive "
          f"(goal: median <= 5 ms); PNG size {len(render_png(texts[0]))} bytes")


if __name__ == "__main__":
    main()
