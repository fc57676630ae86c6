"""Prompt templates as data, and the one module that renders them within a token budget."""
