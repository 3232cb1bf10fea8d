//! The one pcap writer: `-w`, the TUI's `w` and the live-capture spool.
//!
//! Classic pcap with nanosecond timestamps. Written by hand rather than
//! through libpcap's `pcap_dump`, which reports no write errors: a full disk
//! must be said, with how many packets were written whole, and the file must
//! end on a record boundary.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How to create the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// Replace an existing file (`-w`, as tshark), but never through a symlink.
    Replace,
    /// Fail if anything exists at the path, symlinks included (the TUI's `w`).
    Exclusive,
}

/// An error writing a capture, with what was saved before it.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {cause}; {packets} packets written whole")]
pub struct WriteError {
    pub path: String,
    pub packets: u64,
    pub cause: io::Error,
}

pub struct PcapWriter {
    /// `None` after a failed write.
    file: Option<File>,
    path: PathBuf,
    /// Records not yet written, and where each ends (offsets in the file).
    buf: Vec<u8>,
    ends: Vec<u64>,
    /// Bytes of whole records in the file and the buffer together.
    whole: u64,
    /// Bytes of the file up to the buffer's start (always a record boundary).
    flushed: u64,
    packets: u64,
    flushed_packets: u64,
}

const MAGIC_NANO: u32 = 0xa1b2_3c4d;
const BUFFER: usize = 256 * 1024;

impl PcapWriter {
    /// Create `path` (mode 0644 before umask) and write the file header.
    pub fn create(path: &Path, linktype: u32, how: Create) -> Result<PcapWriter, WriteError> {
        let mut o = OpenOptions::new();
        o.write(true).mode(0o644).custom_flags(libc::O_NOFOLLOW);
        match how {
            Create::Replace => o.create(true).truncate(true),
            Create::Exclusive => o.create_new(true),
        };
        let err = |cause| WriteError {
            path: path.display().to_string(),
            packets: 0,
            cause,
        };
        // `-w -`: standard output, as tshark.
        let file = if path == Path::new("-") {
            std::io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map(File::from)
                .map_err(err)?
        } else {
            o.open(path).map_err(err)?
        };
        PcapWriter::from_file(file, path, linktype).map_err(err)
    }

