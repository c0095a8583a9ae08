"""Dialogs of the Pathways terminal UI: confirm, new case, referral form."""
