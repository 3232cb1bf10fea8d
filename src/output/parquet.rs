//! `--parquet DIR`: the capture as two Parquet tables, for DuckDB, Spark and friends.
//!
//! `DIR/packets.parquet` has one row per TCP packet, `DIR/streams.parquet` one row per
//! stream in its final state. Columns are the registry's fields (`src/fields/`) with `.`
//! turned into `_`, so names and values match `-T fields`; times are typed (absolute times
//! are UTC timestamps in microseconds, durations are seconds as doubles), integers are
//! integers, strings are dictionary-encoded by the Parquet writer. Rows are buffered in
//! small batches and written as row groups while the capture is read, so memory stays flat
//! however long the capture is. Every row carries `frame_file`, the capture it came from.
//!
//! Files are created as `-w` creates its file: never through a symlink, and an error names
//! the path. A failed write (a full disk) stops the run with that error; the row groups
//! written before it are in the file, but without a footer no reader opens it, so the error
//! says so.

use crate::fields::{self, FieldType, PacketView, Value};
use crate::track::FlowSummary;
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows buffered before they go to the Parquet writer (which encodes and compresses them
/// at once) and rows per row group.
const BATCH_ROWS: usize = 32 * 1024;
const ROW_GROUP_ROWS: usize = 512 * 1024;

/// The packet table: registry fields, in this order, after `frame_file`. `frame.time_epoch`
/// becomes the timestamp `frame_time`.
pub const PACKET_FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.stream",
    "tcp.len",
    "tcp.seq",
    "tcp.ack",
    "tcp.flags",
    "tcp.flags.str",
    "tcp.window_size",
    "tcp.analysis.initial_rtt",
    "tcp.analysis.ack_rtt",
    "tcp.analysis.retransmission",
    "tcp.analysis.duplicate_ack",
    "tcp.analysis.lost_segment",
    "tcp.analysis.zero_window",
    "hs.phase",
    "hs.role",
    "hs.state",
    "hs.conn_state",
    "hs.history",
    "hs.rtt.syn_synack",
    "hs.rtt.synack_ack",
    "hs.rtt.syn_rst",
    "hs.rtt.syn_data",
];

/// The stream table: registry fields evaluated on the stream's final summary, after
/// `frame_file` and `tcp_stream`; `hs.rtt` is named `tcp_analysis_initial_rtt` here (it is the same value).
pub const STREAM_FIELDS: &[&str] = &[
    "hs.client",
    "hs.client_port",
    "hs.server",
    "hs.server_port",
    "hs.state",
    "hs.conn_state",
    "hs.history",
    "hs.completeness",
    "hs.rtt",
    "hs.rtt.syn_synack",
    "hs.rtt.synack_ack",
    "hs.rtt.syn_rst",
    "hs.rtt.syn_data",
    "hs.syn_retransmissions",
    "hs.synack_retransmissions",
    "hs.wrong_ack",
    "hs.packets",
    "hs.bytes",
    "hs.duration",
    "hs.mss.client",
    "hs.mss.server",
    "hs.wscale.client",
    "hs.wscale.server",
    "hs.sack_permitted",
    "hs.timestamps",
    "hs.ecn",
];

#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source} (the file is incomplete and unreadable)", path.display())]
    Write {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
}

/// The column name of a registry field: `tcp.analysis.initial_rtt` -> `tcp_analysis_initial_rtt`.
pub fn column_name(field: &str) -> String {
    match field {
        "frame.time_epoch" => "frame_time".into(),
        _ => field.replace('.', "_"),
    }
}

/// What a column holds, and how a value becomes a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    I32,
    I64,
    F64Secs,
    Bool,
    Timestamp,
    Str,
}

impl Kind {
    fn of(ty: FieldType) -> Kind {
        match ty {
            FieldType::UInt { max, .. } if max <= u16::MAX as u64 => Kind::I32,
            FieldType::UInt { .. } | FieldType::Int | FieldType::FrameNum => Kind::I64,
            FieldType::Bool | FieldType::None | FieldType::Protocol => Kind::Bool,
            FieldType::RelTime => Kind::F64Secs,
            FieldType::AbsTime => Kind::Timestamp,
            FieldType::Ipv4
            | FieldType::Ipv6
            | FieldType::Mac
            | FieldType::Str
            | FieldType::Bytes => Kind::Str,
        }
    }
    fn data_type(self) -> DataType {
        match self {
            Kind::I32 => DataType::Int32,
            Kind::I64 => DataType::Int64,
            Kind::F64Secs => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Str => DataType::Utf8,
        }
    }
}

