//! Rows of `embed` (numbers, STAC and `--band` stacks, the output, sizes from headers) and `pca`.

use super::Row;
use super::args::*;

pub(super) fn rows() -> Vec<Row> {
    vec![
        // embed: numbers, checked before any work that depends on them
        ("embed --tile 0", emb("--tile 0"), "--tile 0"),
        ("embed --stride 0", emb("--stride 0"), "--stride 0"),
        ("embed --batch 0", emb("--batch 0"), "--batch 0"),
        (
            "embed --stride over --tile",
            emb("--tile 16 --stride 32"),
            "larger than --tile 16",
        ),
        ("embed --tile not on patches", emb("--tile 12"), "--tile 12"),
        (
            "embed --stride not on patches",
            emb("--tile 32 --stride 12"),
            "--stride 12",
        ),
        (
            "embed --tile 2^64-1",
            emb("--tile 18446744073709551615"),
            "--tile 18446744073709551615",
        ),
        (
            "embed --stride 2^64-1",
            emb("--stride 18446744073709551615"),
            "larger than --tile",
        ),
        (
            "embed --max-tokens 0",
            emb("--max-tokens 0"),
            "--max-tokens 0",
        ),
        (
            "embed --max-pixels 0",
            emb("--max-pixels 0"),
            "--max-pixels 0",
        ),
        (
            "embed --max-memory 0",
            emb("--max-memory 0"),
            "--max-memory 0",
        ),
        (
            "embed tile over the token cap",
            emb("--tile 32 --max-tokens 10"),
            "use a smaller --tile (at most 24",
        ),
        (
            "embed 2048² tile over the default cap",
            emb_in("{fx}/claims_2048.tif", "--wavelengths 665 --tile 2048"),
            "use a smaller --tile",
        ),
        (
            "embed --max-pixels below the scene",
            emb("--max-pixels 1000"),
            "raise --max-pixels",
        ),
        (
            "embed --max-memory below the scene",
            emb("--max-memory 100K"),
            "raise --max-memory",
        ),
        // STAC items and --band stacks: the same checks on the common grid
        (
            "embed STAC item over --max-pixels",
            emb_in("{samples}/stac/item.json", "--max-pixels 1000"),
            "raise --max-pixels",
        ),
        (
            "embed --band stack tile over the token cap",
            emb_in(
                "--band red={samples}/stac/red.tif --band nir08={samples}/stac/nir08.tif",
                "--sensor landsat8_9 --tile 32 --max-tokens 10",
            ),
            "use a smaller --tile",
        ),
        (
            "pca STAC item over --max-memory",
            pca("{samples}/stac/item.json", "--max-memory 100K"),
            "raise --max-memory",
        ),
        // embed: the output, refused before any computation
        (
            "embed output is a dir",
            "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {fx}/dir.safetensors",
            "is a directory",
        ),
        (
            "embed output dir missing",
            "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {out}/no/e.safetensors",
            "does not exist",
        ),
        (
            "embed output dir unwritable",
            "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o /proc/e.safetensors",
            "not writable",
        ),
        // embed: sizes from headers, checked before any allocation
        (
            "embed 4e9² TIFF",
            emb_in("{fx}/claims_4e9.tif", "--wavelengths 665"),
            "raise --max-pixels",
        ),
        (
            "embed 4e9² TIFF --norm none",
            emb_in("{fx}/claims_4e9.tif", "--wavelengths 665 --norm none"),
            "raise --max-pixels",
        ),
        (
            "embed 4e9² TIFF with a stats file",
            emb_in(
                "{fx}/claims_4e9.tif",
                "--wavelengths 665 --norm {fx}/stats1.json",
            ),
            "raise --max-pixels",
        ),
        (
            "embed 16384² JPEG over --max-memory",
            emb_in(
                "{fx}/claims_16384.jpg",
                "--wavelengths 665,560,490 --max-memory 1G",
            ),
            "raise --max-memory",
        ),
        (
            "embed 16384² JPEG over --max-pixels",
            emb_in(
                "{fx}/claims_16384.jpg",
                "--wavelengths 665,560,490 --max-pixels 100000000",
            ),
            "raise --max-pixels",
        ),
        (
            "embed 30000² PNG over --max-memory",
            emb_in("{fx}/claims_30000.png", "--wavelengths 665 --max-memory 2G"),
            "raise --max-memory",
        ),
        // pca
        (
            "pca --tile 0",
            pca("{fx}/scene.tif", "--wavelengths 665,560,490 --tile 0"),
            "--tile 0",
        ),
        (
            "pca --stride 0",
            pca("{fx}/scene.tif", "--wavelengths 665,560,490 --stride 0"),
            "--stride 0",
        ),
        (
            "pca --batch 0",
            pca("{fx}/scene.tif", "--wavelengths 665,560,490 --batch 0"),
            "--batch 0",
        ),
        (
            "pca output is a dir",
            "pca --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {fx}/dir.png",
            "is a directory",
        ),
        (
            "pca output dir missing",
            "pca --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {out}/no/p.png",
            "does not exist",
        ),
        (
            "pca 4e9² TIFF --norm none",
            pca("{fx}/claims_4e9.tif", "--wavelengths 665 --norm none"),
            "raise --max-pixels",
        ),
        (
            "pca 4e9² TIFF with a stats file",
            pca(
                "{fx}/claims_4e9.tif",
                "--wavelengths 665 --norm {fx}/stats1.json",
            ),
            "raise --max-pixels",
        ),
        (
            "pca 16384² JPEG over --max-memory",
            pca(
                "{fx}/claims_16384.jpg",
                "--wavelengths 665,560,490 --max-memory 1G",
            ),
            "raise --max-memory",
        ),
        (
            "pca 30000² PNG over --max-memory",
            pca("{fx}/claims_30000.png", "--wavelengths 665 --max-memory 2G"),
            "raise --max-memory",
        ),
        (
            "pca tile over the token cap",
            pca("{fx}/claims_2048.tif", "--wavelengths 665 --tile 2048"),
            "use a smaller --tile",
        ),
    ]
}
