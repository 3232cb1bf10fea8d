//! The background job that writes one Parquet file: two threads encode its columns.
//!
//! Encoding (dictionaries, levels, Snappy) costs more than tracking the packets, and the
//! columns of a row group are independent, so the writer thread encodes about half of
//! them and a helper thread the other half, each into its own column chunks (arrow-rs'
//! `ArrowColumnWriter`). At the end of a row group the writer thread appends the chunks
//! to the file in column order, as `ArrowWriter` would have written them.

use super::cells::{into_arrays, Cells, Formats};
use super::row::PacketRow;
use super::Kind;
use crossbeam_channel::{Receiver, Sender};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;
use std::thread::JoinHandle;

type Result<T> = std::result::Result<T, ParquetError>;

/// A batch of rows on its way to the writer thread.
pub(super) struct Batch {
    pub(super) cells: Vec<Cells>,
    /// The rows of the [`Cells::Row`] columns (empty when the table has none).
    pub(super) rows: Vec<PacketRow>,
    pub(super) len: usize,
}

/// What the writer thread asks of its helper.
enum Job {
    /// The helper's column writers for a new row group, with their column indices.
    Start(Vec<(usize, ArrowColumnWriter)>),
    /// The helper's columns of a batch (with their indices), in the order of its writers.
    Encode(Vec<(usize, Cells)>, Arc<Vec<PacketRow>>),
    /// Close the row group: send back the column chunks.
    Close,
}

/// Start the writer thread of `file`: it reads batches from `batches` until the sender is
/// dropped, closes a row group once it holds `group_rows` rows or more (at a batch's end),
/// hands emptied row buffers back on `spare_rows`, and returns the finished file (footer
/// written).
pub(super) fn spawn(
    file: File,
    schema: arrow_schema::SchemaRef,
    props: WriterProperties,
    kinds: Vec<Kind>,
    group_rows: usize,
    batches: Receiver<Batch>,
    spare_rows: Sender<Vec<PacketRow>>,
) -> std::io::Result<JoinHandle<Result<File>>> {
    std::thread::Builder::new()
        .name("hs-tui parquet".into())
        .spawn(move || {
            let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
            let (file_writer, factory) = writer.into_serialized_writer()?;
            let helps = split_columns(&kinds);
            let (jobs, helper_jobs) = crossbeam_channel::bounded::<Job>(2);
            let (chunks_tx, chunks) = crossbeam_channel::bounded(1);
            let (helper_kinds, helper_schema) = (kinds.clone(), schema.clone());
            let helper = std::thread::Builder::new()
                .name("hs-tui parquet 2".into())
                .spawn(move || help(helper_jobs, chunks_tx, helper_kinds, helper_schema))?;
            let mut job = FileJob {
                schema,
                kinds,
                helps,
                factory,
                file_writer,
                jobs,
                chunks,
                helper: Some(helper),
                mine: None,
                group_rows,
                row_group: 0,
                rows_in_group: 0,
                fmt: Formats::new(),
            };
            let mut lent: VecDeque<Arc<Vec<PacketRow>>> = VecDeque::new();
            for batch in batches {
                let rows = Arc::new(batch.rows);
                job.encode(batch.cells, &rows, batch.len)?;
                lent.push_back(rows);
                // Rows the helper is done with go back to the tracking thread (a full
                // channel: it allocates one instead).
                while lent.front().is_some_and(|r| Arc::strong_count(r) == 1) {
                    if let Some(Ok(mut rows)) = lent.pop_front().map(Arc::try_unwrap) {
                        rows.clear();
                        let _ = spare_rows.try_send(rows);
                    }
                }
            }
            job.finish()
        })
}

/// Columns the helper encodes: about half the estimated cost, the heaviest spread first.
fn split_columns(kinds: &[Kind]) -> Vec<bool> {
    // Rough cost per row: strings are interned one by one into the dictionary; lists and
    // booleans are mostly empty or a bit each.
    let cost = |k: Kind| match k {
        Kind::Str => 4,
        Kind::ConstStr | Kind::I32 | Kind::I64 | Kind::F64Secs | Kind::Timestamp => 2,
        Kind::Bool | Kind::I64List | Kind::StrList => 1,
    };
    let mut order: Vec<usize> = (0..kinds.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost(kinds[i])));
    let mut helps = vec![false; kinds.len()];
    // The writer thread also appends the chunks to the file: it starts a little behind.
    let (mut mine, mut theirs) = (2, 0);
    for i in order {
        if theirs < mine {
            helps[i] = true;
            theirs += cost(kinds[i]);
        } else {
            mine += cost(kinds[i]);
        }
    }
    helps
}

