"""The NAS-Bench-Suite-Zero release: its download (:mod:`.download`) and its ingest into ProblemTables (:mod:`.ingest`)."""
