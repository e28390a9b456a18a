#!/usr/bin/env python3
"""Converts SatlasPretrain's metadata parquet (upstream
`metadata_v2/satlas_iwm_onid_3sensors_all_clean.parquet`) into the JSON Lines file that
`panopticon_data::datasets::Satlas` reads: one object per row with the columns `id`,
`s2_dir`, `sensor` (list) and `time` (list), in the parquet's row order (the dataset index).

Usage: python3 scripts/satlas_parquet_to_jsonl.py IN.parquet OUT.jsonl
Needs pyarrow (not installed on the dev VM; this script is not exercised by the tests).
"""
import json
import sys

import pyarrow.parquet as pq


def to_str(v):
    return None if v is None else str(v)


def main(src, dst):
    table = pq.read_table(src, columns=["id", "s2_dir", "sensor", "time"])
    cols = {name: table.column(name).to_pylist() for name in table.column_names}
    with open(dst, "w") as f:
        for i in range(table.num_rows):
            row = {
                "id": str(cols["id"][i]),
                "s2_dir": to_str(cols["s2_dir"][i]),
                "sensor": [str(s) for s in cols["sensor"][i]],
                "time": [to_str(t) for t in cols["time"][i]],
            }
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