/// The writer thread's state.
struct FileJob {
    schema: arrow_schema::SchemaRef,
    kinds: Vec<Kind>,
    /// `helps[i]`: column `i` is encoded by the helper.
    helps: Vec<bool>,
    factory: ArrowRowGroupWriterFactory,
    file_writer: SerializedFileWriter<File>,
    jobs: Sender<Job>,
    chunks: Receiver<Vec<(usize, ArrowColumnChunk)>>,
    helper: Option<JoinHandle<Result<()>>>,
    /// This thread's column writers of the row group in progress.
    mine: Option<Vec<(usize, ArrowColumnWriter)>>,
    group_rows: usize,
    row_group: usize,
    rows_in_group: usize,
    fmt: Formats,
}

impl FileJob {
    fn encode(&mut self, cells: Vec<Cells>, rows: &Arc<Vec<PacketRow>>, len: usize) -> Result<()> {
        if self.mine.is_none() {
            let writers = self.factory.create_column_writers(self.row_group)?;
            if writers.len() != self.kinds.len() {
                return Err(ParquetError::General(
                    "a column with several leaves (nested) cannot be written here".into(),
                ));
            }
            let (theirs, mine): (Vec<_>, Vec<_>) = writers
                .into_iter()
                .enumerate()
                .partition(|(i, _)| self.helps[*i]);
            self.send(Job::Start(theirs))?;
            self.mine = Some(mine);
        }
        let (theirs, mine): (Vec<_>, Vec<_>) = cells
            .into_iter()
            .enumerate()
            .partition(|(i, _)| self.helps[*i]);
        self.send(Job::Encode(theirs, rows.clone()))?;
        let arrays = into_arrays(mine, &self.kinds, rows, &mut self.fmt);
        let writers = self.mine.as_mut().expect("created above");
        for ((i, array), (_, writer)) in arrays.into_iter().zip(writers.iter_mut()) {
            write_column(writer, &self.schema, i, array)?;
        }
        self.rows_in_group += len;
        if self.rows_in_group >= self.group_rows {
            self.close_row_group()?;
        }
        Ok(())
    }

    /// Both threads' chunks of the row group, appended to the file in column order.
    fn close_row_group(&mut self) -> Result<()> {
        let Some(mine) = self.mine.take() else {
            return Ok(());
        };
        self.send(Job::Close)?;
        let mut chunks = mine
            .into_iter()
            .map(|(i, w)| w.close().map(|c| (i, c)))
            .collect::<Result<Vec<_>>>()?;
        match self.chunks.recv() {
            Ok(theirs) => chunks.extend(theirs),
            Err(_) => return Err(self.helper_error()),
        }
        chunks.sort_by_key(|(i, _)| *i);
        let mut group = self.file_writer.next_row_group()?;
        for (_, chunk) in chunks {
            chunk.append_to_row_group(&mut group)?;
        }
        group.close()?;
        self.row_group += 1;
        self.rows_in_group = 0;
        Ok(())
    }

    fn send(&mut self, job: Job) -> Result<()> {
        self.jobs.send(job).map_err(|_| self.helper_error())
    }

    /// Why the helper stopped.
    fn helper_error(&mut self) -> ParquetError {
        match self.helper.take().map(|h| h.join()) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => ParquetError::General("the writer's helper thread panicked".into()),
            _ => ParquetError::General("the writer's helper thread stopped".into()),
        }
    }

    /// The last row group, the footer; the file.
    fn finish(mut self) -> Result<File> {
        self.close_row_group()?;
        let FileJob {
            jobs,
            helper,
            file_writer,
            ..
        } = self;
        // The helper ends when its jobs channel closes.
        drop(jobs);
        if let Some(Ok(Err(e))) = helper.map(|h| h.join()) {
            return Err(e);
        }
        file_writer.into_inner()
    }
}

