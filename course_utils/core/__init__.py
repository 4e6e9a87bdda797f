"""Plumbing every chapter uses: seeds, claims, tables, plotting, data, the machine description."""
