"""Measurements of the lesson and the chapters, and their result files: each script here runs
alone (see README.md); ``report`` writes their numbers into the READMEs."""