/// Column `i`'s array into its writer.
fn write_column(
    writer: &mut ArrowColumnWriter,
    schema: &arrow_schema::SchemaRef,
    i: usize,
    array: arrow_array::ArrayRef,
) -> Result<()> {
    for leaf in compute_leaves(schema.field(i), &array)? {
        writer.write(&leaf)?;
    }
    Ok(())
}

/// The helper thread: encodes the columns it is given until its jobs channel closes.
fn help(
    jobs: Receiver<Job>,
    chunks: Sender<Vec<(usize, ArrowColumnChunk)>>,
    kinds: Vec<Kind>,
    schema: arrow_schema::SchemaRef,
) -> Result<()> {
    let mut fmt = Formats::new();
    let mut writers: Vec<(usize, ArrowColumnWriter)> = Vec::new();
    for job in jobs {
        match job {
            Job::Start(w) => writers = w,
            Job::Encode(cells, rows) => {
                let arrays = into_arrays(cells, &kinds, &rows, &mut fmt);
                for ((i, array), (_, writer)) in arrays.into_iter().zip(writers.iter_mut()) {
                    write_column(writer, &schema, i, array)?;
                }
            }
            Job::Close => {
                let closed = std::mem::take(&mut writers)
                    .into_iter()
                    .map(|(i, w)| w.close().map(|c| (i, c)))
                    .collect::<Result<Vec<_>>>()?;
                if chunks.send(closed).is_err() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Value;
    use crate::output::parquet::Builder;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_schema::{Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// Several row groups, each column encoded by one of the two threads: read back, every
    /// column holds its own values in row order, and the row groups have the sizes asked.
    #[test]
    fn columns_of_both_threads_come_back_in_order_over_several_row_groups() {
        let kinds = vec![
            Kind::I64,
            Kind::Str,
            Kind::I64,
            Kind::Str,
            Kind::I64,
            Kind::Bool,
        ];
        let helps = split_columns(&kinds);
        assert!(
            helps.iter().any(|&h| h) && helps.iter().any(|&h| !h),
            "{helps:?}"
        );
        let schema = Arc::new(Schema::new(
            kinds
                .iter()
                .enumerate()
                .map(|(i, k)| Field::new(format!("c{i}"), k.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let file = File::create(&path).unwrap();
        let (tx, rx) = crossbeam_channel::bounded(2);
        let (spare_tx, _spare) = crossbeam_channel::bounded(3);
        let props = WriterProperties::builder().build();
        let job = spawn(file, schema.clone(), props, kinds.clone(), 20, rx, spare_tx).unwrap();
        // 11 batches of 5 rows: row groups of 20, 20 and 15 rows.
        let mut text = String::new();
        for b in 0..11 {
            let mut cells: Vec<Cells> = kinds
                .iter()
                .map(|k| Cells::Built(Builder::new(*k)))
                .collect();
            for r in 0..5u64 {
                let n = b * 5 + r;
                for (i, c) in cells.iter_mut().enumerate() {
                    let v = match kinds[i] {
                        Kind::Str => Value::Str(format!("{i}:{n}").into()),
                        Kind::Bool => Value::Bool(n % 2 == 0),
                        _ => Value::UInt(n * 10 + i as u64),
                    };
                    c.builder().push(Some(&v), &mut text);
                }
            }
            tx.send(Batch {
                cells,
                rows: Vec::new(),
                len: 5,
            })
            .unwrap();
        }
        drop(tx);
        job.join().unwrap().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, vec![20, 20, 15]);
        let mut n = 0u64;
        for batch in reader.build().unwrap() {
            let batch = batch.unwrap();
            for row in 0..batch.num_rows() {
                for (i, k) in kinds.iter().enumerate() {
                    let col = batch.column(i);
                    match k {
                        Kind::Str => {
                            assert_eq!(col.as_string::<i32>().value(row), format!("{i}:{n}"))
                        }
                        Kind::Bool => assert_eq!(col.as_boolean().value(row), n % 2 == 0),
                        _ => assert_eq!(
                            col.as_primitive::<Int64Type>().value(row),
                            (n * 10 + i as u64) as i64
                        ),
                    }
                }
                n += 1;
            }
        }
        assert_eq!(n, 55);
    }
}
