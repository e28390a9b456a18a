"""PROJJSON of the EPSG codes panopticon builds without PROJ (src/embed/output/projjson.rs),
as pyproj writes them, less the informational scope/area/bbox: the Rust test compares to these.

    pip install pyproj==3.7.2   # PROJ 9.5.1
    python scripts/gen_projjson_fixtures.py
"""

import json
import pathlib

import pyproj

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "projjson"

for code in (4326, 3857, 32616, 32733, 32601, 32760):
    crs = pyproj.CRS.from_epsg(code).to_json_dict()
    for key in ("scope", "area", "bbox", "usages"):
        crs.pop(key, None)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{code}.json").write_text(json.dumps(crs, indent=1) + "\n")
    print(code, crs["name"])
