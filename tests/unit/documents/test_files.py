from pathlib import Path

import pytest
from PIL import Image

from service.documents.files import MediaType, count_pages, render_page, sniff
from service.errors import UnreadableFile
from tests.support.helpers import encode, text_image

pytestmark = pytest.mark.unit


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("fmt", "media"),
    [
        ("PNG", MediaType.PNG),
        ("JPEG", MediaType.JPEG),
        ("TIFF", MediaType.TIFF),
        ("PDF", MediaType.PDF),
    ],
)
def test_files_are_recognised_by_their_bytes(fmt: str, media: MediaType) -> None:
    data = encode(Image.new("RGB", (50, 50), "white"), fmt)
    assert sniff(data[:1024]) is media


def test_empty_and_unknown_files_get_readable_reasons() -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        sniff(b"")
    with pytest.raises(UnreadableFile, match="looks like text"):
        sniff(b"#!/bin/sh\nrm -rf /\n")
    with pytest.raises(UnreadableFile, match="PNG, JPEG, TIFF or PDF"):
        sniff(b"PK\x03\x04\x00\x00\xff\xfe")


def test_multi_page_tiff_and_pdf_count_every_page(tmp_path: Path) -> None:
    pages = [text_image([[f"Page {n}"]]) for n in range(3)]
    tiff = write(
        tmp_path, "scan.tif", encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    )
    pdf = write(
        tmp_path,
        "scan.pdf",
        encode(pages[0], "PDF", save_all=True, append_images=pages[1:], resolution=300),
    )
    assert count_pages(tiff, MediaType.TIFF) == 3
    assert count_pages(pdf, MediaType.PDF) == 3


def test_one_pdf_page_renders_alone_at_the_chosen_dpi(tmp_path: Path) -> None:
    pages = [text_image([[f"Page {n}"]], width=1200) for n in range(2)]
    pdf = write(
        tmp_path,
        "scan.pdf",
        encode(pages[0], "PDF", save_all=True, append_images=pages[1:], resolution=300),
    )
    rendered = render_page(pdf, MediaType.PDF, 1, dpi=150)
    assert rendered.dpi == 150
    assert abs(rendered.image.width - 600) <= 2  # 1200 px at 300 dpi → 600 px at 150 dpi


def test_a_corrupt_pdf_fails_with_a_reason(tmp_path: Path) -> None:
    good = encode(text_image([["Page"]]), "PDF")
    broken = write(tmp_path, "broken.pdf", good[: len(good) // 3])
    with pytest.raises(UnreadableFile, match="PDF"):
        count_pages(broken, MediaType.PDF)


def test_a_truncated_image_fails_with_a_reason(tmp_path: Path) -> None:
    data = encode(text_image([["Page"]]), "PNG")
    broken = write(tmp_path, "broken.png", data[: len(data) // 2])
    with pytest.raises(UnreadableFile):
        render_page(broken, MediaType.PNG, 0, dpi=300)


def test_sixteen_bit_and_one_bit_scans_become_8_bit_grayscale(tmp_path: Path) -> None:
    one_bit = write(
        tmp_path,
        "bw.tif",
        encode(text_image([["Bitonal"]]).convert("1"), "TIFF", compression="group4"),
    )
    sixteen = Image.new("I;16", (100, 100), 40000)
    deep = write(tmp_path, "deep.tif", encode(sixteen, "TIFF"))
    assert render_page(one_bit, MediaType.TIFF, 0, 300).image.mode == "L"
    gray = render_page(deep, MediaType.TIFF, 0, 300).image
    assert gray.mode == "L"
    value = gray.getpixel((5, 5))
    assert (
        isinstance(value, int) and 150 <= value <= 160
    )  # 40000/65535 of white, not clipped to 255


def test_the_browsers_copy_of_a_tiff_scan_is_a_jpeg_of_the_same_page() -> None:
    from io import BytesIO

    import numpy as np

    from service.imaging import encode_display
    from tests.conftest import SAMPLES

    scan = render_page(SAMPLES / "fra-18c-borrdisc-p0019.tif", MediaType.TIFF, 0, 300).image
    data = encode_display(scan)
    assert sniff(data[:1024]) is MediaType.JPEG
    with Image.open(BytesIO(data)) as shown:
        assert shown.size == scan.size and shown.mode == "RGB"
        difference = np.abs(np.asarray(shown, np.int16) - np.asarray(scan, np.int16))
    assert difference.mean() < 2.0  # the same page, to the eye


def test_a_black_and_white_scan_keeps_its_sharp_edges_in_a_png() -> None:
    from io import BytesIO

    import numpy as np

    from service.imaging import encode_display

    page = text_image([["Ratsprotokoll vom 3. März 1783"]]).convert("1").convert("L")
    data = encode_display(page)
    assert sniff(data[:1024]) is MediaType.PNG
    with Image.open(BytesIO(data)) as shown:
        assert np.array_equal(np.asarray(shown.convert("L")), np.asarray(page))


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_page_stored_as_png_comes_back_pixel_for_pixel(mode: str) -> None:
    from io import BytesIO

    import numpy as np

    from service.imaging import encode_png
    from tests.conftest import SAMPLES

    scan = render_page(SAMPLES / "fra-18c-borrdisc-p0019.tif", MediaType.TIFF, 0, 300).image
    page = scan.convert(mode)
    data = encode_png(page)
    assert sniff(data[:1024]) is MediaType.PNG
    with Image.open(BytesIO(data)) as stored:
        assert stored.mode == mode and stored.size == page.size
        assert np.array_equal(np.asarray(stored), np.asarray(page))


@pytest.mark.parametrize("width", [None, 997])  # 997: rows that end inside a byte
def test_a_black_and_white_page_is_stored_as_a_one_bit_png(width: int | None) -> None:
    from io import BytesIO

    import numpy as np

    from service.imaging import encode_png

    page = text_image([["Ratsprotokoll vom 3. März 1783"]]).convert("1").convert("L")
    if width is not None:
        page = page.crop((0, 0, width, page.height))
    data = encode_png(page)
    with Image.open(BytesIO(data)) as stored:
        assert stored.mode == "1"
        assert np.array_equal(np.asarray(stored.convert("L")), np.asarray(page))
    assert len(data) < len(encode_png(page.point(lambda v: 254 if v == 255 else v))) / 2
