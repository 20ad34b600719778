"""POST /v1/score (one image, multipart) and POST /v1/score/batch (multipart or JSON).

The batch endpoint reads the body itself because it accepts two encodings; its OpenAPI entry
(schemas.BATCH_REQUEST) describes both. A malformed request as a whole is 422; a bad image
inside a good batch only marks its own result `ok: false`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from counterscan.errors import CounterscanError
from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import ScoringDep, SettingsDep, StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.schemas import NUMBER_FIELDS, TEXT_FIELDS
from counterscan.serve.api.security import Principal, require_role
from counterscan.serve.pipeline.job import Submission
from counterscan.serve.pipeline.prepare import ImageRejected
from counterscan.serve.settings import Settings
from counterscan.serve.similar.service import SimilarDep
from counterscan.serve.storage.fields import check_text
from counterscan.serve.storage.listings import check_listing_fields

router = APIRouter(prefix="/v1", tags=["scoring"])

TRUE_WORDS = ("1", "true", "yes", "on")
# A photo's own problems (415 not an image, 413 too large) as well as the request's.
SCORE_ERRORS = error_responses(401, 403, 413, 415, 422, 503)


@router.post(
    "/score", summary="Score one image", response_model=m.ScoreResult, responses=SCORE_ERRORS
)
async def score_one(
    image: Annotated[UploadFile, File(description="the photo (JPEG, PNG, WebP, HEIC, ...)")],
    principal: Annotated[Principal, require_role("crawler", "inspector")],
    scoring: ScoringDep,
    store: StoreDep,
    listing_id: Annotated[str | None, Form()] = None,
    source: Annotated[str | None, Form()] = None,
    url: Annotated[str | None, Form()] = None,
    seller_id: Annotated[str | None, Form()] = None,
    seller_name: Annotated[str | None, Form()] = None,
    title: Annotated[str | None, Form(description="the listing's title")] = None,
    text: Annotated[str | None, Form(description="the listing's description")] = None,
    price: Annotated[str | None, Form(description="the listing's price, VND")] = None,
    category: Annotated[str | None, Form(description='e.g. "Nike Air Force 1"')] = None,
    heatmap: Annotated[str | None, Form(description='"true" or "1" for a heat map')] = None,
    similar: SimilarDep = None,
) -> dict[str, Any]:
    sent = {
        "listing_id": listing_id,
        "source": source,
        "url": url,
        "seller_id": seller_id,
        "seller_name": seller_name,
        "title": title,
        "text": text,
        "price": price,
        "category": category,
    }
    try:
        fields = _checked({k: _blank_none(v) for k, v in sent.items()})
    except CounterscanError as e:
        raise HTTPException(422, str(e)) from None
    data, size = await _read_upload(image, scoring.limits.max_image_bytes)
    sub = Submission(data, **fields, size=size)
    (outcome,) = await scoring.score([sub], store, heatmap=_is_true(heatmap), similar=similar)
    if isinstance(outcome, ImageRejected):
        raise HTTPException(outcome.status, outcome.detail)
    return outcome


@router.post(
    "/score/batch",
    summary="Score a batch of images",
    response_model=m.BatchResult,
    responses=SCORE_ERRORS,
    openapi_extra=m.BATCH_REQUEST,
)
async def score_batch(
    request: Request,
    principal: Annotated[Principal, require_role("crawler", "inspector")],
    scoring: ScoringDep,
    store: StoreDep,
    settings: SettingsDep,
    similar: SimilarDep = None,
) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        items = await _multipart_items(request, settings, scoring.limits.max_image_bytes)
    elif kind == "application/json" or kind.endswith("+json"):
        items = _json_items(await request.body(), settings.max_batch_images)
    else:
        raise HTTPException(
            415, "send the batch as multipart/form-data (field images) or application/json"
        )
    good = [(i, s) for i, s in enumerate(items) if isinstance(s, Submission)]
    outcomes = await scoring.score([s for _, s in good], store, similar=similar)
    results: list[Any] = list(items)
    for (i, _), outcome in zip(good, outcomes, strict=True):
        results[i] = outcome
    return {
        "results": [_batch_entry(i, r) for i, r in enumerate(results)],
        "model_version": scoring.model.contract.model_version,
    }


def _batch_entry(index: int, result: dict[str, Any] | ImageRejected) -> dict[str, Any]:
    if isinstance(result, ImageRejected):
        return {"index": index, "ok": False, "error": result.to_api()}
    return {"index": index, "ok": True, **result}


async def _multipart_items(
    request: Request, settings: Settings, max_image_bytes: int
) -> list[Submission | ImageRejected]:
    limit = settings.max_batch_images
    try:
        form = await request.form(max_files=limit, max_fields=4 * limit + 16)
    except StarletteHTTPException as e:
        # Starlette words it "Too many files..." with a 400; for us that is a size limit.
        if e.status_code == 400 and "too many files" in str(e.detail).lower():
            raise HTTPException(413, f"a batch may hold at most {limit} images") from None
        raise
    try:
        return await _form_items(form, max_image_bytes)
    finally:
        await form.close()


async def _form_items(form: FormData, max_image_bytes: int) -> list[Submission | ImageRejected]:
    images = form.getlist("images")
    if not images:
        raise HTTPException(422, "no images: send the files in repeated multipart fields images")
    texts = {f: form.getlist(f) for f in (*TEXT_FIELDS, *NUMBER_FIELDS)}
    items: list[Submission | ImageRejected] = []
    for i, part in enumerate(images):
        fields = {f: _text_at(values, i) for f, values in texts.items()}
        if isinstance(part, str):
            items.append(ImageRejected(422, "the field images must hold a file, not text"))
            continue
        try:
            checked = _checked(fields)
        except CounterscanError as e:
            items.append(ImageRejected(422, str(e)))
            continue
        data, size = await _read_upload(part, max_image_bytes)
        items.append(Submission(data, **checked, size=size))
    return items


def _json_items(body: bytes, limit: int) -> list[Submission | ImageRejected]:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HTTPException(422, f"the body is not valid JSON: {e}") from None
    except RecursionError:
        raise HTTPException(422, "the body is not valid JSON: nested too deeply") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise HTTPException(422, 'the JSON body must be an object with a list "items"')
    raw_items = payload["items"]
    if not raw_items:
        raise HTTPException(422, 'the list "items" is empty')
    if len(raw_items) > limit:
        raise HTTPException(413, f"a batch may hold at most {limit} images, got {len(raw_items)}")
    return [_json_item(item) for item in raw_items]


def _json_item(item: Any) -> Submission | ImageRejected:
    if not isinstance(item, dict):
        return ImageRejected(422, "each item must be a JSON object")
    encoded = item.get("image_base64")
    if not isinstance(encoded, str) or not encoded:
        return ImageRejected(422, "the item has no image_base64 string")
    fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = item.get(name)
        if value is not None and not isinstance(value, str | int):
            return ImageRejected(422, f"{name} must be a string")
        fields[name] = _blank_none(None if value is None else str(value))
    fields["price"] = item.get("price")
    try:
        fields = _checked(fields)
    except CounterscanError as e:
        return ImageRejected(422, str(e))
    try:
        data = base64.b64decode(_strip_data_url(encoded), validate=True)
    except (binascii.Error, ValueError):
        return ImageRejected(422, "image_base64 is not valid base64")
    return Submission(data, **fields)


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """The request's listing fields, checked against storage/fields.MAX_LEN; raises
    CounterscanError naming the field (answered 422)."""
    where = {name: check_text(name, fields.get(name)) for name in ("listing_id", "source", "url")}
    return where | check_listing_fields(fields)


def _strip_data_url(encoded: str) -> str:
    """Accept `data:image/jpeg;base64,...` as well as bare base64."""
    if encoded.startswith("data:") and "," in encoded:
        return encoded.split(",", 1)[1]
    return encoded


async def _read_upload(upload: UploadFile, limit: int) -> tuple[bytes, int | None]:
    """The file's bytes, read no further than one past the limit, and its size when the form
    parser counted it. The pipeline refuses one over the limit (413): the size is checked there,
    once per image, whatever the encoding."""
    return await upload.read(limit + 1), upload.size


def _text_at(values: list[Any], index: int) -> str | None:
    if index < len(values) and isinstance(values[index], str):
        return _blank_none(values[index])
    return None


def _blank_none(value: str | None) -> str | None:
    return value if value else None


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_WORDS
