//! `--parquet DIR -b duration:N|filesize:N[,files:N]`: the export in time partitions, as
//! tshark's ring buffer rotates `-w` files.
//!
//! Each period is a complete pair of Parquet files, written under
//! `DIR/capture=NAME/date=YYYY-MM-DD/hour=HH/{packets,streams}-EPOCH.parquet` (a Hive
//! layout: readers see `capture`, `date` and `hour` columns). `EPOCH` is the period's start
//! in whole seconds (UTC); a second pair with the same start gets `-2`, `-3`... The date and
//! hour are the period's start. Periods of `duration:N` are aligned on multiples of N seconds
//! since the epoch (packet time; for a live capture also the clock, so a quiet period still
//! closes); `filesize:N` closes a period once its packets add up to N kB as `-w` would write
//! them (16-byte record header + captured bytes). A period without a packet writes nothing.
//! `files:N` keeps only the last N pairs of the run, deleting older ones.
//!
//! Files are written under a hidden temporary name (`.packets-EPOCH.parquet.tmp`, created
//! without following a symlink) and renamed into place once complete, so a reader that globs
//! `packets-*.parquet` never sees a partial file.
//!
//! Streams: a stream's final row (`hs_open_at_rotation = false`) is written once, in the
//! period in which the tracker lets it go (`--idle-timeout`, `--max-streams`, port reuse) or,
//! for streams still tracked at the end, in the last period. A stream still tracked at a
//! rotation that had a packet in the closing period also gets a row there, with its state so
//! far and `hs_open_at_rotation = true`; it reappears in later periods (again open in each
//! period where it has packets, and final once). `WHERE NOT hs_open_at_rotation` counts every
//! stream exactly once, in its final state.

use crate::engine::tls::TlsSummary;
use crate::output::parquet::{ParquetError, ParquetSink};
use crate::track::FlowSummary;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// What `-b` asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RingSpec {
    /// Period length, nanoseconds.
    pub duration_ns: Option<i64>,
    /// Packet bytes per period (as a pcap file would hold them).
    pub filesize: Option<u64>,
    /// Pairs kept (older ones deleted).
    pub files: Option<usize>,
}

impl RingSpec {
    /// `-b` arguments, tshark's: `duration:SECONDS`, `filesize:KB` (1 kB = 1000 bytes, as
    /// tshark), `files:N`. `None` without any.
    pub fn parse(args: &[String]) -> Result<Option<RingSpec>, String> {
        if args.is_empty() {
            return Ok(None);
        }
        let mut spec = RingSpec::default();
        for a in args {
            let (k, v) = a.split_once(':').ok_or_else(|| {
                format!("invalid -b '{a}': expected duration:SECONDS, filesize:KB or files:N")
            })?;
            match k {
                "duration" => {
                    let secs: f64 = v
                        .parse()
                        .map_err(|_| format!("invalid -b duration '{v}': expected seconds"))?;
                    if !secs.is_finite() || !(0.001..=1e9).contains(&secs) {
                        return Err(format!(
                            "invalid -b duration '{v}': must be between 0.001 and 1e9 seconds"
                        ));
                    }
                    spec.duration_ns = Some((secs * 1e9).round() as i64);
                }
                "filesize" => {
                    let kb: u64 = v
                        .parse()
                        .ok()
                        .filter(|&n| n > 0 && n < u64::MAX / 1000)
                        .ok_or_else(|| format!("invalid -b filesize '{v}': expected a positive number of kB"))?;
                    spec.filesize = Some(kb * 1000);
                }
                "files" => {
                    let n: usize = v
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("invalid -b files '{v}': expected a positive count"))?;
                    spec.files = Some(n);
                }
                _ => {
                    return Err(format!(
                        "invalid -b argument '{a}': supported are duration:SECONDS, filesize:KB and files:N"
                    ))
                }
            }
        }
        if spec.duration_ns.is_none() && spec.filesize.is_none() {
            return Err("-b files:N needs duration:SECONDS or filesize:KB to rotate on".into());
        }
        Ok(Some(spec))
    }
}

/// A Hive partition value from a name: characters that paths and partition values handle
/// badly become `_`.
pub fn partition_value(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        format!("_{clean}")
    } else {
        clean
    }
}

/// This machine's name (for the partition of a live capture), or `host`.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the name is NUL-terminated or cut.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(s) if r == 0 && !s.is_empty() => s.to_string(),
        _ => "host".to_string(),
    }
}

/// One period being written.
/// A period's temporary files, removed unless `close` renamed them: a period whose write
/// failed (a full disk) or that a failed run dropped has files without a footer, which no
/// reader can open; removing them gives the disk its space back and leaves no hidden
/// debris in the dataset.
struct TmpFiles {
    paths: [PathBuf; 2],
    renamed: bool,
}

