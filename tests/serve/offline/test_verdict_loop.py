"""The loop closed: photos scored by the service, verdicts through the API, `counterscan data
from-verdicts`, `counterscan train` on the export, and the new model served again.

Kept tiny (60 photos of 96 px, a 64 px model) so it runs in the default suite; SQLite only, the
export itself is tested on both databases in tests/serve/offline/test_verdict_export.py. The retrained model must
rank the verdict photos by their verdicts: a retrain that ignored the verdicts would not.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from counterscan.cli import main
from counterscan.datasets.reader import read_dataset
from counterscan.training.metrics import roc_auc

PER_CLASS = 30
# Measured, ROC-AUC of the retrained model on the 60 verdict photos: 12 epochs (the default
# recipe takes two optimizer steps per epoch here) gave 1.0 for seeds 0-3 (seed 0 is the
# default). A retrain that ignores the verdicts, simulated by dealing the same labels out at
# random, gave 0.50-0.87 over three shuffles: the red square is so salient that even random
# labels can make the model rank by it, so chance (0.5) is not the line; 0.95 is.
EPOCHS = "12"
VERDICT_PHOTOS_MIN_AUC = 0.95


def listing_photo(counterfeit: bool, seed: int, size: int = 96) -> bytes:
    """A blue disc on a smooth background; counterfeits also carry a red square."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(60, 200, (3, 3, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    cx, cy = rng.integers(25, size - 25, 2)
    draw.ellipse((cx - 18, cy - 18, cx + 18, cy + 18), fill=(30, 60, 200))
    if counterfeit:
        x, y = rng.integers(10, size - 40, 2)
        draw.rectangle((x, y, x + 28, y + 28), fill=(230, 20, 20))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_verdicts_train_a_model_that_serves(
    make_client: Callable[..., Any], tmp_path: Path, capsys: Any
) -> None:
    data_dir, db = tmp_path / "store", f"sqlite:///{tmp_path / 'loop.db'}"
    client = make_client(db=db, data_dir=data_dir)

    # 1. a crawler batch: listing i has two photos, all of one kind
    truth = [(label, i) for label in ("genuine", "counterfeit") for i in range(PER_CLASS)]
    items = [
        {
            "image_base64": base64.b64encode(
                listing_photo(label == "counterfeit", i + 1000 * (label == "counterfeit"))
            ).decode(),
            "listing_id": f"{label}-{i // 2}",
            "source": "shop-a",
        }
        for label, i in truth
    ]
    results = client.post("/v1/score/batch", json={"items": items}).json()["results"]
    assert all(r["ok"] for r in results)

    # 2. inspectors give verdicts; one changes their mind twice (the latest counts)
    for (label, _), result in zip(truth, results, strict=True):
        r = client.post(f"/v1/items/{result['id']}/verdict", json={"verdict": label})
        assert r.status_code == 200
    first = results[0]["id"]
    client.post(f"/v1/items/{first}/verdict", json={"verdict": "counterfeit"})
    client.post(f"/v1/items/{first}/verdict", json={"verdict": "genuine", "note": "receipt"})
    assert client.get("/v1/queue").json()["total"] == 0

    # 3. export
    out = tmp_path / "from-verdicts"
    argv = ["data", "from-verdicts", "--db", db, "--data-dir", str(data_dir), str(out)]
    assert main(argv) == 0
    dataset = read_dataset(out)
    assert dataset.label_counts() == {"genuine": PER_CLASS, "counterfeit": PER_CLASS}
    assert len({s.group for s in dataset.samples}) == PER_CLASS  # two photos per listing

    # 4. train on it
    run = tmp_path / "run"
    summary_file = tmp_path / "train.json"
    train = ["train", str(out), "--out", str(run), "--epochs", EPOCHS, "--image-size", "64"]
    code = main([*train, "--quiet", "--json", str(summary_file)])
    assert code == 0, capsys.readouterr().err
    assert (run / "model.onnx").is_file()
    assert json.loads(summary_file.read_text())

    # 5. the new model serves, its scores land in the same store, and it ranks the photos the
    # inspectors judged by their (latest) verdicts
    retrained = make_client(db=db, data_dir=data_dir, model=run / "model.onnx")
    new = retrained.post("/v1/score", files={"image": ("x.jpg", listing_photo(True, 5000))})
    assert new.status_code == 200, new.text
    assert new.json()["model_version"] != results[0]["model_version"]
    again = retrained.post("/v1/score/batch", json={"items": items}).json()["results"]
    assert all(r["ok"] and r["model_version"] == new.json()["model_version"] for r in again)
    verdicts = [label == "counterfeit" for label, _ in truth]
    auc = roc_auc(verdicts, [r["score"] for r in again])
    assert auc is not None and auc >= VERDICT_PHOTOS_MIN_AUC, auc
