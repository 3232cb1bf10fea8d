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

mod cells;
mod row;
mod stream_cells;
mod writer;

use crate::fields::{self, FieldType, PacketView, Value};
use crate::track::FlowSummary;
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::ArrayRef;
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use cells::Cells;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use row::{PacketRow, RowCol};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stream_cells::StreamCol;
use writer::Batch;

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
/// `frame_file` and `tcp_stream`: the flow fields but `hs.start` (a timestamp column of
/// its own); `hs.rtt` is named `tcp_analysis_initial_rtt` here (it is the same value).
pub fn stream_table_fields() -> impl Iterator<Item = &'static str> {
    (fields::FLOW_FIELDS.iter().copied()).filter(|&n| n != "hs.start")
}

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
    /// Every occurrence of a multi-valued field (the `tls.*` ones), in order.
    I64List,
    StrList,
    /// The same string in every row (`frame_file`): dictionary-encoded, nothing per row.
    ConstStr,
}

impl Kind {
    /// A column of every occurrence: integers (and booleans) as `list<int64>`, the rest
    /// as `list<string>`.
    fn list_of(ty: FieldType) -> Kind {
        match Kind::of(ty) {
            Kind::I32 | Kind::I64 => Kind::I64List,
            _ => Kind::StrList,
        }
    }
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
            Kind::I64List => {
                DataType::List(Arc::new(ArrowField::new("item", DataType::Int64, true)))
            }
            Kind::StrList => {
                DataType::List(Arc::new(ArrowField::new("item", DataType::Utf8, true)))
            }
            Kind::ConstStr => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
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
    I64List(ListBuilder<Int64Builder>),
    StrList(ListBuilder<StringBuilder>),
    Const(Option<Arc<str>>, usize),
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
            Kind::I64List => {
                Builder::I64List(ListBuilder::with_capacity(Int64Builder::new(), BATCH_ROWS))
            }
            Kind::StrList => {
                Builder::StrList(ListBuilder::with_capacity(StringBuilder::new(), BATCH_ROWS))
            }
            Kind::ConstStr => Builder::Const(None, 0),
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
                Some(Value::V4(a)) => b.append_value(crate::track::V4Text::new(*a).as_str()),
                Some(v) => {
                    scratch.clear();
                    v.write(FieldType::Str, scratch);
                    b.append_value(&*scratch);
                }
                None => b.append_null(),
            },
            Builder::I64List(_) | Builder::StrList(_) => {
                self.push_all(v.map(std::slice::from_ref), scratch)
            }
            Builder::Const(_, rows) => *rows += 1,
        }
    }

    /// Append every occurrence (`None`: the field's layer is absent, a null list).
    fn push_all(&mut self, vs: Option<&[Value<'_>]>, scratch: &mut String) {
        match self {
            Builder::I64List(b) => match vs {
                Some(vs) => {
                    for v in vs {
                        b.values().append_option(match v {
                            Value::UInt(x) => i64::try_from(*x).ok(),
                            Value::Int(x) => Some(*x),
                            Value::Bool(x) => Some(*x as i64),
                            Value::Present => Some(1),
                            _ => None,
                        });
                    }
                    b.append(true);
                }
                None => b.append(false),
            },
            Builder::StrList(b) => match vs {
                Some(vs) => {
                    for v in vs {
                        scratch.clear();
                        v.write(FieldType::Str, scratch);
                        b.values().append_value(&*scratch);
                    }
                    b.append(true);
                }
                None => b.append(false),
            },
            _ => self.push(vs.and_then(|v| v.first()), scratch),
        }
    }

    /// `n` cells of an absent field (null; false in a presence column).
    fn push_absent(&mut self, n: usize) {
        match self {
            Builder::I32(b) => b.append_nulls(n),
            Builder::I64(b) => b.append_nulls(n),
            Builder::F64(b) => b.append_nulls(n),
            Builder::Bool(b) => b.append_n(n, false),
            Builder::Ts(b) => b.append_nulls(n),
            Builder::Str(b) => b.append_nulls(n),
            Builder::I64List(b) => b.append_nulls(n),
            Builder::StrList(b) => b.append_nulls(n),
            Builder::Const(_, rows) => *rows += n,
        }
    }

    fn push_str(&mut self, s: Option<&str>) {
        match self {
            Builder::Str(b) => b.append_option(s),
            Builder::Const(v, rows) => {
                if v.is_none() {
                    *v = s.map(Arc::from);
                }
                *rows += 1;
            }
            _ => {}
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
            Builder::I64List(b) => Arc::new(b.finish()),
            Builder::StrList(b) => Arc::new(b.finish()),
            Builder::Const(v, n) => {
                let rows = std::mem::take(n);
                let keys = arrow_array::Int32Array::from(vec![0; rows]);
                let values = arrow_array::StringArray::from(vec![v.as_deref().unwrap_or("")]);
                Arc::new(arrow_array::DictionaryArray::new(keys, Arc::new(values)))
            }
        }
    }
}

