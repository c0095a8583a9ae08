"""Widgets of the Pathways terminal UI: the question panel and the live decision panel."""
