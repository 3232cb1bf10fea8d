#!/usr/bin/env python3
"""Run an SQL file over the streams table of an hs-tui --parquet dataset, on DuckDB or Spark.

    query.py duckdb|spark DATASET_DIR QUERY.sql

DATASET_DIR is what `hs-tui --parquet DIR` wrote: DIR/streams.parquet for one capture,
DIR/capture=NAME/streams.parquet for several (the `capture` column comes from the path), or
with -b DIR/capture=NAME/date=D/hour=H/streams-EPOCH.parquet (rotated periods).
The query sees the table as `streams` (and the packets as `packets`). Prints the result as
JSON lines, one object per row.
"""
import json
import os
import sys


def tables(dataset):
    """(name, glob) of each table; partitioned when the dataset has capture=... folders."""
    hive = any(e.startswith("capture=") for e in os.listdir(dataset))
    rotated = hive and any(
        d.startswith("date=")
        for c in os.listdir(dataset)
        if os.path.isdir(os.path.join(dataset, c))
        for d in os.listdir(os.path.join(dataset, c))
    )
    if rotated:
        # -b: capture=/date=/hour=/TABLE-EPOCH.parquet (a glob Spark reads too; DuckDB
        # also takes DIR/**/TABLE-*.parquet).
        return hive, [(t, f"{dataset}/*/*/*/{t}-*.parquet") for t in ("streams", "packets")]
    sub = "*/" if hive else ""
    return hive, [(t, f"{dataset}/{sub}{t}.parquet") for t in ("streams", "packets")]


def run_duckdb(dataset, sql):
    import duckdb

    con = duckdb.connect()
    hive, ts = tables(dataset)
    for name, path in ts:
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}', hive_partitioning={str(hive).lower()})"
        )
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def run_spark(dataset, sql):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("hs-tui-parquet")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    hive, ts = tables(dataset)
    for name, path in ts:
        reader = spark.read.option("basePath", dataset) if hive else spark.read
        reader.parquet(path).createOrReplaceTempView(name)
    rows = [r.asDict() for r in spark.sql(sql).collect()]
    spark.stop()
    return rows


def main():
    engine, dataset, query = sys.argv[1:4]
    with open(query) as f:
        sql = f.read()
    rows = {"duckdb": run_duckdb, "spark": run_spark}[engine](dataset, sql)
    for r in rows:
        print(json.dumps(r, default=str))


if __name__ == "__main__":
    main()