impl Drop for TmpFiles {
    fn drop(&mut self) {
        if !self.renamed {
            for p in &self.paths {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

struct Period {
    sink: ParquetSink,
    tmp: TmpFiles,
    /// Final names (packets, streams).
    dest: (PathBuf, PathBuf),
    /// Time of the first packet (or clock) that opened it: streams with a later packet
    /// get an open row at the rotation.
    first_ns: i64,
    /// Where the period ends (duration), exclusive.
    end_ns: Option<i64>,
    bytes: u64,
}

/// The export: one pair of files (`--parquet DIR`), or rotating pairs (`-b`).
pub struct Export {
    single: Option<ParquetSink>,
    ring: Option<Ring>,
}

struct Ring {
    spec: RingSpec,
    base: PathBuf,
    label: String,
    cur: Option<Period>,
    /// Latest time seen (packets, clock).
    now_ns: i64,
    kept: VecDeque<(PathBuf, PathBuf)>,
    pairs: u64,
}

impl Export {
    /// `DIR/packets.parquet` and `DIR/streams.parquet`.
    pub fn single(dir: &Path, label: &str) -> Result<Export, ParquetError> {
        Ok(Export {
            single: Some(ParquetSink::create(dir, label)?),
            ring: None,
        })
    }

    /// Rotating pairs under `base` (`DIR/capture=NAME`), created now so that an unwritable
    /// directory stops the run before anything is read.
    pub fn ring(base: &Path, label: &str, spec: RingSpec) -> Result<Export, ParquetError> {
        std::fs::create_dir_all(base).map_err(|source| ParquetError::Create {
            path: base.to_path_buf(),
            source,
        })?;
        Ok(Export {
            single: None,
            ring: Some(Ring {
                spec,
                base: base.to_path_buf(),
                label: label.to_string(),
                cur: None,
                now_ns: i64::MIN,
                kept: VecDeque::new(),
                pairs: 0,
            }),
        })
    }

    /// Must the current period close before a packet (or the clock) at `ts_ns`?
    pub fn due(&self, ts_ns: i64) -> bool {
        let Some(r) = &self.ring else { return false };
        let Some(p) = &r.cur else { return false };
        p.end_ns.is_some_and(|e| ts_ns >= e) || r.spec.filesize.is_some_and(|m| p.bytes >= m)
    }

    /// Close the current period: the still-tracked `streams` that had a packet in it get an
    /// open row, then the files are finished and renamed into place.
    pub fn rotate<'a>(
        &mut self,
        streams: impl Iterator<Item = (&'a FlowSummary, Option<&'a TlsSummary>)>,
    ) -> Result<(), ParquetError> {
        let Some(r) = self.ring.as_mut() else {
            return Ok(());
        };
        let Some(mut p) = r.cur.take() else {
            return Ok(());
        };
        for (f, tls) in streams {
            if f.last_ts >= p.first_ns {
                p.sink.stream_row(f, tls, true)?;
            }
        }
        r.close(p)
    }

    /// One packet (not a TCP one: nothing).
    pub fn packet(&mut self, v: &crate::fields::PacketView<'_>) -> Result<(), ParquetError> {
        if let Some(s) = self.single.as_mut() {
            return s.packet(v);
        }
        let Some(r) = self.ring.as_mut() else {
            return Ok(());
        };
        if v.frame.tcp.is_none() {
            return Ok(());
        }
        let p = r.period(v.frame.ts_ns)?;
        p.bytes += 16 + v.bytes.len() as u64;
        p.sink.packet(v)
    }

    /// A stream's final row.
    pub fn stream(
        &mut self,
        f: &FlowSummary,
        tls: Option<&TlsSummary>,
    ) -> Result<(), ParquetError> {
        if let Some(s) = self.single.as_mut() {
            return s.stream(f, tls);
        }
        let Some(r) = self.ring.as_mut() else {
            return Ok(());
        };
        let t = r.now_ns.max(f.last_ts);
        r.period(t)?.sink.stream(f, tls)
    }

    /// Write the last rows and close the files. Returns (packets, streams) written in the
    /// single pair, or (0, pairs) when rotating.
    pub fn finish(self) -> Result<(u64, u64), ParquetError> {
        if let Some(s) = self.single {
            return s.finish();
        }
        match self.ring {
            Some(mut r) => {
                if let Some(p) = r.cur.take() {
                    r.close(p)?;
                }
                Ok((0, r.pairs))
            }
            None => Ok((0, 0)),
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + (m <= 2) as i64;
    (y, m, d)
}

/// `date=YYYY-MM-DD/hour=HH` of a time (UTC).
pub fn partition_of(ts_ns: i64) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let hour = secs.rem_euclid(86_400) / 3600;
    format!("date={y:04}-{m:02}-{d:02}/hour={hour:02}")
}

impl Ring {
    /// The period a packet at `ts_ns` goes in, opened if there is none.
    fn period(&mut self, ts_ns: i64) -> Result<&mut Period, ParquetError> {
        self.now_ns = self.now_ns.max(ts_ns);
        if self.cur.is_none() {
            let p = self.open(ts_ns)?;
            self.cur = Some(p);
        }
        // Just set when it was none.
        self.cur.as_mut().ok_or_else(|| ParquetError::Create {
            path: self.base.clone(),
            source: std::io::Error::other("no period"),
        })
    }

    fn open(&mut self, ts_ns: i64) -> Result<Period, ParquetError> {
        let (start, end) = match self.spec.duration_ns {
            Some(d) => {
                let s = ts_ns.div_euclid(d).saturating_mul(d);
                (s, Some(s.saturating_add(d)))
            }
            None => (ts_ns, None),
        };
        let dir = self.base.join(partition_of(start));
        std::fs::create_dir_all(&dir).map_err(|source| ParquetError::Create {
            path: dir.clone(),
            source,
        })?;
        let epoch = start.div_euclid(1_000_000_000);
        let mut n = 1u32;
        let (stem, dest) = loop {
            let stem = if n == 1 {
                format!("{epoch}")
            } else {
                format!("{epoch}-{n}")
            };
            let dest = (
                dir.join(format!("packets-{stem}.parquet")),
                dir.join(format!("streams-{stem}.parquet")),
            );
            let taken = |p: &Path| p.symlink_metadata().is_ok();
            let tmp_taken = taken(&dir.join(format!(".packets-{stem}.parquet.tmp")));
            if !taken(&dest.0) && !taken(&dest.1) && !tmp_taken {
                break (stem, dest);
            }
            n += 1;
        };
        let tmp = TmpFiles {
            paths: [
                dir.join(format!(".packets-{stem}.parquet.tmp")),
                dir.join(format!(".streams-{stem}.parquet.tmp")),
            ],
            renamed: false,
        };
        // Dropped on an error here, `tmp` removes what was created.
        let sink =
            ParquetSink::create_files(tmp.paths[0].clone(), tmp.paths[1].clone(), &self.label)?;
        Ok(Period {
            sink,
            tmp,
            dest,
            first_ns: ts_ns,
            end_ns: end,
            bytes: 0,
        })
    }

    /// Finish a period's files and rename them into place; apply `files:N`.
    fn close(&mut self, p: Period) -> Result<(), ParquetError> {
        let Period {
            sink,
            mut tmp,
            dest,
            ..
        } = p;
        sink.finish()?;
        for (from, to) in [(&tmp.paths[1], &dest.1), (&tmp.paths[0], &dest.0)] {
            std::fs::rename(from, to).map_err(|source| ParquetError::Create {
                path: to.clone(),
                source,
            })?;
        }
        tmp.renamed = true;
        self.pairs += 1;
        self.kept.push_back(dest);
        if let Some(max) = self.spec.files {
            while self.kept.len() > max {
                if let Some((a, b)) = self.kept.pop_front() {
                    let _ = std::fs::remove_file(a);
                    let _ = std::fs::remove_file(b);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tshark_ring_arguments() {
        let s = |v: &[&str]| RingSpec::parse(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]), Ok(None));
        let r = s(&["duration:60", "files:3"]).unwrap().unwrap();
        assert_eq!(r.duration_ns, Some(60_000_000_000));
        assert_eq!(r.files, Some(3));
        assert_eq!(
            s(&["filesize:100"]).unwrap().unwrap().filesize,
            Some(100_000)
        );
        assert_eq!(
            s(&["duration:0.5"]).unwrap().unwrap().duration_ns,
            Some(500_000_000)
        );
        for bad in [
            &["files:3"][..],
            &["duration:0"],
            &["duration:x"],
            &["filesize:-1"],
            &["interval:3"],
            &["duration"],
            &["duration:nan"],
        ] {
            assert!(s(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn partitions_are_utc_dates_and_hours() {
        assert_eq!(partition_of(0), "date=1970-01-01/hour=00");
        // 2023-11-14 22:13:20 UTC
        assert_eq!(
            partition_of(1_700_000_000 * 1_000_000_000),
            "date=2023-11-14/hour=22"
        );
        // 2024-02-29 23:59:59 UTC
        assert_eq!(
            partition_of(1_709_251_199 * 1_000_000_000),
            "date=2024-02-29/hour=23"
        );
        assert_eq!(partition_value("eth0"), "eth0");
        assert_eq!(partition_value("a b/c"), "a_b_c");
        assert_eq!(partition_value(""), "_");
    }
}
