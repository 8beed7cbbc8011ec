"""Draw the app's icons (frontend/icons/*.png) with the standard library only: the brand blue,
a white disc, and a blue bar through it (an e-KTP card's chip read as an "e"). Run once per change:
`python tools/make_icons.py`."""

import struct
import zlib
from pathlib import Path

BLUE = (0x0B, 0x4F, 0x8A)
WHITE = (0xFF, 0xFF, 0xFF)
OUT = Path(__file__).resolve().parents[1] / "frontend" / "icons"


def png(size: int, pixel) -> bytes:
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def drawing(scale: float):
    """The disc takes `scale` of the icon (a maskable icon keeps it inside the safe zone)."""

    def pixel(x: int, y: int, size: int) -> tuple[int, int, int]:
        cx = cy = size / 2
        dx, dy = (x + 0.5 - cx) / size, (y + 0.5 - cy) / size
        r = (dx * dx + dy * dy) ** 0.5
        outer = 0.5 * scale
        if r > outer:
            return BLUE
        inner = outer * 0.55
        bar = abs(dy) < outer * 0.09 and dx > -inner
        ring = r > inner and not (dy > 0 and dx > 0 and abs(dy) < outer * 0.45 and r < outer * 0.999 and dx > abs(dy) * 0.2)
        return BLUE if bar else (WHITE if ring or r <= inner else BLUE)

    return pixel


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    (OUT / "icon-192.png").write_bytes(png(192, drawing(0.84)))
    (OUT / "icon-512.png").write_bytes(png(512, drawing(0.84)))
    (OUT / "maskable-512.png").write_bytes(png(512, drawing(0.6)))
