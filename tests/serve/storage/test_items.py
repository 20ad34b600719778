"""Scored images: save/find reuse, evidence files, thumbnails, ids that cannot reach the disk."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event

from counterscan.errors import CounterscanError
from counterscan.hashing import sha256_bytes
from counterscan.serve.storage import NewImage, Store, is_item_id
from counterscan.serve.storage.evidence import THUMB_SIDE


def test_save_then_find_returns_the_same_record(store: Store, save_item) -> None:
    saved = save_item(1, score=0.87, priority="high")
    found = store.find_scored(saved.sha256, "test-model-1")
    assert found == saved
    assert found.score == pytest.approx(0.87)
    assert found.priority == "high"
    assert found.status == "unreviewed" and found.verdict is None
    assert found.created_at.tzinfo is not None
    assert is_item_id(found.id)
    np.testing.assert_array_equal(found.embedding, np.full(8, 0.25, dtype=np.float32))
    assert found.embedding.dtype == np.float32


def test_same_bytes_other_model_is_a_new_item(store: Store, save_item) -> None:
    first = save_item(1)
    second = save_item(1, model_version="test-model-2")
    assert first.id != second.id
    assert store.find_scored(first.sha256, "test-model-2") == second
    assert store.find_scored(first.sha256, "no-such-model") is None


def test_saving_the_same_bytes_twice_reuses_the_row(store: Store, save_item) -> None:
    first = save_item(3)
    again = save_item(3, score=0.1)  # a racing request that missed find_scored
    assert again.id == first.id
    assert store.queue(status="all")[1] == 1


def test_concurrent_saves_of_one_image_give_one_item(store: Store, save_item) -> None:
    ids: list[str] = []
    threads = [threading.Thread(target=lambda: ids.append(save_item(4).id)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 6 and len(set(ids)) == 1


def test_evidence_is_content_addressed_and_exact(store: Store, save_item, make_jpeg) -> None:
    data = make_jpeg(7, (200, 100))
    item = save_item(7, image_bytes=data)
    path = store.image_path(item)
    h = item.sha256
    assert path == store.files.data_dir / "evidence" / h[:2] / h[2:4] / h
    assert path.read_bytes() == data
    assert sha256_bytes(path.read_bytes()) == h
    # no temporary files left behind
    assert [p.name for p in path.parent.iterdir()] == [h]


def test_thumbnail_is_a_small_jpeg(store: Store, save_item, make_jpeg) -> None:
    item = save_item(8, image_bytes=make_jpeg(8, (1200, 600)))
    thumb = store.thumbnail_path(item)
    assert thumb is not None and thumb.is_file()
    with Image.open(thumb) as img:
        assert img.format == "JPEG"
        assert img.size == (THUMB_SIDE, THUMB_SIDE // 2)


def test_missing_thumbnail_is_rebuilt_from_the_evidence(store: Store, save_item) -> None:
    item = save_item(9)
    thumb = store.thumbnail_path(item)
    assert thumb is not None
    thumb.unlink()
    again = store.thumbnail_path(item)
    assert again == thumb and again.is_file()


def test_lazy_thumbnails_are_made_on_first_view(db_url: str, tmp_path: Path, make_jpeg) -> None:
    data = make_jpeg(10)
    with Store(db_url, tmp_path / "lazy", eager_thumbnails=False) as store:
        item = store.save_scored(
            image_bytes=data, sha256=sha256_bytes(data), phash="0" * 16, score=0.2,
            priority="low", model_version="m", width=96, height=64,
        )  # fmt: skip
        assert not store.files.thumbnail_path(item.sha256).exists()
        assert store.thumbnail_path(item).is_file()


def test_sha256_must_match_the_bytes(save_item, make_jpeg) -> None:
    with pytest.raises(ValueError, match="do not match"):
        save_item(1, sha256=sha256_bytes(make_jpeg(2)))
    with pytest.raises(ValueError, match="SHA-256"):
        save_item(1, sha256="../../etc/passwd")


def test_field_limits_are_one_line_errors(save_item) -> None:
    with pytest.raises(CounterscanError, match="listing_id is longer than 256"):
        save_item(1, listing_id="x" * 257)
    with pytest.raises(ValueError, match="priority"):
        save_item(1, priority="urgent")
    with pytest.raises(ValueError, match="finite"):
        save_item(1, score=float("nan"))


def test_optional_fields_may_be_missing(store: Store, save_item) -> None:
    item = save_item(11, listing_id=None, source=None, url=None, embedding=None)
    got = store.get_item(item.id)
    assert got is not None
    assert (got.listing_id, got.source, got.url, got.embedding) == (None, None, None, None)


@pytest.mark.parametrize(
    "bad_id", ["../etc/passwd", "..%2F..", "", "x" * 32, "0" * 31, "0" * 33, "A" * 32, None]
)
def test_malformed_ids_never_reach_the_database(store: Store, bad_id) -> None:
    assert store.get_item(bad_id) is None


def test_unknown_id_is_none(store: Store) -> None:
    assert store.get_item("0" * 32) is None


def test_to_api_has_the_item_shape(store: Store, save_item) -> None:
    item = save_item(12, priority="high", score=0.93)
    api = item.to_api()
    assert set(api) == {
        "id", "sha256", "phash", "score", "priority", "priority_reason", "model_version",
        "listing_id", "source",
        "url", "created_at", "status", "verdict", "image_url", "thumbnail_url", "heatmap_url",
        "width", "height",
    }  # fmt: skip
    assert api["image_url"] == f"/v1/items/{item.id}/image"
    assert api["created_at"].endswith("Z")
    assert api["status"] == "unreviewed" and api["verdict"] is None
    assert (api["width"], api["height"]) == (96, 64)
    full = store.get_item(item.id)
    assert full is not None and full.to_api()["verdicts"] == []
    assert full.to_api()["sightings"] == []


def test_phash_is_kept(store: Store, save_item) -> None:
    item = save_item(13)
    with Image.open(io.BytesIO(store.image_path(item).read_bytes())) as img:
        assert img.size == (item.width, item.height)
    assert len(item.phash) == 16 and int(item.phash, 16) >= 0


def test_thumbnail_from_already_decoded_pixels(store: Store, save_item, make_jpeg) -> None:
    store.eager_thumbnails = True  # made when saving (the service's default: on first view)
    data = make_jpeg(14, (800, 400))
    photo = np.zeros((400, 800, 3), np.uint8)  # black: proves the pixels, not the bytes, were used
    item = save_item(14, image_bytes=data, photo=photo)
    with Image.open(store.thumbnail_path(item)) as img:
        assert img.size == (THUMB_SIDE, THUMB_SIDE // 2)
        assert np.asarray(img).max() < 10


def test_sightings_keep_other_listings_of_a_reused_image(store: Store, save_item) -> None:
    item = save_item(15, listing_id="L-1", source="shop-a", url="https://a.example/1")
    same = dict(listing_id="L-1", source="shop-a", url="https://a.example/1")
    assert store.record_sighting(item, **same) is False  # the item's own listing
    assert store.record_sighting(item) is False  # nothing to note
    other = dict(listing_id="L-9", source="shop-b", url=None)
    assert store.record_sighting(item, **other) is True
    assert store.record_sighting(item, **other) is False  # already noted
    assert store.record_sighting(item, listing_id=None, source="shop-c") is True
    got = store.get_item(item.id)
    assert got is not None
    assert [(s.listing_id, s.source, s.url) for s in got.sightings or []] == [
        ("L-9", "shop-b", None),
        (None, "shop-c", None),
    ]
    assert got.to_api()["sightings"][0]["listing_id"] == "L-9"
    with pytest.raises(CounterscanError, match="listing_id is longer"):
        store.record_sighting(item, listing_id="x" * 300)


def _new_image(seed: int, make_jpeg, **overrides) -> NewImage:
    data = make_jpeg(seed)
    fields = {
        "sha256": sha256_bytes(data), "phash": "0" * 16, "score": 0.1 * (seed % 10),
        "priority": "medium", "model_version": "test-model-1", "listing_id": f"L{seed}",
        "width": 96, "height": 64, "embedding": np.full(8, seed, dtype=np.float32),
    } | overrides  # fmt: skip
    return NewImage(data, fields)


def test_save_many_is_one_transaction_and_refuses_only_the_bad_image(
    store: Store, make_jpeg
) -> None:
    commits: list[int] = []

    def count(_conn: object) -> None:
        commits.append(1)

    event.listen(store.engine, "commit", count)
    images = [_new_image(seed, make_jpeg) for seed in range(20, 25)]
    images[2] = _new_image(22, make_jpeg, listing_id="x" * 257)
    saved = store.save_scored_many(images)
    event.remove(store.engine, "commit", count)
    assert len(commits) == 1  # five images, one commit
    assert isinstance(saved[2], CounterscanError) and "listing_id" in str(saved[2])
    assert store.find_scored(images[2].fields["sha256"], "test-model-1") is None
    for image, record in zip(images[:2] + images[3:], saved[:2] + saved[3:], strict=True):
        found = store.find_scored(image.fields["sha256"], "test-model-1")
        assert found == record and found.listing_id == image.fields["listing_id"]
        assert store.files.image_path(found.sha256).read_bytes() == image.data


def test_save_many_reuses_rows_saved_before_and_keeps_the_rest(
    store: Store, save_item, make_jpeg
) -> None:
    """A batch holding bytes another request saved a moment earlier: the one-transaction
    insert fails on the unique key, and each image is then saved or reused on its own."""
    earlier = save_item(30, image_bytes=make_jpeg(30))
    images = [_new_image(seed, make_jpeg) for seed in (29, 30, 31)]
    first, again, last = store.save_scored_many(images)
    assert again == earlier
    assert store.find_scored(images[0].fields["sha256"], "test-model-1") == first
    assert store.find_scored(images[2].fields["sha256"], "test-model-1") == last
    assert len({first.id, again.id, last.id}) == 3


def test_find_many_answers_the_stored_results_in_one_query(store: Store, make_jpeg) -> None:
    images = [_new_image(seed, make_jpeg) for seed in (40, 41)]
    saved = store.save_scored_many(images)
    shas = [image.fields["sha256"] for image in images]
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    found = store.find_scored_many([shas[0], "f" * 64, shas[1], shas[0]], "test-model-1")
    assert len([sql for sql in statements if sql.lstrip().startswith("SELECT")]) == 1
    assert found == dict(zip(shas, saved, strict=True))
    assert store.find_scored_many(shas, "another-model") == {}
    assert store.find_scored_many([], "test-model-1") == {}
