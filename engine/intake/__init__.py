"""Intake: how cases come in (case files, JSON Lines, the generator, the adviser's interview), validated."""
