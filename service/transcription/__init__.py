"""Transcribing pages by hand line by line, and with a local vision model (opt-in)."""