enum Builder {
    I32(Int32Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMicrosecondBuilder),
    Str(StringBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::I32 => Builder::I32(Int32Builder::with_capacity(BATCH_ROWS)),
            Kind::I64 => Builder::I64(Int64Builder::with_capacity(BATCH_ROWS)),
            Kind::F64Secs => Builder::F64(Float64Builder::with_capacity(BATCH_ROWS)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(BATCH_ROWS)),
            Kind::Timestamp => Builder::Ts(
                TimestampMicrosecondBuilder::with_capacity(BATCH_ROWS).with_timezone("UTC"),
            ),
            Kind::Str => Builder::Str(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 8)),
        }
    }

    /// Append the first occurrence of a field (absent: null; FT_NONE: present or not).
    fn push(&mut self, v: Option<&Value<'_>>, scratch: &mut String) {
        match self {
            Builder::I32(b) => b.append_option(v.and_then(|v| match v {
                Value::UInt(x) => i32::try_from(*x).ok(),
                Value::Int(x) => i32::try_from(*x).ok(),
                Value::Bool(x) => Some(*x as i32),
                _ => None,
            })),
            Builder::I64(b) => b.append_option(v.and_then(|v| match v {
                Value::UInt(x) => i64::try_from(*x).ok(),
                Value::Int(x) => Some(*x),
                Value::Bool(x) => Some(*x as i64),
                _ => None,
            })),
            Builder::F64(b) => b.append_option(v.and_then(|v| match v {
                Value::Time(ns) => Some(*ns as f64 / 1e9),
                _ => None,
            })),
            Builder::Bool(b) => b.append_value(match v {
                Some(Value::Bool(x)) => *x,
                Some(Value::UInt(x)) => *x != 0,
                Some(_) => true,
                None => false,
            }),
            Builder::Ts(b) => b.append_option(v.and_then(|v| match v {
                Value::Time(ns) => Some(ns.div_euclid(1000)),
                _ => None,
            })),
            Builder::Str(b) => match v {
                Some(Value::Str(s)) => b.append_value(s),
                Some(Value::V4(a)) => {
                    // Display for Ipv4Addr goes through the formatter: slow at millions of rows.
                    scratch.clear();
                    let mut n = itoa::Buffer::new();
                    for (i, o) in a.octets().iter().enumerate() {
                        if i > 0 {
                            scratch.push('.');
                        }
                        scratch.push_str(n.format(*o));
                    }
                    b.append_value(&*scratch);
                }
                Some(v) => {
                    scratch.clear();
                    v.write(FieldType::Str, scratch);
                    b.append_value(&*scratch);
                }
                None => b.append_null(),
            },
        }
    }

    /// An integer straight from a fast getter.
    #[inline]
    fn push_u64(&mut self, x: Option<u64>) {
        match self {
            Builder::I32(b) => b.append_option(x.and_then(|x| i32::try_from(x).ok())),
            Builder::I64(b) => b.append_option(x.and_then(|x| i64::try_from(x).ok())),
            _ => self.push(x.map(Value::UInt).as_ref(), &mut String::new()),
        }
    }

    fn push_str(&mut self, s: Option<&str>) {
        if let Builder::Str(b) = self {
            b.append_option(s);
        }
    }

    fn push_ts(&mut self, ns: i64) {
        if let Builder::Ts(b) = self {
            b.append_value(ns.div_euclid(1000));
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
        }
    }
}

/// One Parquet file being written: its columns' builders here, and a thread of its own that
/// encodes and compresses the batches (so the export uses a second core).
struct Table {
    path: PathBuf,
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    total: u64,
    tx: Option<crossbeam_channel::Sender<RecordBatch>>,
    writer: Option<std::thread::JoinHandle<Result<File, parquet::errors::ParquetError>>>,
}

/// Columns whose values are mostly distinct: a dictionary only costs time there.
const NO_DICTIONARY: &[&str] = &[
    "frame_number",
    "frame_time",
    "tcp_seq",
    "tcp_ack",
    "hs_start",
    "hs_end",
];

