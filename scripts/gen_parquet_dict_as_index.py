#!/usr/bin/env python3
"""Writes tests/fixtures/data/parquet/fuzz/dict_page_as_index.parquet: a pyarrow table of one
dictionary-encoded string column whose dictionary page header says INDEX_PAGE (type 1)
instead of DICTIONARY_PAGE (type 2). Every page header is well formed, so the reader's
header walk passes and its dictionary check must name the missing dictionary page (the
`parquet` crate would panic on the dictionary-encoded data page without it).

Run: python3 scripts/gen_parquet_dict_as_index.py (pyarrow 26).
"""
import os

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "data", "parquet", "fuzz", "dict_page_as_index.parquet")


def main():
    t = pa.table({"split": pa.array(["train", "eval", "train", "test", "train"])})
    pq.write_table(t, OUT, compression="none", use_dictionary=True, write_statistics=False,
                   store_schema=False)
    col = pq.ParquetFile(OUT).metadata.row_group(0).column(0)
    at = col.dictionary_page_offset
    data = bytearray(open(OUT, "rb").read())
    # Field 1 (type, i32): header byte 0x15, then zigzag(2) = 0x04.
    assert data[at:at + 2] == b"\x15\x04", data[at:at + 8].hex()
    data[at + 1] = 0x02  # zigzag(1): INDEX_PAGE
    with open(OUT, "wb") as f:
        f.write(bytes(data))


if __name__ == "__main__":
    main()
