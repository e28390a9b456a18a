#!/usr/bin/env python3
"""Generate the sensor registry data of `panopticon-data` from the porting spec.

Reads spec §5.2 (satellite band tables) and §5.3 (dataset band lists) of
`panopticon-spec.md` and writes:

* `configs/sensors/<sensor>.toml`  one file per sensor (compiled into the crate),
* `configs/sensors/datasets.toml`  the per-dataset band lists,
* `tests/fixtures/data/sensors/spec_chn_ids.toml`  the int16 chn_ids the spec lists, per
  sensor band (table column) and per dataset (`chn_ids:` line), used as the independent
  expectation by `crates/panopticon-data/tests/sensors.rs`.

Numbers are copied as the spec's decimal strings (never re-formatted through floats), so
the TOML holds exactly the upstream YAML values.

Usage: python3 scripts/gen_sensor_tables.py [path/to/panopticon-spec.md]
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/design/panopticon-spec.md")

# Upstream satellite table -> (file stem / registry name, aliases, description, band filter).
SENSORS = {
    "sentinel1": ("sentinel1", [], "Sentinel-1 C-band SAR (GRD backscatter)", None),
    "sentinel2": ("sentinel2_l1c", ["sentinel2"], "Sentinel-2 MSI, Level-1C (top of atmosphere)", None),
    "landsat9": ("landsat8_9", ["landsat9", "landsat8"], "Landsat 8/9 OLI + TIRS", None),
    "qb2_ge1": ("qb2_ge1", [], "QuickBird-2 / GeoEye-1 4-band multispectral", None),
    "wv23": ("wv23", [], "WorldView-2/3 8-band multispectral (VNIR)", None),
    "superdove": ("superdove", [], "PlanetScope SuperDove (PSB.SD)", None),
    "drone": ("drone", [], "DJI Phantom 4 Multispectral drone camera", None),
    "debug": ("debug", [], "Synthetic 5-band sensor used by upstream's debug configs", None),
    "enmap": ("enmap", [], "EnMAP hyperspectral imager (VNIR + SWIR)", None),
    "aviris": ("aviris", [], "AVIRIS airborne hyperspectral imager", None),
    "intuition": ("intuition", [], "Intuition-1 hyperspectral imager (HYPERVIEW challenge)", None),
    "neon_aop": ("neon_aop", [], "NEON Airborne Observation Platform (RGB camera + imaging spectrometer)", None),
}
# Derived sensor: ESA L2A products drop B10 (cirrus); upstream uses the same `sentinel2`
# table for L2A data (BigEarthNet, EuroSAT-L2A), so the values are identical.
L2A = ("sentinel2_l2a", [], "Sentinel-2 MSI, Level-2A (surface reflectance; no B10)")


def num(s):
    """Keep the spec's decimal text; make integers TOML floats."""
    s = s.strip()
    float(s)  # validate
    return s if ("." in s or "e" in s.lower()) else s + ".0"


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_spec(text):
    sats = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"#### satellite `(\w+)` \((\d+) bands\)\s*(\{.*\})?\s*$", lines[i])
        if not m:
            i += 1
            continue
        name, count, meta = m.group(1), int(m.group(2)), ast.literal_eval(m.group(3) or "{}")
        bands = []
        i += 1
        while i < len(lines) and not lines[i].startswith("####") and not lines[i].startswith("### "):
            ln = lines[i]
            if ln.startswith("| ") and not ln.startswith("| band key") and not ln.startswith("|---"):
                cells = [c.strip() for c in ln.strip().strip("|").split("|")]
                key, bname, mu, sigma, cid, gsd, extra = cells
                bands.append(dict(key=key, name=bname, mu=mu, sigma=sigma, chn_id=int(cid),
                                  gsd=gsd or None, extra=ast.literal_eval(extra) if extra else {}))
            elif re.match(r"^[A-Za-z0-9]+:[-0-9.]+/[-0-9.]+", ln):
                for tok in ln.split():
                    key, rest = tok.split(":")
                    mu, sigma = rest.split("/")
                    bands.append(dict(key=key, name=None, mu=mu, sigma=sigma,
                                      chn_id=int(float(mu)), gsd=None, extra={}))
            i += 1
        assert len(bands) == count, (name, len(bands), count)
        sats[name] = (meta, bands)
    return sats


