#!/usr/bin/env python3
"""Write a TIFF whose reduced resolutions are SubIFDs (tag 330), as tifffile and OME-TIFF
writers store pyramids, for `crates/panopticon-data/tests/tiff_codecs.rs` and
`tests/cli_embed_codecs.rs`: the reader reads the full-resolution image and, asked for an
overview, says that SubIFD levels are not read (GDAL and COGs chain overviews as top-level
IFDs instead).

Output: `tests/fixtures/data/tiff_codecs/subifd/pyramid_u16.tif`, one band uint16, 64 x 64,
uncompressed, 16 x 16 tiles, with 2 SubIFD levels (32 x 32 and 16 x 16, NewSubfileType 1).
The full-resolution samples are `(row * 64 + col) % 4093 + 1`; the test recomputes them.

Run: `pip install tifffile numpy`, then `python3 scripts/gen_subifd_fixture.py`.
"""

from pathlib import Path

import numpy as np
import tifffile

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/tiff_codecs/subifd"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    full = ((np.arange(64 * 64) % 4093) + 1).astype(np.uint16).reshape(64, 64)
    path = OUT / "pyramid_u16.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(full, subifds=2, tile=(16, 16), photometric="minisblack", metadata=None)
        for level in (full[::2, ::2], full[::4, ::4]):
            tif.write(level, subfiletype=1, tile=(16, 16), photometric="minisblack",
                      metadata=None)
    print(path, path.stat().st_size, "bytes, tifffile", tifffile.__version__)


if __name__ == "__main__":
    main()
