"""Benchmarks that compare the site against a ceiling measured in the same run (see README.md)."""
