"""collabscope: bibliographic exports to a reproducible study of international collaboration."""

__version__ = "0.1.0"
