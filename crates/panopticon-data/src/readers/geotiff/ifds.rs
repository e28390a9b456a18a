//! Which IFD holds which image. GDAL (GeoTIFF and COG alike) chains the full-resolution image,
//! its reduced-resolution overviews (NewSubfileType bit 0) and the per-dataset masks (bit 2,
//! PhotometricInterpretation 4), in an order that differs between writers, so images are told
//! apart by those tags, never by position. Overviews stored as SubIFDs (tag 330: OME-TIFF,
//! tifffile, some DNG-style writers) are outside that chain and not read; they are only counted,
//! so that `--overview N` can say why it finds none.

use std::io::{Read, Seek};

use tiff::TiffError;
use tiff::decoder::Decoder;
use tiff::tags::Tag;

const REDUCED_RESOLUTION: u32 = 1;
const MASK: u32 = 4;
const PHOTOMETRIC_MASK: u16 = 4;
/// More IFDs than any pyramid needs (a 2^32-pixel image has 32 levels, twice with masks).
const MAX_IFDS: usize = 256;

/// One IFD of the main chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ifd {
    /// Position in the chain (`Decoder::seek_to_image`).
    pub index: usize,
    /// Byte offset of the directory.
    pub offset: u64,
    pub width: u32,
    pub height: u32,
    subfile: u32,
    photometric: u16,
    /// Entries of its SubIFDs tag (tag 330), 0 without one.
    sub_ifds: usize,
}

impl Ifd {
    fn is_mask(&self) -> bool {
        self.subfile & MASK != 0 || self.photometric == PHOTOMETRIC_MASK
    }
}

/// Lists the IFDs of the main chain (leaves the decoder on the last one).
pub(crate) fn scan<R: Read + Seek>(dec: &mut Decoder<R>) -> Result<Vec<Ifd>, TiffError> {
    let mut out = Vec::new();
    for index in 0..MAX_IFDS {
        if index > 0 {
            dec.seek_to_image(index)?;
        }
        let (width, height) = dec.dimensions()?;
        out.push(Ifd {
            index,
            offset: dec.ifd_pointer().map_or(0, |p| p.0),
            width,
            height,
            subfile: dec.find_tag_unsigned(Tag::NewSubfileType)?.unwrap_or(0),
            photometric: dec
                .find_tag_unsigned(Tag::PhotometricInterpretation)?
                .unwrap_or(1),
            sub_ifds: dec
                .find_tag(Tag::SubIfd)?
                .map_or(0, |v| v.into_ifd_vec().map_or(1, |p| p.len())),
        });
        if !dec.more_images() {
            break;
        }
    }
    Ok(out)
}

/// The image to read and its mask, out of the IFDs `scan` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Selection {
    /// The full-resolution image (georeferencing lives here).
    pub full: Ifd,
    /// The image to read: `full` or one of its overviews.
    pub image: Ifd,
    /// Its per-dataset mask, when the file has one of the same size.
    pub mask: Option<Ifd>,
    /// How many overviews the file has.
    pub overviews: usize,
}

/// Picks overview `overview` (0 = full resolution, 1 = the largest overview, …). `Err` says
/// what the file offers instead.
pub(crate) fn select(ifds: &[Ifd], overview: usize) -> Result<Selection, String> {
    let images: Vec<&Ifd> = ifds.iter().filter(|i| !i.is_mask()).collect();
    let full = images
        .iter()
        .find(|i| i.subfile & REDUCED_RESOLUTION == 0)
        .or_else(|| {
            images
                .iter()
                .max_by_key(|i| u64::from(i.width) * u64::from(i.height))
        })
        .copied()
        .copied()
        .ok_or_else(|| "the file holds only masks, no image".to_string())?;
    let mut levels: Vec<Ifd> = images
        .iter()
        .filter(|i| {
            i.subfile & REDUCED_RESOLUTION != 0 && i.width < full.width && i.height <= full.height
        })
        .map(|i| **i)
        .collect();
    // Largest first, as GDAL numbers them.
    levels.sort_by_key(|i| std::cmp::Reverse(u64::from(i.width) * u64::from(i.height)));
    let image = match overview {
        0 => full,
        n => *levels.get(n - 1).ok_or_else(|| {
            let mut msg = format!(
                "overview {n} was asked for but the file has {} overview(s) (0 = full resolution)",
                levels.len()
            );
            if full.sub_ifds > 0 {
                msg.push_str(&format!(
                    "; its {} SubIFD image(s) (tag 330, where OME-TIFF and tifffile store \
                     reduced resolutions) are not read: only overviews in the main IFD chain, \
                     as GDAL and COGs write them",
                    full.sub_ifds
                ));
            }
            msg
        })?,
    };
    let same_size = |m: &&Ifd| m.width == image.width && m.height == image.height;
    let mask = ifds.iter().filter(|i| i.is_mask()).find(same_size).copied();
    Ok(Selection {
        full,
        image,
        mask,
        overviews: levels.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifd(index: usize, width: u32, subfile: u32, photometric: u16) -> Ifd {
        Ifd {
            index,
            offset: index as u64 * 100,
            width,
            height: width / 2,
            subfile,
            photometric,
            sub_ifds: 0,
        }
    }

    #[test]
    fn picks_full_resolution_overviews_and_masks_by_tags_not_position() {
        // A COG: image, mask, overviews (smallest last), overview masks.
        let ifds = [
            ifd(0, 64, 0, 1),
            ifd(1, 64, 4, 4),
            ifd(2, 32, 1, 1),
            ifd(3, 16, 1, 1),
            ifd(4, 32, 5, 4),
            ifd(5, 16, 5, 4),
        ];
        let s = select(&ifds, 0).unwrap();
        assert_eq!((s.image.index, s.mask.map(|m| m.index)), (0, Some(1)));
        assert_eq!(s.overviews, 2);
        let s = select(&ifds, 2).unwrap();
        assert_eq!((s.image.index, s.mask.map(|m| m.index)), (3, Some(5)));
        assert_eq!(s.full.index, 0);
        let err = select(&ifds, 3).unwrap_err();
        assert!(
            err.contains("overview 3") && err.contains("2 overview"),
            "{err}"
        );
        // Overviews stored before the full image, smallest first.
        let ifds = [ifd(0, 16, 1, 1), ifd(1, 32, 1, 1), ifd(2, 64, 0, 1)];
        let s = select(&ifds, 0).unwrap();
        assert_eq!((s.image.index, s.mask), (2, None));
        assert_eq!(select(&ifds, 1).unwrap().image.index, 1);
        assert!(select(&[ifd(0, 8, 4, 4)], 0).is_err());
        // A pyramid in SubIFDs: counted, named, not read.
        let with_subs = Ifd {
            sub_ifds: 2,
            ..ifd(0, 64, 0, 1)
        };
        assert_eq!(select(&[with_subs], 0).unwrap().overviews, 0);
        let err = select(&[with_subs], 1).unwrap_err();
        assert!(
            err.contains("2 SubIFD image(s)") && err.contains("not read"),
            "{err}"
        );
        assert!(!select(&ifds, 9).unwrap_err().contains("SubIFD"));
    }
}
