"""Retrieval metrics and the four evaluation protocols of TMR."""
