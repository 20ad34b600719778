"""The pure signals of a listing's words and price (serve/sellers/signals.py)."""

from __future__ import annotations

import pytest

from counterscan.serve.sellers import signals


@pytest.mark.parametrize(
    "written",
    [
        "0912345678", "0912 345 678", "0912.345.678", "091-234-5678", "091 234 5678",
        "+84 912 345 678", "+84912345678", "84-912-345-678", "84 912.345.678", "(+84) 912345678",
        "zalo: 0912345678", "Zalo 0912.345.678", "zalo.me/0912345678",
    ],
)  # fmt: skip
def test_phone_spellings_are_one_number(written: str) -> None:
    assert signals.find_contacts(f"Liên hệ {written} để đặt hàng") == [("phone", "0912345678")]


@pytest.mark.parametrize(
    "text",
    [
        "giá 150000 đồng", "mã 12345678901234", "ship 02.2022", "0123456789 (not mobile)",
        "size 42 43 44 45 46 47 48 49 50", "số lượng 1.000.000 đôi",
    ],
)  # fmt: skip
def test_numbers_that_are_not_phones(text: str) -> None:
    assert signals.find_contacts(text) == []


def test_zalo_ids_and_several_contacts() -> None:
    found = signals.find_contacts("Zalo: ShopGiay_HN, hotline 0987.654.321", "zalo id shop.b")
    assert found == [("phone", "0987654321"), ("zalo", "shopgiay_hn"), ("zalo", "shop.b")]


@pytest.mark.parametrize(
    ("written", "brand"),
    [
        ("Giày N.i.k.e Air", "nike"), ("Nik3 chính hãng", "nike"), ("giày ni ke", "nike"),
        ("N I K E", "nike"), ("adidass superstar", "adidas"), ("Ađiđas", None),
        ("Níke", "nike"), ("G.U.C.C.I túi", "gucci"), ("R0lex", "rolex"), ("Ch@nel", "chanel"),
        ("Louis Vuiton", "louis vuitton"), ("L.o.u.i.s V.u.i.t.t.o.n", "louis vuitton"),
    ],
)  # fmt: skip
def test_disguised_brands(written: str, brand: str | None) -> None:
    found = signals.find_disguised_brands(written)
    assert [b for b, _ in found] == ([brand] if brand else [])


@pytest.mark.parametrize(
    "text",
    [
        "Giày Nike chính hãng",
        "NIKE.",
        "túi Louis Vuitton",
        "L.V",
        "mini kettle",
        "chè Thái Nguyên",
        "ấm siêu tốc",
        "nikel",
    ],
)
def test_plain_brands_and_ordinary_words_are_no_signal(text: str) -> None:
    assert signals.find_disguised_brands(text) == []


def test_low_price_against_the_median_of_genuine() -> None:
    genuine = [2_000_000, 2_400_000, 2_200_000]
    reason = signals.price_reason(900_000, genuine, ratio=0.5, min_samples=3)
    assert reason is not None and reason["signal"] == "low_price"
    assert "41%" in reason["detail"] and "2,200,000" in reason["detail"]
    assert signals.price_reason(1_200_000, genuine, ratio=0.5, min_samples=3) is None
    assert signals.price_reason(900_000, genuine[:2], ratio=0.5, min_samples=3) is None
    assert signals.price_reason(None, genuine, ratio=0.5, min_samples=3) is None