/// One Parquet file being written: its columns' cells here, and a background job of two
/// threads that turn them into Arrow columns, encode and compress them (`writer.rs`).
struct Table {
    path: PathBuf,
    cells: Vec<Cells>,
    /// The batch's rows, when the table has [`Cells::Row`] columns (the packet table).
    packet_rows: Vec<PacketRow>,
    kinds: Vec<Kind>,
    rows: usize,
    total: u64,
    tx: Option<crossbeam_channel::Sender<Batch>>,
    /// Row buffers the writer thread is done with, to be filled again: a fresh one per
    /// batch costs its pages' faults every time.
    spare_rows: crossbeam_channel::Receiver<Vec<PacketRow>>,
    writer: Option<std::thread::JoinHandle<Result<File, parquet::errors::ParquetError>>>,
}

/// Columns whose values are mostly distinct: a dictionary only costs time there (per
/// value a hash and a lookup; the per-stream times have one value per stream, and
/// overflow the dictionary page in a large capture anyway). The [`DELTA`] ones too.
const NO_DICTIONARY: &[&str] = &[
    "tcp_analysis_initial_rtt",
    "tcp_analysis_ack_rtt",
    "hs_rtt_syn_synack",
    "hs_rtt_synack_ack",
    "hs_rtt_syn_rst",
    "hs_rtt_syn_data",
    "hs_start",
    "hs_end",
];

/// Integer columns whose neighbouring values are close (frame numbers and times rise;
/// a stream's seq, ack and ports repeat or step), with no dictionary: delta-encoded
/// they take a few bits a value, where plain they took 8 bytes that Snappy then had to
/// compress, which was the writer thread's largest cost. Lengths and windows too: a
/// dictionary hashes every cell (1.7% of the export's instructions for these three), and
/// delta-encoded they cost loopback-3m's packet file 3% more bytes (35.5 -> 36.5 MB).
const DELTA: &[&str] = &[
    "frame_number",
    "frame_time",
    "tcp_seq",
    "tcp_ack",
    "tcp_srcport",
    "tcp_dstport",
    "tcp_stream",
    "frame_len",
    "tcp_len",
    "tcp_window_size",
];

/// The columns with min/max statistics: those whose values rise through the file (frame
/// numbers and times, stream numbers, a stream's start and end), so a row group's range
/// is narrow and a query on them (`frame_time BETWEEN ..`, `tcp_stream = ..`) skips the
/// other row groups. Elsewhere every row group spans nearly the whole range of values
/// (addresses, flags, states, RTTs), so statistics prune nothing, and computing them
/// compares every cell twice: about 8% of the export's CPU on loopback-3m.
const STATISTICS: &[&str] = &[
    "frame_number",
    "frame_time",
    "tcp_stream",
    "hs_start",
    "hs_end",
];

