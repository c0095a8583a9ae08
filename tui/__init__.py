"""The Pathways terminal UI (Textual): advise, train and audit modes over the engine."""
