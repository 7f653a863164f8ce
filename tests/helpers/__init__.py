"""Helpers the test packages share (conftest.py files hold fixtures only)."""