def expand(group):
    """`sat/[B001..B126, red]` or `sat/B01 {...}` -> list of band ids."""
    m = re.match(r"^(\w+)/\[(.*)\]$", group.strip())
    if not m:
        return [group.strip()]
    sat, body = m.groups()
    out = []
    for part in body.split(","):
        part = part.strip()
        r = re.match(r"^([A-Za-z]+)(\d+)\.\.([A-Za-z]+)(\d+)$", part)
        if r:
            width = len(r.group(2))
            for k in range(int(r.group(2)), int(r.group(4)) + 1):
                out.append(f"{sat}/{r.group(1)}{k:0{width}d}")
        else:
            out.append(f"{sat}/{part}")
    return out


def split_bands(s):
    """Split a §5.3 `bands:` line on commas outside brackets/braces.

    Returns (band ids, per-band img_size or None); other per-band keys are an error.
    """
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    out, sizes = [], []
    for p in parts:
        m = re.search(r"\{[^}]*\}", p)
        extra = ast.literal_eval(m.group(0)) if m else {}
        assert set(extra) <= {"img_size"}, extra
        ids = expand(re.sub(r"\{[^}]*\}", "", p).strip())
        out.extend(ids)
        sizes.extend([extra.get("img_size")] * len(ids))
    return out, (sizes if any(x is not None for x in sizes) else None)


def parse_datasets(text):
    sec = text.split("### 5.3", 1)[1].split("### 5.4", 1)[0]
    ds = []
    for m in re.finditer(r"\* \*\*(\S+)\*\* \((\d+) bands; (\{.*\})\):\n  bands: (.*)\n  chn_ids: \[(.*)\]", sec):
        name, count, meta, bands, ids = m.groups()
        bands, sizes = split_bands(bands)
        ids = [int(x) for x in ids.split(",")]
        assert len(bands) == int(count) == len(ids), (name, len(bands), count, len(ids))
        assert sizes is None or None not in sizes, name
        ds.append((name, ast.literal_eval(meta), bands, sizes, ids))
    return ds


def wrap(items, indent="    ", width=96):
    lines, cur = [], indent
    for it in items:
        piece = it + ", "
        if len(cur) + len(piece) > width and cur.strip():
            lines.append(cur.rstrip())
            cur = indent
        cur += piece
    if cur.strip():
        lines.append(cur.rstrip())
    return "\n".join(lines)


# STAC/EO common names (stac-extensions/eo "Common Band Names"), so `--bands red,nir08` and
# STAC items whose assets only carry a common name resolve to a registry band.
_S2_COMMON = {"B01": "coastal", "B02": "blue", "B03": "green", "B04": "red", "B05": "rededge",
              "B06": "rededge", "B07": "rededge", "B08": "nir", "B8A": "nir08", "B09": "nir09",
              "B10": "cirrus", "B11": "swir16", "B12": "swir22"}
COMMON_NAMES = {
    "sentinel2_l1c": _S2_COMMON,
    "sentinel2_l2a": _S2_COMMON,
    "landsat8_9": {"B01": "coastal", "B02": "blue", "B03": "green", "B04": "red", "B05": "nir08",
                   "B06": "swir16", "B07": "swir22", "B08": "pan", "B09": "cirrus",
                   "B10": "lwir11", "B11": "lwir12"},
}

