"""Fixity: content hashes of whole files and chunks, their re-verification, duplicates."""
