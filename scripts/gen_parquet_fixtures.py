#!/usr/bin/env python3
"""Writes small Parquet tables with pyarrow (an independent writer) under
tests/fixtures/data/parquet/, plus expected.json with the values each column must read as.

Covers scalar columns (string, int8..int64, uint32, float, double, bool, nullable string),
LIST columns (of strings, ints, doubles, with null elements and null lists, nested lists),
several row groups, three codecs (Snappy, Zstd, none with data page v2), and PLAIN
values in version-1 data pages. Also a
truncated file and a non-Parquet file for the error paths.

Run: ~/.cache/panopticon-venv/bin/python scripts/gen_parquet_fixtures.py (pyarrow 26).
"""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "data", "parquet")

COLUMNS = {
    "name": (pa.string(), ["a", "bé", "", "delta", "e"]),
    "count": (pa.int64(), [0, -1, 2**40, 7, -(2**62)]),
    "small": (pa.int32(), [1, 2, 3, -4, 5]),
    "tiny": (pa.int8(), [-128, 0, 1, 127, 3]),
    "unsigned": (pa.uint32(), [0, 1, 4000000000, 5, 6]),
    "ratio": (pa.float64(), [0.1, -2.5, 1e300, 0.0, 3.25]),
    "score": (pa.float32(), [0.5, 1.25, -3.0, 0.0, 8.0]),
    "flag": (pa.bool_(), [True, False, True, True, False]),
    "maybe": (pa.string(), ["x", None, "z", None, "w"]),
    "sensor": (pa.list_(pa.string()), [["wv23", "s2"], ["rgb"], [], ["s2", "s2", "rgb"], ["x"]]),
    "height": (pa.list_(pa.int64()), [[42, 1024], [300], [], [1, 2, 3], [5]]),
    "width16": (pa.list_(pa.int16()), [[1, 2], [3], [], [4, 5, 6], [-7]]),
    "gsd": (pa.list_(pa.float64()), [[0.5, 10.0], [1.25], [], [2.0, 3.0, 4.0], [0.3]]),
    "holes": (pa.list_(pa.string()), [["a", None], [None], [], ["b"], []]),
    "nullable_list": (pa.list_(pa.int64()), [[1], None, [], [2, 3], None]),
    "nested": (pa.list_(pa.list_(pa.int32())), [[[1, 2], [3]], [[]], [], [[4]], [[5, 6, 7]]]),
}


def table():
    return pa.table({k: pa.array(v, type=t) for k, (t, v) in COLUMNS.items()})


def main():
    os.makedirs(OUT, exist_ok=True)
    t = table()
    # Two rows per row group: three row groups.
    pq.write_table(t, os.path.join(OUT, "table_snappy.parquet"), compression="snappy",
                   row_group_size=2)
    pq.write_table(t, os.path.join(OUT, "table_zstd.parquet"), compression="zstd",
                   row_group_size=3)
    pq.write_table(t, os.path.join(OUT, "table_plain_v2.parquet"), compression="none",
                   data_page_version="2.0", use_dictionary=False)
    # PLAIN values behind version-1 levels (RLE with a length prefix): the layout the
    # reader's data-page check walks.
    pq.write_table(t, os.path.join(OUT, "table_plain_v1.parquet"), compression="snappy",
                   data_page_version="1.0", use_dictionary=False)
    with open(os.path.join(OUT, "table_snappy.parquet"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.parquet"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(OUT, "not_parquet.parquet"), "wb") as f:
        f.write(b"img_id,path\n1,a.tif\n")
    # Footer intact, first data page overwritten with garbage: decoding must fail cleanly.
    bad = bytearray(data)
    for i in range(4, min(len(bad) // 3, 200)):
        bad[i] = 0xA5
    with open(os.path.join(OUT, "bad_pages.parquet"), "wb") as f:
        f.write(bytes(bad))
    expected = {
        "num_rows": t.num_rows,
        "columns": list(COLUMNS),
        "values": {k: v for k, (_, v) in COLUMNS.items()},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
