//! Frame bytes read back from a capture file by offset, as Wireshark does:
//! the TUI keeps a small record per packet and the file holds the bytes.
//!
//! An offset is where the capture thread's stream stood before it read the
//! packet: the record header itself in a classic pcap file; in pcapng, the
//! first block after the previous packet, so non-packet blocks (interface
//! descriptions, statistics) in between are skipped here.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Classic { big: bool },
    Ng { big: bool },
}

/// A capture file open for random reads (`pread`, so `&self` is enough and
/// several readers can share it).
pub struct FrameFile {
    file: File,
    layout: Layout,
}

/// Largest packet block accepted (pcapng blocks may be larger than a
/// packet; anything beyond this is damage).
const MAX_BLOCK: u32 = 16 << 20;

impl FrameFile {
    pub fn open(path: &Path) -> io::Result<FrameFile> {
        FrameFile::from_file(File::open(path)?)
    }

    pub fn from_file(file: File) -> io::Result<FrameFile> {
        let mut magic = [0u8; 4];
        file.read_exact_at(&mut magic, 0)?;
        let layout = match u32::from_le_bytes(magic) {
            0xa1b2c3d4 | 0xa1b23c4d => Layout::Classic { big: false },
            0xd4c3b2a1 | 0x4d3cb2a1 => Layout::Classic { big: true },
            0x0a0d0d0a => {
                let mut bom = [0u8; 4];
                file.read_exact_at(&mut bom, 8)?;
                Layout::Ng {
                    big: u32::from_le_bytes(bom) == 0x4d3c2b1a,
                }
            }
            _ => return Err(bad("not a pcap or pcapng file")),
        };
        Ok(FrameFile { file, layout })
    }

    fn u32_at(&self, at: u64, big: bool) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.file.read_exact_at(&mut b, at)?;
        Ok(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The captured bytes of the packet at `offset`, into `out` (replaced).
    pub fn read(&self, offset: u64, out: &mut Vec<u8>) -> io::Result<()> {
        self.read_frame(offset, out).map(|_| ())
    }

    /// As `read`, and the frame's length on the wire (the record's original
    /// length; a simple packet block's, which is all it has).
    pub fn read_frame(&self, offset: u64, out: &mut Vec<u8>) -> io::Result<u32> {
        let (at, len, wire_at) = match self.layout {
            Layout::Classic { big } => {
                let caplen = self.u32_at(offset + 8, big)?;
                if caplen > MAX_BLOCK {
                    return Err(bad("record length out of range"));
                }
                (offset + 16, caplen, Some((offset + 12, big)))
            }
            Layout::Ng { big } => {
                let (at, len) = self.ng_packet(offset, big)?;
                // Enhanced and obsolete packet blocks: origlen 4 bytes before the data.
                (at, len, (at >= 4).then_some((at - 4, big)))
            }
        };
        out.clear();
        out.resize(len as usize, 0);
        self.file.read_exact_at(out, at)?;
        let wire = match wire_at {
            Some((w, big)) => self.u32_at(w, big)?,
            None => len,
        };
        Ok(wire)
    }

    /// Walk blocks from `offset` to the first packet block: where its data
    /// starts and how long it is.
    fn ng_packet(&self, mut offset: u64, big: bool) -> io::Result<(u64, u32)> {
        for _ in 0..64 {
            let kind = self.u32_at(offset, big)?;
            let blen = self.u32_at(offset + 4, big)?;
            if !(12..=MAX_BLOCK).contains(&blen) {
                return Err(bad("block length out of range"));
            }
            let body = blen - 12;
            match kind {
                // Enhanced packet: interface, timestamp (2), caplen, origlen, data.
                6 if body >= 20 => {
                    let caplen = self.u32_at(offset + 20, big)?;
                    return Ok((offset + 28, caplen.min(body - 20)));
                }
                // Obsolete packet block: interface and drops (2+2), timestamp (2), caplen, origlen, data.
                2 if body >= 20 => {
                    let caplen = self.u32_at(offset + 20, big)?;
                    return Ok((offset + 28, caplen.min(body - 20)));
                }
                // Simple packet: origlen, data (padded).
                3 if body >= 4 => {
                    let orig = self.u32_at(offset + 8, big)?;
                    return Ok((offset + 12, orig.min(body - 4)));
                }
                _ => offset += blen as u64,
            }
        }
        Err(bad("no packet block where one was expected"))
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{self, Event, ReadOptions, SourceSpec};

    /// Every frame's offset from the capture thread reads back as its bytes.
    fn round_trip(path: &str) -> usize {
        let spec = SourceSpec::File(path.into());
        let opts = ReadOptions {
            offsets: true,
            ..Default::default()
        };
        let running = capture::spawn(capture::open(&spec).unwrap(), opts);
        let ff = FrameFile::open(Path::new(path)).unwrap();
        let mut n = 0;
        let mut buf = Vec::new();
        while let Ok(ev) = running.events.recv() {
            match ev {
                Event::Batch(b) => {
                    assert_eq!(b.offsets.len(), b.len(), "{path}");
                    for (i, (f, bytes)) in b.iter().enumerate() {
                        let wire = ff.read_frame(b.offsets[i], &mut buf).unwrap();
                        assert_eq!(buf, bytes, "{path} frame {}", n + 1);
                        assert_eq!(wire, f.wire_len, "{path} frame {}", n + 1);
                        n += 1;
                    }
                }
                Event::Done(e) => {
                    assert!(e.is_none(), "{path}: {e:?}");
                    break;
                }
                _ => {}
            }
        }
        n
    }

    #[test]
    fn offsets_read_back_every_frame_of_pcap_and_pcapng() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let (mut files, mut pcapng) = (0, 0);
        for sub in [
            "sample-captures",
            "tests/data",
            "tests/conformance/captures",
        ] {
            let Ok(rd) = std::fs::read_dir(format!("{dir}/{sub}")) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.path().display().to_string();
                let ng = name.ends_with(".pcapng");
                // Damaged captures end in an error after their good frames: not these.
                let damaged = ["cut", "truncated", "not-a-capture", "overflow"]
                    .iter()
                    .any(|w| name.contains(w));
                if (ng || name.ends_with(".pcap")) && !damaged {
                    assert!(round_trip(&name) > 0, "{name}");
                    files += 1;
                    pcapng += ng as u32;
                }
            }
        }
        assert!(files >= 10 && pcapng >= 1, "{files} files, {pcapng} pcapng");
    }

    #[test]
    fn garbage_offsets_are_errors_not_panics() {
        let ff = FrameFile::open(Path::new("sample-captures/http-get.pcap")).unwrap();
        let mut buf = Vec::new();
        for off in [0u64, 3, 1 << 40, u64::MAX - 20] {
            let _ = ff.read(off, &mut buf);
        }
    }
}
