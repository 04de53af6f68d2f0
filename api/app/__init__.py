"""Génération Entrepreneurs backend."""
