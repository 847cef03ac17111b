"""Recommendation services. Submodules: `imports` (interaction imports)."""
