"""Paper tables, figures and the results report, regenerated from result files only."""
