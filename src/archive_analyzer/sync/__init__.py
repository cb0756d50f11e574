"""Replication of the catalog to Firestore."""
