//! Where the tiles of a sliding window go.

/// One window of the (padded) scene, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Top row.
    pub row: usize,
    /// Left column.
    pub col: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

/// Window starts along one axis: every `stride`, the last one flush with the end, so every
/// position in `0..len` is covered. A scene shorter than `tile` is one window of its length.
fn starts(len: usize, tile: usize, stride: usize) -> Vec<usize> {
    if len <= tile {
        return vec![0];
    }
    // A zero stride (refused by every caller) must not plan forever.
    let stride = stride.max(1);
    let mut s: Vec<usize> = (0..)
        .map(|i| i * stride)
        .take_while(|&p| p + tile < len)
        .collect();
    s.push(len - tile);
    s.dedup();
    s
}

/// Tiles of at most `tile`×`tile` pixels every `stride` pixels (row-major) covering an
/// `height`×`width` scene. With `height`, `width`, `tile` and `stride` multiples of the patch
/// size, every tile sits on the scene's patch grid.
pub fn plan_tiles(height: usize, width: usize, tile: usize, stride: usize) -> Vec<Tile> {
    let rows = starts(height, tile, stride);
    let cols = starts(width, tile, stride);
    rows.iter()
        .flat_map(|&row| {
            cols.iter().map(move |&col| Tile {
                row,
                col,
                height: tile.min(height),
                width: tile.min(width),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_every_pixel_and_stay_inside() {
        for (h, w, t, s) in [
            (224, 224, 224, 224),
            (500, 333, 224, 168),
            (100, 700, 224, 112),
            (14, 14, 224, 224),
            (4096, 4096, 448, 448),
        ] {
            let tiles = plan_tiles(h, w, t, s);
            let mut covered = vec![0u8; h * w];
            for tile in &tiles {
                assert!(tile.row + tile.height <= h && tile.col + tile.width <= w);
                for r in tile.row..tile.row + tile.height {
                    for c in tile.col..tile.col + tile.width {
                        covered[r * w + c] = 1;
                    }
                }
            }
            assert!(
                covered.iter().all(|&c| c == 1),
                "{h}x{w} tile {t} stride {s}"
            );
        }
        assert_eq!(plan_tiles(448, 448, 224, 224).len(), 4);
    }
}