impl Table {
    fn create(path: PathBuf, columns: &[(String, Kind)]) -> Result<Table, ParquetError> {
        let schema: SchemaRef = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, k)| ArrowField::new(n, k.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|source| ParquetError::Create {
                path: path.clone(),
                source,
            })?;
        let mut props = WriterProperties::builder()
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk);
        for c in NO_DICTIONARY {
            props = props
                .set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from(*c), false);
        }
        let props = props
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("hs-tui {}", env!("CARGO_PKG_VERSION")))
            .build();
        let mut writer =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|source| {
                ParquetError::Write {
                    path: path.clone(),
                    source,
                }
            })?;
        // Two batches in flight at most: memory stays flat when the disk is slow.
        let (tx, rx) = crossbeam_channel::bounded::<RecordBatch>(2);
        let handle = std::thread::Builder::new()
            .name("hs-tui parquet".into())
            .spawn(move || {
                for batch in rx {
                    writer.write(&batch)?;
                }
                writer.into_inner()
            })
            .map_err(|source| ParquetError::Create {
                path: path.clone(),
                source,
            })?;
        Ok(Table {
            path,
            schema,
            builders: columns.iter().map(|(_, k)| Builder::new(*k)).collect(),
            rows: 0,
            total: 0,
            tx: Some(tx),
            writer: Some(handle),
        })
    }

    fn err(&self, source: parquet::errors::ParquetError) -> ParquetError {
        ParquetError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// One row is complete: write a batch when enough have piled up.
    fn row_done(&mut self) -> Result<(), ParquetError> {
        self.rows += 1;
        self.total += 1;
        if self.rows >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), ParquetError> {
        if self.rows == 0 {
            return Ok(());
        }
        self.rows = 0;
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| self.err(e.into()))?;
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if sent {
            Ok(())
        } else {
            // The writer thread stopped: its error says why.
            Err(self.join().err().unwrap_or_else(|| {
                self.err(parquet::errors::ParquetError::General(
                    "the writer stopped".into(),
                ))
            }))
        }
    }

    /// Wait for the writer thread; the finished file.
    fn join(&mut self) -> Result<File, ParquetError> {
        self.tx = None;
        match self.writer.take().map(|h| h.join()) {
            Some(Ok(Ok(file))) => Ok(file),
            Some(Ok(Err(e))) => Err(self.err(e)),
            Some(Err(_)) => Err(self.err(parquet::errors::ParquetError::General(
                "the writer thread panicked".into(),
            ))),
            None => Err(self.err(parquet::errors::ParquetError::General(
                "an earlier write failed".into(),
            ))),
        }
    }

    fn finish(mut self) -> Result<u64, ParquetError> {
        self.flush_batch()?;
        let file = self.join()?;
        file.sync_data()
            .map_err(|e| self.err(parquet::errors::ParquetError::External(Box::new(e))))?;
        Ok(self.total)
    }
}

/// A registry field and the builder index it fills; `fast` is the registry's fast getter
/// for the hottest integer fields (the same values, checked by the registry's tests).
struct Col {
    field: &'static fields::Field,
    fast: Option<fields::FastU64>,
    at: usize,
}

fn registry_cols(names: &[&str], first_index: usize) -> (Vec<Col>, Vec<(String, Kind)>) {
    let mut cols = Vec::new();
    let mut schema = Vec::new();
    for name in names {
        // The lists above name registry fields; a test checks that each one exists.
        let Some(field) = fields::by_name(name) else {
            continue;
        };
        cols.push(Col {
            field,
            fast: fields::fast_u64(name),
            at: first_index + schema.len(),
        });
        schema.push((column_name(name), Kind::of(field.ty)));
    }
    (cols, schema)
}

/// The two tables of one capture.
pub struct ParquetSink {
    file_label: String,
    packets: Table,
    packet_cols: Vec<Col>,
    streams: Table,
    stream_cols: Vec<Col>,
    scratch: String,
}

/// Columns of the stream table that are not registry fields.
const STREAM_EXTRA: &[(&str, Kind)] = &[
    ("hs_outcome", Kind::Str),
    ("hs_server_endpoint", Kind::Str),
    ("hs_start", Kind::Timestamp),
    ("hs_end", Kind::Timestamp),
];