impl Table {
    /// `gets`: how each column is read (`Get::Generic`: through its builder).
    fn create(
        path: PathBuf,
        columns: &[(String, Kind)],
        gets: &[Get],
    ) -> Result<Table, ParquetError> {
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
        use parquet::file::properties::EnabledStatistics;
        use parquet::schema::types::ColumnPath;
        let mut props = WriterProperties::builder().set_statistics_enabled(EnabledStatistics::None);
        for c in NO_DICTIONARY.iter().chain(DELTA) {
            props = props.set_column_dictionary_enabled(ColumnPath::from(*c), false);
        }
        for c in DELTA {
            props = props.set_column_encoding(
                ColumnPath::from(*c),
                parquet::basic::Encoding::DELTA_BINARY_PACKED,
            );
        }
        for c in STATISTICS {
            props =
                props.set_column_statistics_enabled(ColumnPath::from(*c), EnabledStatistics::Chunk);
        }
        let props = props
            .set_compression(Compression::SNAPPY)
            .set_write_batch_size(8192)
            .set_created_by(format!("hs-tui {}", env!("CARGO_PKG_VERSION")))
            .build();
        // Two batches in flight at most: memory stays flat when the disk is slow.
        let (tx, rx) = crossbeam_channel::bounded::<Batch>(2);
        let (spare_tx, spare_rows) = crossbeam_channel::bounded::<Vec<PacketRow>>(3);
        let kinds: Vec<Kind> = columns.iter().map(|(_, k)| *k).collect();
        let handle = writer::spawn(
            file,
            schema,
            props,
            kinds.clone(),
            ROW_GROUP_ROWS,
            rx,
            spare_tx,
        )
        .map_err(|source| ParquetError::Create {
            path: path.clone(),
            source,
        })?;
        Ok(Table {
            path,
            cells: gets
                .iter()
                .zip(&kinds)
                .map(|(g, k)| Cells::new(*g, *k))
                .collect(),
            packet_rows: match gets.iter().any(|g| matches!(g, Get::Row(_))) {
                true => Vec::with_capacity(BATCH_ROWS),
                false => Vec::new(),
            },
            spare_rows,
            kinds,
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
        let len = std::mem::take(&mut self.rows);
        // Fresh cells with their full capacity: growing them back row by row costs
        // reallocations and copies.
        let fresh = self
            .cells
            .iter()
            .zip(&self.kinds)
            .map(|(c, k)| c.fresh(*k))
            .collect();
        let rows = if self.packet_rows.is_empty() {
            Vec::new()
        } else {
            let spare = self
                .spare_rows
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH_ROWS));
            std::mem::replace(&mut self.packet_rows, spare)
        };
        let batch = Batch {
            cells: std::mem::replace(&mut self.cells, fresh),
            rows,
            len,
        };
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

/// How a column's cell is read from a packet. `Generic` goes through the registry's getter
/// (every field can); `Row` columns are the same values read from the packet's
/// [`PacketRow`], for the hottest columns: no `Value`, no allocation, no formatting per
/// row. A test checks them against the registry cell by cell on every sample capture.
#[derive(Clone, Copy)]
enum Get {
    Generic,
    /// Every occurrence, for a list column.
    All,
    Row(RowCol),
    /// A stream-table cell read from the summary ([`stream_cells`]).
    Stream(StreamCol),
}

/// Which table's fast cells a column may use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fast {
    Packets,
    Streams,
    /// None: every cell through the registry (the tests' reference).
    #[cfg_attr(not(test), allow(dead_code))]
    None,
}

fn fast_get(name: &str, kind: Kind, table: Fast) -> Get {
    match table {
        Fast::Packets => match RowCol::of(name) {
            Some(c) if c.fits(kind) => Get::Row(c),
            _ => Get::Generic,
        },
        Fast::Streams => StreamCol::of(name).map_or(Get::Generic, Get::Stream),
        Fast::None => Get::Generic,
    }
}

/// A registry field, how it is read and the builder index it fills.
struct Col {
    field: &'static fields::Field,
    get: Get,
    at: usize,
}

/// Columns for `names`, in order, starting at builder `first_index`, using `table`'s fast
/// cells where it has them. Fields whose name starts with one of `lists` are list columns
/// of every occurrence.
fn registry_cols(
    names: &[&str],
    first_index: usize,
    table: Fast,
    lists: &[&str],
) -> (Vec<Col>, Vec<(String, Kind)>) {
    let mut cols = Vec::new();
    let mut schema = Vec::new();
    for name in names {
        // The lists above name registry fields; a test checks that each one exists.
        let Some(field) = fields::by_name(name) else {
            continue;
        };
        let list = lists.iter().any(|l| name.starts_with(l))
            && !matches!(field.ty, FieldType::None | FieldType::Protocol);
        let kind = if list {
            Kind::list_of(field.ty)
        } else {
            Kind::of(field.ty)
        };
        let get = match list {
            true => Get::All,
            false => fast_get(name, kind, table),
        };
        cols.push(Col {
            field,
            get,
            at: first_index + schema.len(),
        });
        schema.push((column_name(name), kind));
    }
    (cols, schema)
}

/// Registry fields whose name starts with one of `prefixes` and that `skip` does not
/// hold, in registry order: the columns that follow the fixed lists, so that a field
/// added to the registry under such a prefix becomes a column without touching this file.
pub fn registry_fields(prefixes: &[&str], skip: &[&str]) -> Vec<&'static str> {
    fields::FIELDS
        .iter()
        .map(|f| f.name)
        .filter(|n| prefixes.iter().any(|p| n.starts_with(p)) && !skip.contains(n))
        .collect()
}

