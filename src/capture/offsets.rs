//! Where in a damaged capture file reading stopped. libpcap says *that* a
//! file is truncated, not *where*; on that error we walk the record (pcap)
//! or block (pcapng) headers ourselves to name the byte offset.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The byte offset of packet record `read + 1` (the damaged one), if the
/// file's structure can be walked that far.
pub fn record_offset(path: &Path, read: u64) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut magic = [0u8; 4];
    f.read_exact(&mut magic).ok()?;
    match u32::from_le_bytes(magic) {
        0xa1b2c3d4 | 0xa1b23c4d => classic(&mut f, read, len, false),
        0xd4c3b2a1 | 0x4d3cb2a1 => classic(&mut f, read, len, true),
        0x0a0d0d0a => pcapng(&mut f, read, len),
        _ => None,
    }
}

fn u32_at(f: &mut File, at: u64, big: bool) -> Option<u32> {
    let mut b = [0u8; 4];
    f.seek(SeekFrom::Start(at)).ok()?;
    f.read_exact(&mut b).ok()?;
    Some(if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn classic(f: &mut File, read: u64, len: u64, big: bool) -> Option<u64> {
    let mut off = 24u64;
    for _ in 0..read {
        let caplen = u32_at(f, off + 8, big)? as u64;
        off += 16 + caplen;
        if off > len {
            return None;
        }
    }
    Some(off)
}

fn pcapng(f: &mut File, read: u64, len: u64) -> Option<u64> {
    // The section header's byte-order magic tells the endianness.
    let bom = u32_at(f, 8, false)?;
    let big = bom == 0x4d3c2b1a;
    let mut off = 0u64;
    let mut packets = 0u64;
    while off + 8 <= len {
        let kind = u32_at(f, off, big)?;
        let blen = u32_at(f, off + 4, big)? as u64;
        let is_packet = matches!(kind, 2 | 3 | 6);
        if is_packet && packets == read {
            return Some(off);
        }
        if blen < 12 || off + blen > len {
            return Some(off);
        }
        packets += is_packet as u64;
        off += blen;
    }
    Some(off)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn classic_offsets_walk_records() {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        let mut hdr = vec![0xd4, 0xc3, 0xb2, 0xa1];
        hdr.extend_from_slice(&[
            2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
        ]);
        t.write_all(&hdr).unwrap();
        for caplen in [10u32, 20] {
            let mut rec = vec![0u8; 8];
            rec.extend_from_slice(&caplen.to_le_bytes());
            rec.extend_from_slice(&caplen.to_le_bytes());
            rec.extend(std::iter::repeat_n(0u8, caplen as usize));
            t.write_all(&rec).unwrap();
        }
        t.write_all(&[0u8; 5]).unwrap();
        assert_eq!(record_offset(t.path(), 0), Some(24));
        assert_eq!(record_offset(t.path(), 1), Some(50));
        assert_eq!(record_offset(t.path(), 2), Some(86));
    }
}
