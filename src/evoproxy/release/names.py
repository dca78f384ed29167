"""File names of the ingested data folder that the workflow and the library both use (pure: no heavy imports)."""

from __future__ import annotations

ACCURACY_TABLE = "nb201_accuracy.parquet"
"""NB201 ground truth of all 15,625 cells (NATS-Bench 200-epoch means), written by ingest beside the ProblemTables."""