/// `tls.*` fields of the packet table: every one but the raw bytes (random, certificates).
fn packet_tls_fields() -> Vec<&'static str> {
    registry_fields(&["tls."], &[])
        .into_iter()
        .filter(|n| fields::by_name(n).is_some_and(|f| f.ty != FieldType::Bytes))
        .filter(|n| !n.starts_with("tls.handshake.ja4_r"))
        .collect()
}

/// The two tables of one capture.
pub struct ParquetSink {
    file_label: String,
    packets: Table,
    /// The packet columns read through the registry (the others are in [`PacketRow`]).
    packet_cols: Vec<Col>,
    /// `packet_cols[tls_from..]` are the `tls.*` columns: empty in most rows, so rows
    /// without TLS leave them out and `tls_pending` counts them, filled at once later.
    tls_from: usize,
    tls_pending: usize,
    streams: Table,
    stream_cols: Vec<Col>,
    /// Reused from row to row: text of the registry cells, and their values (emptied
    /// after each use; only its allocation is kept, see [`ParquetSink::packet`]).
    text: String,
    values: Vec<Value<'static>>,
}

/// Columns of the stream table that are not registry fields.
const STREAM_EXTRA: &[(&str, Kind)] = &[
    ("hs_outcome", Kind::Str),
    ("hs_server_endpoint", Kind::Str),
    ("hs_start", Kind::Timestamp),
    ("hs_end", Kind::Timestamp),
    ("hs_open_at_rotation", Kind::Bool),
];

/// The packet table's registry fields: [`PACKET_FIELDS`], then every `tls.*` field.
pub fn packet_fields() -> Vec<&'static str> {
    let mut v = PACKET_FIELDS.to_vec();
    v.extend(packet_tls_fields());
    v
}

/// The stream table's registry fields: [`stream_table_fields`], then every `hs.tls.*` and
/// `hs.setup.*` field of the registry (a field added there is a column here).
pub fn stream_fields() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = stream_table_fields().collect();
    let more = registry_fields(&["hs.tls.", "hs.setup."], &v);
    v.extend(more);
    v
}