impl ParquetSink {
    /// Create `dir` (and its parents) and the two files in it. `file_label` is written in
    /// every row's `frame_file`.
    pub fn create(dir: &Path, file_label: &str) -> Result<ParquetSink, ParquetError> {
        std::fs::create_dir_all(dir).map_err(|source| ParquetError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        let (packet_cols, mut pschema) = registry_cols(PACKET_FIELDS, 1);
        pschema.insert(0, ("frame_file".into(), Kind::Str));
        let (stream_cols, mut sschema) = registry_cols(STREAM_FIELDS, 2);
        sschema.insert(0, ("frame_file".into(), Kind::Str));
        sschema.insert(1, ("tcp_stream".into(), Kind::I64));
        for s in sschema.iter_mut() {
            if s.0 == "hs_rtt" {
                s.0 = "tcp_analysis_initial_rtt".into();
            }
        }
        sschema.extend(STREAM_EXTRA.iter().map(|(n, k)| (n.to_string(), *k)));
        let packets = Table::create(dir.join("packets.parquet"), &pschema)?;
        let streams = Table::create(dir.join("streams.parquet"), &sschema)?;
        Ok(ParquetSink {
            file_label: file_label.to_string(),
            packets,
            packet_cols,
            streams,
            stream_cols,
            scratch: String::new(),
        })
    }

    /// One packet; packets without a TCP header are not rows.
    pub fn packet(&mut self, v: &PacketView<'_>) -> Result<(), ParquetError> {
        if v.frame.tcp.is_none() {
            return Ok(());
        }
        self.packets.builders[0].push_str(Some(&self.file_label));
        let mut values: Vec<Value<'_>> = Vec::with_capacity(4);
        for c in &self.packet_cols {
            let b = &mut self.packets.builders[c.at];
            if let Some(fast) = c.fast {
                b.push_u64(fast(v));
                continue;
            }
            c.field.values(v, &mut values);
            b.push(values.first(), &mut self.scratch);
        }
        self.packets.row_done()
    }

    /// One stream, in its final state.
    pub fn stream(&mut self, f: &FlowSummary) -> Result<(), ParquetError> {
        let frame = crate::decode::Frame::new(
            f.first_frame,
            f.first_ts,
            0,
            0,
            crate::decode::LinkType::Ethernet,
        );
        let view = PacketView {
            frame: &frame,
            bytes: &[],
            meta: None,
            flow: Some(f),
            first_ts: f.first_ts,
            prev_ts: f.first_ts,
            app: None,
            diff: None,
            tls: None,
            tls_stream: None,
        };
        let t = &mut self.streams;
        t.builders[0].push_str(Some(&self.file_label));
        t.builders[1].push(Some(&Value::UInt(f.stream.into())), &mut self.scratch);
        let mut values: Vec<Value<'_>> = Vec::new();
        for c in &self.stream_cols {
            c.field.values(&view, &mut values);
            t.builders[c.at].push(values.first(), &mut self.scratch);
        }
        let n = 2 + self.stream_cols.len();
        let outcome = crate::engine::servers::Outcome::of(f);
        t.builders[n].push_str(Some(outcome_name(outcome)));
        let server = f.server().map(crate::output::report::endpoint);
        t.builders[n + 1].push_str(server.as_deref());
        t.builders[n + 2].push_ts(f.first_ts);
        t.builders[n + 3].push_ts(f.last_ts);
        t.row_done()
    }

    /// Write the last rows and the footers. Returns (packets, streams) written.
    pub fn finish(self) -> Result<(u64, u64), ParquetError> {
        let p = self.packets.finish()?;
        let s = self.streams.finish()?;
        Ok((p, s))
    }
}

/// The name `hs_outcome` gives an outcome (the `-q` table's columns).
pub fn outcome_name(o: crate::engine::servers::Outcome) -> &'static str {
    use crate::engine::servers::Outcome;
    match o {
        Outcome::Completed => "completed",
        Outcome::Refused => "refused",
        Outcome::HalfOpen => "half_open",
        Outcome::Reset => "reset",
        Outcome::MidStream => "mid_stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_field_is_in_the_registry() {
        for name in PACKET_FIELDS.iter().chain(STREAM_FIELDS) {
            assert!(fields::by_name(name).is_some(), "{name} is not a field");
        }
    }

    #[test]
    fn column_names_replace_dots() {
        assert_eq!(
            column_name("tcp.analysis.initial_rtt"),
            "tcp_analysis_initial_rtt"
        );
        assert_eq!(column_name("hs.rtt.syn_synack"), "hs_rtt_syn_synack");
        assert_eq!(column_name("frame.time_epoch"), "frame_time");
    }
}
