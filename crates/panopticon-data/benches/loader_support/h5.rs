//! A minimal HDF5 writer for the loader benchmark (the crate only reads HDF5): superblock
//! v0, a root group of hard-link messages in a version-1 object header, and contiguous
//! little-endian datasets (no checksums needed in these structure versions). Enough to
//! write MMEarth-shaped arrays without h5py; h5py reads the result.

use std::path::Path;

/// Element type and raw little-endian bytes of one dataset.
pub enum H5Values {
    U16(Vec<u16>),
    F32(Vec<f32>),
}

impl H5Values {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Self::U16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::U16(v) => v.len(),
            Self::F32(v) => v.len(),
        }
    }

    /// Datatype message body: class/version byte, 3 bit-field bytes, size, properties.
    fn datatype(&self) -> Vec<u8> {
        let mut m = Vec::new();
        match self {
            Self::U16(_) => {
                m.extend([0x10, 0x00, 0x00, 0x00]); // v1 fixed-point, LE, unsigned
                m.extend(2u32.to_le_bytes());
                m.extend(0u16.to_le_bytes()); // bit offset
                m.extend(16u16.to_le_bytes()); // precision
            }
            Self::F32(_) => {
                m.extend([0x11, 0x20, 31, 0x00]); // v1 float, LE, implied msb, sign bit 31
                m.extend(4u32.to_le_bytes());
                m.extend(0u16.to_le_bytes());
                m.extend(32u16.to_le_bytes());
                m.extend([23, 8, 0, 23]); // exponent location/size, mantissa location/size
                m.extend(127u32.to_le_bytes()); // exponent bias
            }
        }
        m
    }
}

const UNDEFINED: u64 = u64::MAX;
const SUPERBLOCK_LEN: usize = 96;

/// One v1 object header message, padded to 8 bytes.
fn message(kind: u16, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(8) * 8;
    let mut m = Vec::with_capacity(8 + padded);
    m.extend(kind.to_le_bytes());
    m.extend((padded as u16).to_le_bytes());
    m.extend([0u8; 4]); // flags + reserved
    m.extend(body);
    m.resize(8 + padded, 0);
    m
}

/// A v1 object header holding `messages`.
fn object_header(messages: &[Vec<u8>]) -> Vec<u8> {
    let size: usize = messages.iter().map(Vec::len).sum();
    let mut h = vec![1u8, 0];
    h.extend((messages.len() as u16).to_le_bytes());
    h.extend(1u32.to_le_bytes()); // reference count
    h.extend((size as u32).to_le_bytes());
    h.extend([0u8; 4]); // alignment
    for m in messages {
        h.extend(m);
    }
    h
}

fn dataset_header(shape: &[usize], values: &H5Values, data_addr: u64) -> Vec<u8> {
    let mut space = vec![1u8, shape.len() as u8, 0, 0, 0, 0, 0, 0];
    for &d in shape {
        space.extend((d as u64).to_le_bytes());
    }
    let nbytes = values.bytes().len() as u64;
    let mut layout = vec![3u8, 1]; // version 3, contiguous
    layout.extend(data_addr.to_le_bytes());
    layout.extend(nbytes.to_le_bytes());
    object_header(&[
        message(0x0001, &space),
        message(0x0003, &values.datatype()),
        message(0x0008, &layout),
    ])
}

/// The root group's messages: Link Info and Group Info (what makes it a "new-style" group
/// for libhdf5), then one hard link per dataset.
fn root_messages(links: impl Iterator<Item = (String, u64)>) -> Vec<Vec<u8>> {
    let mut info = vec![0u8, 0]; // version 0, no creation order
    info.extend(UNDEFINED.to_le_bytes()); // no fractal heap: links are compact
    info.extend(UNDEFINED.to_le_bytes()); // no name index
    let mut m = vec![message(0x0002, &info), message(0x000A, &[0, 0])];
    m.extend(links.map(|(n, a)| link(&n, a)));
    m
}

fn link(name: &str, addr: u64) -> Vec<u8> {
    let mut body = vec![1u8, 0, name.len() as u8]; // version 1, hard link, 1-byte name length
    body.extend(name.as_bytes());
    body.extend(addr.to_le_bytes());
    message(0x0006, &body)
}

/// Writes `datasets` (name, shape, values) as root-level datasets of a new HDF5 file.
pub fn write_h5(path: &Path, datasets: &[(&str, Vec<usize>, H5Values)]) {
    for (name, shape, values) in datasets {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}");
    }
    // Layout: superblock, root header, dataset headers, then the data blocks.
    let root_len = object_header(&root_messages(
        datasets.iter().map(|(n, _, _)| (n.to_string(), 0)),
    ))
    .len();
    let header_lens: Vec<usize> = datasets
        .iter()
        .map(|(_, s, v)| dataset_header(s, v, 0).len())
        .collect();
    let mut header_addr = Vec::new();
    let mut at = SUPERBLOCK_LEN + root_len;
    for len in &header_lens {
        header_addr.push(at as u64);
        at += len;
    }
    let mut data_addr = Vec::new();
    for (_, _, v) in datasets {
        data_addr.push(at as u64);
        at += v.bytes().len();
    }
    let eof = at as u64;

    let mut f = b"\x89HDF\r\n\x1a\n".to_vec();
    f.extend([0, 0, 0, 0, 0, 8, 8, 0]); // versions; 8-byte offsets and lengths
    f.extend(4u16.to_le_bytes()); // group leaf node K
    f.extend(16u16.to_le_bytes()); // group internal node K
    f.extend(0u32.to_le_bytes()); // consistency flags
    for a in [0, UNDEFINED, eof, UNDEFINED] {
        f.extend(a.to_le_bytes()); // base, free space, end of file, driver info
    }
    // Root symbol table entry: no name, header right after, no cache.
    f.extend(0u64.to_le_bytes());
    f.extend((SUPERBLOCK_LEN as u64).to_le_bytes());
    f.extend([0u8; 24]);
    assert_eq!(f.len(), SUPERBLOCK_LEN);
    f.extend(object_header(&root_messages(
        datasets
            .iter()
            .zip(&header_addr)
            .map(|((n, _, _), &a)| (n.to_string(), a)),
    )));
    for ((_, s, v), &a) in datasets.iter().zip(&data_addr) {
        f.extend(dataset_header(s, v, a));
    }
    for (_, _, v) in datasets {
        f.extend(v.bytes());
    }
    assert_eq!(f.len() as u64, eof);
    std::fs::write(path, f).expect("write hdf5");
}
