"""Thin wrappers over AWS APIs. Each returns plain core data."""
