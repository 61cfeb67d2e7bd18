"""Evaluation: question sets in (datasets), metrics as pure functions (metrics), runs over the
pipeline with reports and regression gates (runner, report)."""
