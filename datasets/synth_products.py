"""The fictional product catalogue of the synthetic generator: kinds of goods and their brands.

Brands are fixed (independent of the seed), like real ones: every genuine item of a brand carries
the same artwork, and a counterfeit is a copy of that artwork with defects (synth_defects.py).
A model trained on one seed therefore meets the same brands on another seed, and has to learn what
a faithful copy looks like rather than which brands exist. All names are invented; the Vietnamese
text is NFC (precomposed), which DejaVu renders with the basic layout engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Kind:
    name: str  # manifest value, e.g. "tea"
    package: str  # "box" | "can" | "bottle" | "pouch": how synth_draw builds the object
    aspect: float  # height / width of the printed front face
    products: tuple[str, ...]  # product line printed under the brand (Vietnamese)
    taglines: tuple[str, ...]
    net: tuple[str, ...]  # net content printed large, e.g. "400g"
    certs: tuple[str, ...]  # genuine certification badges (one per item)
    small_print: tuple[str, ...]  # two of these go at the bottom of the front
    icon: str  # illustration drawn in the middle of the label


@dataclass(frozen=True)
class Brand:
    name: str
    kind: str
    font: str  # font file stem for the brand name, e.g. "DejaVuSerif-Bold"
    primary: RGB  # band / logo colour
    secondary: RGB  # label background
    accent: RGB  # second logo colour, ribbon
    ink: RGB  # body text colour
    logo: str  # logo shape, see synth_draw.LOGO_SHAPES
    layout: int  # 0: top band, 1: diagonal band, 2: bottom wave
    hologram: bool = True  # genuine items carry a "Chính hãng" hologram sticker


@dataclass
class Design:
    """Everything printed on one physical item. Counterfeits are edited copies of a genuine one."""

    kind: Kind
    brand: Brand
    brand_text: str  # as printed (misspelt on some counterfeits)
    brand_font: str
    product: str
    tagline: str
    net: str
    cert: str  # "" = no badge
    small_print: tuple[str, ...]
    origin: str = "Sản xuất tại Việt Nam"
    lot: str = ""  # "Số lô: 240517  HSD: 05/2027"
    logo_shape: str = ""
    logo_colours: tuple[RGB, RGB] = ((0, 0, 0), (0, 0, 0))
    logo_letter: str = ""
    cert_rings: int = 2  # counterfeit badges are often simplified to one ring
    hologram: str = "genuine"  # "genuine" | "dull" | "flat" (fakes) | "missing"
    hologram_text: str = "Chính hãng"
    label_shift: tuple[float, float, float] = (0.0, 0.0, 0.0)  # dx, dy (fraction of size), degrees
    print_hue: float = 0.0  # hue rotation of the whole print, degrees
    print_blur: float = 0.0  # reprint blur radius in art pixels
    print_fade: float = 0.0  # 0..1 loss of contrast and saturation of a reprint
    defects: list[str] = field(default_factory=list)


KINDS: tuple[Kind, ...] = (
    Kind(
        "tea",
        "box",
        1.3,
        ("Trà xanh Thái Nguyên", "Trà Ô Long", "Trà sen Tây Hồ", "Trà nhài"),
        ("Hương vị truyền thống", "100% búp chè tươi", "Đặc sản vùng cao"),
        ("100g", "200g", "250g"),
        ("ISO 22000", "HACCP", "VietGAP"),
        ("Bảo quản nơi khô ráo, thoáng mát", "Hạn sử dụng: 24 tháng kể từ NSX"),
        "leaf",
    ),
    Kind(
        "cosmetics",
        "bottle",
        1.55,
        ("Kem dưỡng ẩm", "Sữa rửa mặt", "Nước hoa hồng", "Serum dưỡng da"),
        ("Chiết xuất thiên nhiên", "Dưỡng ẩm 24 giờ", "Cho mọi loại da"),
        ("50ml", "100ml", "150ml"),
        ("GMP", "ISO 22716"),
        ("Tránh tiếp xúc với mắt", "Chỉ dùng ngoài da"),
        "flower",
    ),
    Kind(
        "milk_powder",
        "can",
        1.15,
        ("Sữa bột", "Sữa bột công thức", "Sữa bột dinh dưỡng"),
        ("Cho trẻ từ 1-3 tuổi", "Tăng cường miễn dịch", "Bổ sung DHA & canxi"),
        ("400g", "800g", "900g"),
        ("ISO 22000", "HACCP", "FSSC 22000"),
        ("Pha với nước ấm 40-50°C", "Dùng hết trong 3 tuần sau khi mở"),
        "drop",
    ),
    Kind(
        "medicine",
        "box",
        0.62,
        ("Paracetamol 500mg", "Vitamin C 1000mg", "Viên ngậm thảo dược"),
        ("Hộp 10 vỉ x 10 viên", "Viên nén bao phim", "Giảm đau, hạ sốt"),
        ("100 viên", "20 viên", "30 viên"),
        ("GMP-WHO",),
        ("Đọc kỹ hướng dẫn sử dụng trước khi dùng", "Để xa tầm tay trẻ em"),
        "capsule",
    ),
    Kind(
        "phone_charger",
        "box",
        1.0,
        ("Củ sạc nhanh 20W", "Củ sạc 33W", "Bộ sạc nhanh USB-C"),
        ("Sạc nhanh an toàn", "Bảo hành 12 tháng", "Chống quá nhiệt"),
        ("20W", "33W", "65W"),
        ("CE", "CR", "RoHS"),
        ("Input: 100-240V~ 50/60Hz 0.6A", "Output: DC 5V 3A / 9V 2.22A"),
        "bolt",
    ),
    Kind(
        "coffee",
        "pouch",
        1.35,
        ("Cà phê rang xay", "Cà phê hạt Robusta", "Cà phê sữa hòa tan"),
        ("Robusta Đắk Lắk", "Rang mộc nguyên chất", "Đậm đà hương vị Việt"),
        ("250g", "500g"),
        ("ISO 22000", "HACCP", "VietGAP"),
        ("Bảo quản nơi khô ráo, tránh ánh nắng", "Hạn sử dụng: 18 tháng kể từ NSX"),
        "bean",
    ),
)
KIND_BY_NAME = {k.name: k for k in KINDS}

BRANDS: tuple[Brand, ...] = (
    Brand("Thái Sơn", "tea", "DejaVuSerif-Bold", (30, 110, 50), (238, 244, 226), (196, 160, 60), (30, 50, 30), "leaf", 0),
    Brand("Lộc Trà", "tea", "DejaVuSerif-Bold", (150, 30, 35), (250, 240, 215), (200, 160, 50), (80, 20, 20), "circle", 1),
    Brand("Mộc Lam", "tea", "DejaVuSans-Bold", (20, 120, 130), (232, 246, 244), (240, 180, 40), (20, 50, 60), "hexagon", 2),
    Brand("Lumiora", "cosmetics", "DejaVuSans-Bold", (210, 80, 130), (252, 240, 245), (120, 60, 150), (90, 30, 60), "drop", 0),
    Brand("Hoa Mây", "cosmetics", "DejaVuSerif-Bold", (120, 90, 170), (244, 240, 252), (230, 170, 60), (50, 40, 90), "star", 2),
    Brand("Senvie", "cosmetics", "DejaVuSansCondensed-Bold", (30, 140, 120), (240, 250, 246), (20, 50, 100), (20, 50, 70), "circle", 1),
    Brand("Mầm Xanh", "milk_powder", "DejaVuSans-Bold", (30, 90, 170), (240, 246, 252), (90, 170, 60), (20, 40, 90), "leaf", 1),
    Brand("Dairella", "milk_powder", "DejaVuSerif-Bold", (190, 140, 40), (252, 248, 235), (40, 70, 150), (70, 50, 20), "shield", 0),
    Brand("Bông Sữa", "milk_powder", "DejaVuSans-Bold", (220, 90, 50), (250, 246, 238), (60, 140, 200), (80, 40, 20), "star", 2),
    Brand("Medivon", "medicine", "DejaVuSans-Bold", (20, 80, 160), (248, 250, 252), (220, 40, 50), (20, 40, 80), "hexagon", 0),
    Brand("An Khương", "medicine", "DejaVuSerif-Bold", (180, 30, 40), (252, 250, 248), (30, 120, 70), (60, 20, 20), "shield", 1),
    Brand("Pharmavie", "medicine", "DejaVuSansCondensed-Bold", (30, 130, 70), (248, 252, 248), (20, 80, 160), (20, 60, 30), "diamond", 2),
    Brand("Voltix", "phone_charger", "DejaVuSans-Bold", (240, 120, 20), (35, 35, 40), (250, 250, 250), (230, 230, 230), "bolt", 0),
    Brand("Ampero", "phone_charger", "DejaVuSansCondensed-Bold", (20, 110, 200), (246, 248, 250), (40, 40, 50), (30, 30, 40), "circle", 1),
    Brand("Kaimo", "phone_charger", "DejaVuSans-Bold", (200, 30, 60), (245, 245, 245), (30, 30, 30), (30, 30, 30), "diamond", 2),
    Brand("Đắk Sương", "coffee", "DejaVuSerif-Bold", (110, 60, 30), (60, 35, 25), (220, 170, 80), (240, 225, 200), "circle", 0),
    Brand("Rang Mộc", "coffee", "DejaVuSans-Bold", (180, 40, 30), (30, 30, 30), (230, 190, 100), (235, 225, 210), "shield", 1),
    Brand("Buôn Mê Gold", "coffee", "DejaVuSerif-Bold", (200, 160, 60), (40, 25, 20), (160, 40, 30), (245, 230, 190), "hexagon", 2),
)  # fmt: skip


def brands_of(kind: str) -> list[Brand]:
    return [b for b in BRANDS if b.kind == kind]


def pick(rng: np.random.Generator, options: tuple | list):
    return options[int(rng.integers(len(options)))]


def genuine_design(kind: Kind, brand: Brand, rng: np.random.Generator) -> Design:
    """One genuine item of `brand`: the brand's fixed artwork plus this item's product line and lot."""
    month, year = int(rng.integers(1, 13)), int(rng.integers(2026, 2029))
    lot = f"Số lô: {int(rng.integers(230101, 251231))}  HSD: {month:02d}/{year}"
    return Design(
        kind=kind,
        brand=brand,
        brand_text=brand.name,
        brand_font=brand.font,
        product=pick(rng, kind.products),
        tagline=pick(rng, kind.taglines),
        net=pick(rng, kind.net),
        cert=pick(rng, kind.certs),
        small_print=kind.small_print,
        lot=lot,
        logo_shape=brand.logo,
        logo_colours=(brand.primary, brand.accent),
        logo_letter=brand.name[0],
        hologram="genuine" if brand.hologram else "missing",
    )