    /// Write into an already open, empty file (the spool's anonymous temporary file).
    pub fn from_file(mut file: File, path: &Path, linktype: u32) -> io::Result<PcapWriter> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_NANO.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&262_144u32.to_le_bytes());
        h.extend_from_slice(&linktype.to_le_bytes());
        file.write_all(&h)?;
        Ok(PcapWriter {
            file: Some(file),
            path: path.to_path_buf(),
            buf: Vec::with_capacity(BUFFER),
            ends: Vec::new(),
            whole: 24,
            flushed: 24,
            packets: 0,
            flushed_packets: 0,
        })
    }

    /// Bytes of the file once everything handed over is flushed.
    pub fn len(&self) -> u64 {
        self.whole
    }
    /// Bytes already in the file (readable by others).
    pub fn flushed_len(&self) -> u64 {
        self.flushed
    }
    pub fn is_empty(&self) -> bool {
        self.packets == 0
    }
    pub fn packets(&self) -> u64 {
        self.packets
    }
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record; returns its offset in the file. After the first
    /// error nothing more is written and every call returns it.
    pub fn write(&mut self, ts_ns: i64, wire_len: u32, bytes: &[u8]) -> Result<u64, WriteError> {
        if self.file.is_none() {
            return Err(self.error(io::Error::other("an earlier write failed")));
        }
        let at = self.whole;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(ts_ns.div_euclid(1_000_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&(ts_ns.rem_euclid(1_000_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&wire_len.max(bytes.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&h);
        self.buf.extend_from_slice(bytes);
        self.whole += 16 + bytes.len() as u64;
        self.packets += 1;
        self.ends.push(self.whole);
        if self.buf.len() >= BUFFER {
            self.flush()?;
        }
        Ok(at)
    }

    /// Push buffered records to the file.
    pub fn flush(&mut self) -> Result<(), WriteError> {
        let Some(file) = self.file.as_mut() else {
            return Err(self.error(io::Error::other("an earlier write failed")));
        };
        if let Err(e) = file.write_all(&self.buf) {
            return Err(self.fail(e));
        }
        self.buf.clear();
        self.ends.clear();
        self.flushed = self.whole;
        self.flushed_packets = self.packets;
        Ok(())
    }

    /// Flush, and make sure the data reached the file system.
    pub fn finish(mut self) -> Result<u64, WriteError> {
        self.flush()?;
        if let Some(Err(e)) = self.file.as_ref().map(File::sync_data) {
            // A pipe or character device cannot be synced; that is no loss.
            if e.raw_os_error() != Some(libc::EINVAL) {
                return Err(self.fail(e));
            }
        }
        Ok(self.packets)
    }

    fn error(&self, cause: io::Error) -> WriteError {
        WriteError {
            path: self.path.display().to_string(),
            packets: self.packets,
            cause,
        }
    }

    /// A write failed (a full disk): cut the file back to its last whole
    /// record and count the records that made it.
    fn fail(&mut self, e: io::Error) -> WriteError {
        if let Some(file) = self.file.take() {
            let on_disk = file.metadata().map(|m| m.len()).unwrap_or(self.flushed);
            let whole_in_buf = self.ends.partition_point(|&end| end <= on_disk);
            let keep = match whole_in_buf {
                0 => self.flushed,
                n => self.ends[n - 1],
            };
            let _ = file.set_len(keep);
            self.whole = keep;
            self.packets = self.flushed_packets + whole_in_buf as u64;
            self.buf.clear();
            self.ends.clear();
        }
        self.error(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_file_libpcap_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pcap");
        let mut w = PcapWriter::create(&p, 1, Create::Exclusive).unwrap();
        assert_eq!(
            w.write(1_500_000_000_123_456_789, 60, &[1u8; 42]).unwrap(),
            24
        );
        assert_eq!(
            w.write(1_500_000_001_000_000_000, 10, &[2u8; 10]).unwrap(),
            24 + 16 + 42
        );
        assert_eq!(w.finish().unwrap(), 2);
        let mut cap = pcap::Capture::from_file_with_precision(&p, pcap::Precision::Nano).unwrap();
        let a = cap.next_packet().unwrap();
        assert_eq!((a.header.caplen, a.header.len), (42, 60));
        assert_eq!(a.header.ts.tv_usec, 123_456_789);
        let b = cap.next_packet().unwrap();
        assert_eq!(b.data, &[2u8; 10]);
    }

    #[test]
    fn exclusive_refuses_existing_files_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("link.pcap");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(PcapWriter::create(&link, 1, Create::Exclusive).is_err());
        assert!(PcapWriter::create(&target, 1, Create::Exclusive).is_err());
        // Replace (for -w) overwrites a file but never follows a symlink.
        assert!(PcapWriter::create(&link, 1, Create::Replace).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        assert!(PcapWriter::create(&target, 1, Create::Replace).is_ok());
    }

    #[test]
    fn a_failed_write_leaves_whole_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pcap");
        let mut w = PcapWriter::create(&p, 1, Create::Replace).unwrap();
        for _ in 0..3 {
            w.write(0, 100, &[7u8; 100]).unwrap();
        }
        w.flush().unwrap();
        for _ in 0..3 {
            w.write(0, 100, &[8u8; 100]).unwrap();
        }
        // Simulate a flush that reached the file for one record and a half, then failed.
        {
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            f.write_all(&[8u8; 116 + 16 + 30]).unwrap();
        }
        let e = w.fail(io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(e.packets, 4);
        assert!(e.to_string().contains("No space left on device"), "{e}");
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 24 + 4 * 116);
        assert!(w.write(0, 1, &[1]).is_err());
    }
}
