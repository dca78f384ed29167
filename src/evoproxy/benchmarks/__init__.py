"""Benchmark data: download of the NAS-Bench-Suite-Zero release and its ingest into ProblemTables."""