impl ParquetSink {
    /// Create `dir` (and its parents) and the two files in it. `file_label` is written in
    /// every row's `frame_file`.
    pub fn create(dir: &Path, file_label: &str) -> Result<ParquetSink, ParquetError> {
        std::fs::create_dir_all(dir).map_err(|source| ParquetError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        Self::create_files(
            dir.join("packets.parquet"),
            dir.join("streams.parquet"),
            file_label,
        )
    }

    /// The two tables at these paths (their directory exists).
    pub fn create_files(
        packets_path: PathBuf,
        streams_path: PathBuf,
        file_label: &str,
    ) -> Result<ParquetSink, ParquetError> {
        let (packet_cols, mut pschema) =
            registry_cols(&packet_fields(), 1, Fast::Packets, &["tls."]);
        pschema.insert(0, ("frame_file".into(), Kind::ConstStr));
        let (stream_cols, mut sschema) = registry_cols(&stream_fields(), 2, Fast::Streams, &[]);
        sschema.insert(0, ("frame_file".into(), Kind::ConstStr));
        sschema.insert(1, ("tcp_stream".into(), Kind::I64));
        for s in sschema.iter_mut() {
            if s.0 == "hs_rtt" {
                s.0 = "tcp_analysis_initial_rtt".into();
            }
        }
        sschema.extend(STREAM_EXTRA.iter().map(|(n, k)| (n.to_string(), *k)));
        let pgets: Vec<Get> = std::iter::once(Get::Generic)
            .chain(packet_cols.iter().map(|c| c.get))
            .collect();
        let packets = Table::create(packets_path, &pschema, &pgets)?;
        let streams = Table::create(streams_path, &sschema, &vec![Get::Generic; sschema.len()])?;
        let mut packet_cols = packet_cols;
        packet_cols.retain(|c| !matches!(c.get, Get::Row(_)));
        let tls_from = packet_cols
            .iter()
            .position(|c| c.field.name.starts_with("tls."))
            .unwrap_or(packet_cols.len());
        Ok(ParquetSink {
            file_label: file_label.to_string(),
            packets,
            packet_cols,
            tls_from,
            tls_pending: 0,
            streams,
            stream_cols,
            text: String::new(),
            values: Vec::with_capacity(8),
        })
    }

    /// One packet; packets without a TCP header are not rows.
    pub fn packet(&mut self, v: &PacketView<'_>) -> Result<(), ParquetError> {
        if v.frame.tcp.is_none() {
            return Ok(());
        }
        self.packets.cells[0]
            .builder()
            .push_str(Some(&self.file_label));
        let cols = if v.tls.is_none() {
            self.tls_pending += 1;
            &self.packet_cols[..self.tls_from]
        } else {
            self.fill_tls();
            &self.packet_cols[..]
        };
        self.packets.packet_rows.push(PacketRow::of(v));
        // Most packets have no registry column left (every one but `tls.*` is in the row).
        if !cols.is_empty() {
            // The buffer's allocation is reused from row to row: collecting the emptied
            // vector back into one of `'static` values keeps it (in-place iteration).
            let mut values: Vec<Value<'_>> = std::mem::take(&mut self.values);
            for c in cols {
                self.packets.cells[c.at].push(c, v, &mut self.text, &mut values);
            }
            values.clear();
            self.values = values.into_iter().map(|_| Value::Present).collect();
        }
        if self.packets.rows + 1 >= BATCH_ROWS {
            self.fill_tls();
        }
        self.packets.row_done()
    }

    /// The `tls.*` cells of the rows without TLS since the last call.
    fn fill_tls(&mut self) {
        let n = std::mem::take(&mut self.tls_pending);
        if n > 0 {
            for c in &self.packet_cols[self.tls_from..] {
                self.packets.cells[c.at].builder().push_absent(n);
            }
        }
    }

    /// One stream, in its final state, and its TLS handshake if it had one.
    pub fn stream(
        &mut self,
        f: &FlowSummary,
        tls: Option<&crate::engine::tls::TlsSummary>,
    ) -> Result<(), ParquetError> {
        self.stream_row(f, tls, false)
    }

    /// One stream and its TLS handshake; `open_at_rotation`: the stream is still tracked
    /// and this is its state when its period's files closed (`hs_open_at_rotation`).
    pub fn stream_row(
        &mut self,
        f: &FlowSummary,
        tls: Option<&crate::engine::tls::TlsSummary>,
        open_at_rotation: bool,
    ) -> Result<(), ParquetError> {
        let t = &mut self.streams;
        t.cells[0].builder().push_str(Some(&self.file_label));
        t.cells[1]
            .builder()
            .push(Some(&Value::UInt(f.stream.into())), &mut self.text);
        stream_cells::push_stream_cells(
            &self.stream_cols,
            &mut t.cells,
            f,
            tls,
            &mut self.text,
            &mut self.values,
        );
        let n = 2 + self.stream_cols.len();
        let outcome = crate::engine::servers::Outcome::of(f);
        t.cells[n].builder().push_str(Some(outcome_name(outcome)));
        // `-q`'s server key, as `report::endpoint` writes it.
        let server = t.cells[n + 1].builder();
        match f.server() {
            Some(e) => e.text(false, &mut self.text, |s| server.push_str(Some(s))),
            None => server.push_str(None),
        }
        t.cells[n + 2].builder().push_ts(f.first_ts);
        t.cells[n + 3].builder().push_ts(f.last_ts);
        if let Builder::Bool(b) = t.cells[n + 4].builder() {
            b.append_value(open_at_rotation);
        }
        t.row_done()
    }

    /// The two files' paths (packets, streams).
    pub fn paths(&self) -> (&Path, &Path) {
        (&self.packets.path, &self.streams.path)
    }

    /// Write the last rows and the footers. Returns (packets, streams) written.
    pub fn finish(mut self) -> Result<(u64, u64), ParquetError> {
        self.fill_tls();
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
pub(super) mod tests {
    use super::*;

    #[test]
    fn every_listed_field_is_in_the_registry() {
        for name in PACKET_FIELDS.iter().copied().chain(stream_table_fields()) {
            assert!(fields::by_name(name).is_some(), "{name} is not a field");
        }
    }

    /// The sample and test captures that open (damaged and non-captures are other tests'
    /// business), with the TLS ones.
    pub(super) fn sample_files() -> Vec<PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [
            "sample-captures",
            "tests/data",
            "tests/conformance",
            "tests/conformance/tls/captures",
        ] {
            if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
                files.extend(
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng")),
                );
            }
        }
        files.sort();
        files
            .retain(|f| crate::capture::open(&crate::capture::SourceSpec::File(f.clone())).is_ok());
        files
    }

    /// Every fast cell equals the registry's cell, packet by packet, on every sample
    /// capture (and the TLS ones, so the list columns see handshakes).
    #[test]
    fn fast_cells_agree_with_the_registry() {
        let names = packet_fields();
        let (fast, schema) = registry_cols(&names, 0, Fast::Packets, &["tls."]);
        let (slow, _) = registry_cols(&names, 0, Fast::None, &["tls."]);
        assert!(fast.iter().filter(|c| matches!(c.get, Get::Row(_))).count() >= 30);
        let mut rows = 0;
        let mut tls_rows = 0;
        for file in sample_files() {
            let frames = crate::engine::tests::frames(file.to_str().unwrap());
            let mut engine = crate::engine::Engine::new(Default::default());
            engine.set_analysis(true);
            engine.dissect(crate::engine::AppLayer::Tls);
            let mut a: Vec<Cells> = fast
                .iter()
                .zip(&schema)
                .map(|(c, (_, k))| Cells::new(c.get, *k))
                .collect();
            let mut b: Vec<Cells> = slow
                .iter()
                .zip(&schema)
                .map(|(c, (_, k))| Cells::new(c.get, *k))
                .collect();
            let mut packet_rows = Vec::new();
            let mut text = String::new();
            for (f, bytes) in &frames {
                let v = engine.process(f, bytes);
                let mut values = Vec::new();
                tls_rows += v.tls.is_some() as usize;
                packet_rows.push(PacketRow::of(&v));
                for (cf, cs) in fast.iter().zip(&slow) {
                    a[cf.at].push(cf, &v, &mut text, &mut values);
                    b[cs.at].push(cs, &v, &mut text, &mut values);
                }
                rows += 1;
            }
            let mut fmt = cells::Formats::new();
            let kinds: Vec<Kind> = schema.iter().map(|(_, k)| *k).collect();
            let x = cells::into_arrays(
                a.into_iter().enumerate().collect(),
                &kinds,
                &packet_rows,
                &mut fmt,
            );
            let y = cells::into_arrays(b.into_iter().enumerate().collect(), &kinds, &[], &mut fmt);
            for ((i, x), (_, y)) in x.into_iter().zip(y) {
                assert_eq!(
                    x.to_data(),
                    y.to_data(),
                    "{}: column {}",
                    file.display(),
                    schema[i].0
                );
            }
        }
        assert!(rows > 10_000, "{rows} rows");
        assert!(tls_rows > 100, "{tls_rows} rows with TLS");
    }

    #[test]
    fn stream_table_has_the_tls_and_setup_columns() {
        let f = stream_fields();
        for n in [
            "hs.tls.sni",
            "hs.tls.version",
            "hs.tls.cipher",
            "hs.tls.alpn",
            "hs.tls.ja4",
            "hs.setup.tcp",
            "hs.setup.tls",
        ] {
            assert!(f.contains(&n), "{n}");
        }
        let p = packet_fields();
        for n in [
            "tls.handshake.type",
            "tls.handshake.extensions_server_name",
            "tls.record.content_type",
        ] {
            assert!(p.contains(&n), "{n}");
        }
        assert!(
            !p.contains(&"tls.handshake.random"),
            "raw bytes are not exported"
        );
    }

    /// The columns listed in [`DELTA`] are delta-encoded in the file, with no dictionary;
    /// the string columns of a few values are dictionary-encoded; the stream table has a
    /// column for every flow field but `hs.start`.
    #[test]
    fn written_encodings_and_stream_columns() {
        use parquet::basic::Encoding;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let dir = tempfile::tempdir().unwrap();
        let mut sink = ParquetSink::create(dir.path(), "x.pcap").unwrap();
        let mut e = crate::engine::Engine::new(crate::track::Budget::default());
        for (f, b) in crate::engine::tests::frames("sample-captures/many-short.pcap") {
            let v = e.process(&f, &b);
            sink.packet(&v).unwrap();
        }
        for st in e.summaries() {
            sink.stream(st, None).unwrap();
        }
        sink.finish().unwrap();
        let file = File::open(dir.path().join("packets.parquet")).unwrap();
        let meta = SerializedFileReader::new(file).unwrap().metadata().clone();
        let rg = meta.row_group(0);
        let encodings = |name: &str| -> Vec<Encoding> {
            (0..rg.num_columns())
                .map(|i| rg.column(i))
                .find(|c| c.column_path().string() == name)
                .unwrap_or_else(|| panic!("no column {name}"))
                .encodings()
                .collect()
        };
        for c in DELTA {
            let e = encodings(c);
            assert!(e.contains(&Encoding::DELTA_BINARY_PACKED), "{c}: {e:?}");
            assert!(!e.contains(&Encoding::RLE_DICTIONARY), "{c}: {e:?}");
        }
        let e = encodings("hs_state");
        assert!(e.contains(&Encoding::RLE_DICTIONARY), "hs_state: {e:?}");
        // Min/max where they prune (rising columns), nowhere else.
        for i in 0..rg.num_columns() {
            let c = rg.column(i);
            let name = c.column_path().string();
            let has = c.statistics().is_some_and(|s| s.min_bytes_opt().is_some());
            assert_eq!(
                has,
                STATISTICS.contains(&name.as_str()),
                "{name} statistics"
            );
        }
        let file = File::open(dir.path().join("streams.parquet")).unwrap();
        let meta = SerializedFileReader::new(file).unwrap().metadata().clone();
        let names: Vec<String> = meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        for f in fields::FLOW_FIELDS.iter().filter(|&&f| f != "hs.start") {
            let want = if *f == "hs.rtt" {
                "tcp_analysis_initial_rtt".to_string()
            } else {
                column_name(f)
            };
            assert!(names.contains(&want), "{want} in {names:?}");
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
