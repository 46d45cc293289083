"""Image tables as Hugging Face writes them, made by the tests with pyarrow.

`write_parquet`: a Parquet file with an Image feature (a struct of PNG `bytes` and a
`path`) and a ClassLabel, the features in the schema's "huggingface" metadata, as the
Hub serves them. `write_saved`: a `datasets.Dataset.save_to_disk` folder: the same
table as Arrow IPC stream files, `state.json` listing them and `dataset_info.json`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def png(pixels: np.ndarray) -> bytes:
    """PNG bytes of (H, W) or (H, W, 3) uint8 pixels, or (H, W) uint16 (a 16-bit grey)."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def table(
    images: list[bytes | None],
    labels: np.ndarray | None,
    class_names: list[str] | None = None,
    image_column: str = "image",
):
    """A pyarrow Table of encoded images (and int labels), with Hugging Face features."""
    features: dict = {image_column: {"_type": "Image"}}
    columns: dict = {image_column: [{"bytes": b, "path": f"{i}.png"} for i, b in enumerate(images)]}
    fields = [(image_column, IMAGE_TYPE)]
    if labels is not None:
        features["label"] = {"_type": "ClassLabel", "names": class_names or []}
        columns["label"] = labels.tolist()
        fields.append(("label", pa.int64()))
    meta = {b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    return pa.table(columns, schema=pa.schema(fields, metadata=meta))


def write_parquet(path: Path, t, row_group_size: int = 64) -> Path:
    pq.write_table(t, path, row_group_size=row_group_size)
    return path


def write_saved(folder: Path, t, files: int = 2, batch_rows: int = 32) -> Path:
    """A save_to_disk folder of `t` split over `files` Arrow stream files."""
    folder.mkdir(parents=True, exist_ok=True)
    names, per = [], -(-t.num_rows // files)
    for i in range(files):
        name = f"data-{i:05d}-of-{files:05d}.arrow"
        part = t.slice(i * per, per)
        with pa.OSFile(str(folder / name), "wb") as f, pa.ipc.new_stream(f, t.schema) as w:
            for batch in part.to_batches(max_chunksize=batch_rows):
                w.write_batch(batch)
        names.append({"filename": name})
    (folder / "state.json").write_text(json.dumps({"_data_files": names, "_split": "train"}))
    info = json.loads(t.schema.metadata[b"huggingface"])["info"]
    (folder / "dataset_info.json").write_text(json.dumps(info))
    return folder
