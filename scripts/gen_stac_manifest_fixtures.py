"""Writes the STAC manifests of tests/cli_embed_stac_manifest.rs into
tests/fixtures/data/stac/manifest/: `items.json`, an ItemCollection of 8 items made from
samples/stac/item.json (items 0-5 each lack one of the six band assets, so their embeddings
differ; 6 and 7 have all six), and `items.parquet`, the same items as stac-geoparquet written
by the `stac-geoparquet` package (pip install stac-geoparquet==0.7.0 pyarrow). Asset hrefs are
relative to the manifests' folder (`../../../../../samples/stac/blue.tif`), so the tests also
check that hrefs resolve against the manifest's location."""

import copy
import json
from pathlib import Path

import pyarrow.parquet as pq
import stac_geoparquet.arrow as sga

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/data/stac/manifest"
UP = "../../../../../samples/stac/"

sample = json.loads((ROOT / "samples/stac/item.json").read_text())
keys = list(sample["assets"])
assert len(keys) == 6, keys
items = []
for i in range(8):
    item = copy.deepcopy(sample)
    item["id"] = f"LC08_sample_{i:02d}"
    item["properties"]["datetime"] = f"2015-01-{i + 1:02d}T16:15:00Z"
    if i < 6:
        del item["assets"][keys[i]]
    for asset in item["assets"].values():
        asset["href"] = UP + asset["href"].removeprefix("./")
    items.append(item)

OUT.mkdir(parents=True, exist_ok=True)
collection = {"type": "FeatureCollection", "features": items}
(OUT / "items.json").write_text(json.dumps(collection, indent=1) + "\n")

table = sga.parse_stac_items_to_arrow(items).read_all()
sga.to_parquet(table, OUT / "items.parquet")
# What a reader must undo: one row per item, properties as columns, assets a struct.
print(pq.read_schema(OUT / "items.parquet"))
