"""Measurements of the lesson and their result files: each script here runs alone (see
README.md); ``seed_results`` reads the result files for the lesson and the READMEs."""
