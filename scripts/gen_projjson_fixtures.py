"""The PROJJSON table panopticon writes GeoParquet/Zarr CRSs from without PROJ at run time
(src/embed/output/projjson_epsg.bin, read by src/embed/output/projjson.rs), and the pyproj
fixtures the Rust tests compare it to (tests/fixtures/projjson/{code}.json).

The table holds every EPSG projected, geographic 2D and geographic 3D CRS in pyproj's proj.db,
deprecated codes included (old GeoTIFFs carry them), as pyproj writes them less the
informational `scope`/`area`/`bbox`/`usages`. Layout (little-endian):

    b"PJJ1" | u32 blocks | blocks × (u32 first code, u32 offset, u32 length) | zstd frames

Each frame decompresses to lines `{code}\\t{compact PROJJSON}\\n`, codes ascending, ENTRIES
codes per frame, so a look-up decompresses one frame (~200 kB), not the whole table (~10 MB).

    pip install pyproj==3.7.2 zstandard==0.23.0   # PROJ 9.5.1
    python scripts/gen_projjson_fixtures.py
"""

import json
import pathlib
import struct

import pyproj
import zstandard
from pyproj.database import query_crs_info
from pyproj.enums import PJType

ROOT = pathlib.Path(__file__).resolve().parent.parent
TABLE = ROOT / "src" / "embed" / "output" / "projjson_epsg.bin"
FIXTURES = ROOT / "tests" / "fixtures" / "projjson"
ENTRIES = 128
LEVEL = 19

# Fixtures: one or more codes of each family the table must get right.
FIXTURE_CODES = (
    4326, 3857, 32616, 32733, 32601, 32760,  # WGS 84, Web Mercator, WGS 84 / UTM
    32661, 32761,  # WGS 84 / UPS North, South
    3035, 3031, 3413, 6933, 3395,  # LAEA Europe, Antarctic/Arctic polar stereo, EASE 2, Mercator
    5070, 26915, 2154, 25832, 26715,  # CONUS Albers, NAD83 / UTM, Lambert-93, ETRS89 / UTM, NAD27
    27700, 28992, 3577, 2056, 7855, 2193,  # BNG, RD New, Australian Albers, LV95, MGA 2020, NZTM
    31467, 5514, 3067,  # DHDN / GK, S-JTSK / Krovak East North, ETRS-TM35FIN
    4258, 4269, 7844, 4979,  # geographic: ETRS89, NAD83, GDA2020, WGS 84 (3D)
    3785,  # deprecated (Popular Visualisation CRS / Mercator)
)


def projjson(code):
    crs = pyproj.CRS.from_epsg(code).to_json_dict()
    for key in ("scope", "area", "bbox", "usages"):
        crs.pop(key, None)
    return crs


def main():
    print(f"pyproj {pyproj.__version__}, PROJ {pyproj.proj_version_str}")
    kinds = [PJType.PROJECTED_CRS, PJType.GEOGRAPHIC_2D_CRS, PJType.GEOGRAPHIC_3D_CRS]
    infos = query_crs_info(auth_name="EPSG", pj_types=kinds, allow_deprecated=True)
    codes = sorted({int(i.code) for i in infos})
    lines = [
        f"{c}\t{json.dumps(projjson(c), separators=(',', ':'), ensure_ascii=False)}\n"
        for c in codes
    ]
    blocks = [(codes[i], "".join(lines[i : i + ENTRIES]).encode()) for i in range(0, len(codes), ENTRIES)]
    cctx = zstandard.ZstdCompressor(level=LEVEL)
    frames = [cctx.compress(raw) for _, raw in blocks]
    head = 8 + 12 * len(blocks)
    index, offset = b"", head
    for (first, _), frame in zip(blocks, frames):
        index += struct.pack("<III", first, offset, len(frame))
        offset += len(frame)
    out = b"PJJ1" + struct.pack("<I", len(blocks)) + index + b"".join(frames)
    TABLE.write_bytes(out)
    raw = sum(len(r) for _, r in blocks)
    print(f"{TABLE.relative_to(ROOT)}: {len(codes)} CRSs, {raw} bytes of JSON, {len(out)} bytes")

    FIXTURES.mkdir(parents=True, exist_ok=True)
    for code in FIXTURE_CODES:
        assert code in codes, code
        crs = projjson(code)
        (FIXTURES / f"{code}.json").write_text(json.dumps(crs, indent=1, ensure_ascii=False) + "\n")
        print(code, crs["name"])


if __name__ == "__main__":
    main()