def write_sensor(path, reg_name, aliases, desc, upstream, meta, bands):
    out = [f"# Generated by scripts/gen_sensor_tables.py from spec §5.2 (upstream",
           f"# configs/data/satellites/{upstream}.yaml, Panopticon-FM/panopticon). Do not edit by hand.",
           f"name = {toml_str(reg_name)}"]
    if reg_name == L2A[0]:
        out.insert(2, "# Derived: the upstream sentinel2 (L1C) table without B10, which L2A products drop.")
    out.append("aliases = [" + ", ".join(toml_str(a) for a in aliases) + "]")
    out.append(f"description = {toml_str(desc)}")
    out.append(f"upstream = {toml_str(upstream)}")
    for k in ("instrument", "processing_level", "level", "source"):
        if k in meta:
            key = "processing_level" if k == "level" else k
            out.append(f"{key} = {toml_str(str(meta[k]))}")
    if "GSD" in meta:
        out.append(f"gsd = {num(str(meta['GSD']))}")
    out.append("bands = [")
    for b in bands:
        fields = [f"key = {toml_str(b['key'])}"]
        if b["name"]:
            fields.append(f"name = {toml_str(b['name'])}")
        common = COMMON_NAMES.get(reg_name, {}).get(b["key"])
        if common:
            fields.append(f"common_name = {toml_str(common)}")
        fields.append(f"mu = {num(b['mu'])}")
        fields.append(f"sigma = {num(b['sigma'])}")
        if b["gsd"]:
            fields.append(f"gsd = {num(b['gsd'])}")
        for k, v in b["extra"].items():
            if k == "orbit":
                fields.append(f"orbit = {toml_str(v.lower())}")
                fields.append(f"polarisation = {toml_str(b['name'])}")
            elif k in ("img_size", "p"):
                fields.append(f"{k} = {int(v)}")
            else:
                raise ValueError(f"unhandled extra {k}")
        out.append("    { " + ", ".join(fields) + " },")
    out.append("]")
    path.write_text("\n".join(out) + "\n")


DS_KEYS = {"modality": "s", "task_id": "s", "num_classes": "i", "num_variables": "i", "gsd": "f",
           "img_size": "i", "constant_gsd": "b", "rgb_bands": "l", "band_subselect_by_geob_id": "l"}


def main():
    text = SPEC.read_text()
    sats = parse_spec(text)
    assert set(sats) == set(SENSORS), set(sats) ^ set(SENSORS)
    exp = ["# Generated by scripts/gen_sensor_tables.py: the int16 chn_ids spec §5.2/§5.3 lists.",
           "# Independent expectation for tests/sensors.rs; not read by the library.", "", "[sensors]"]
    for up, (reg, aliases, desc, _) in SENSORS.items():
        meta, bands = sats[up]
        write_sensor(ROOT / f"configs/sensors/{reg}.toml", reg, aliases, desc, up, meta, bands)
        exp.append(f"{reg} = [{', '.join(str(b['chn_id']) for b in bands)}]")
        if up == "sentinel2":
            l2a = [b for b in bands if b["key"] != "B10"]
            write_sensor(ROOT / f"configs/sensors/{L2A[0]}.toml", L2A[0], L2A[1], L2A[2], up, meta, l2a)
            exp.append(f"{L2A[0]} = [{', '.join(str(b['chn_id']) for b in l2a)}]")
    exp += ["", "[datasets]"]
    out = ["# Generated by scripts/gen_sensor_tables.py from spec §5.3 (upstream",
           "# configs/data/{pretrain,eval}/*.yaml, Panopticon-FM/panopticon). Do not edit by hand.",
           "# Band ids are `<upstream satellite>/<band key>` exactly as upstream writes them.",
           "# `band_img_size` holds upstream's per-band `img_size` (satlas_*), aligned with `bands`."]
    for name, meta, bands, sizes, ids in parse_datasets(text):
        out += ["", f"[{toml_str(name)}]"]
        for k, v in meta.items():
            t = DS_KEYS.get(k)
            if t is None or (k == "img_size" and not isinstance(v, int)):
                out.append(f"# {k} = {v!r} (not carried over)")
            elif t == "s":
                out.append(f"{k} = {toml_str(v)}")
            elif t == "i":
                out.append(f"{k} = {int(v)}")
            elif t == "f":
                out.append(f"{k} = {num(str(v))}")
            elif t == "b":
                out.append(f"{k} = {'true' if v else 'false'}")
            else:
                out.append(f"{k} = [{', '.join(toml_str(x) for x in v)}]")
        out.append("bands = [\n" + wrap([toml_str(b) for b in bands]) + "\n]")
        if sizes:
            out.append("band_img_size = [" + ", ".join(map(str, sizes)) + "]")
        exp.append(f"{toml_str(name)} = [{', '.join(map(str, ids))}]")
    (ROOT / "configs/sensors/datasets.toml").write_text("\n".join(out) + "\n")
    (ROOT / "tests/fixtures/data/sensors/spec_chn_ids.toml").write_text("\n".join(exp) + "\n")


if __name__ == "__main__":
    main()
