"""Demo files made on the fly: a tiny valid PDF (built by hand) and a cover image."""

from io import BytesIO

from PIL import Image, ImageDraw


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(title: str, lines: list[str]) -> bytes:
    text_ops = ["BT", "/F1 20 Tf", "72 760 Td", f"({_escape(title)}) Tj", "/F1 12 Tf"]
    for line in lines:
        text_ops += ["0 -22 Td", f"({_escape(line)}) Tj"]
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_cover_png() -> bytes:
    """A plain book cover: Pillow is already a Wagtail dependency."""
    image = Image.new("RGB", (600, 800), "#0b5cad")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 560, 760), outline="#ffffff", width=6)
    draw.text((70, 300), "THE LEAD-GENERATION", fill="#ffffff", font_size=38)
    draw.text((80, 360), "GUIDE", fill="#ffbf47", font_size=72)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
