"""Secrets people type: PINs (slow, salted, peppered hashes; never logged or stored raw)."""
