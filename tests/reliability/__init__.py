"""Reliability suite: hostile wire input, concurrent processes and crashes against the real helper and cache."""
