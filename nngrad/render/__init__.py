"""Renderers: each turns one ``Result`` into one format (a rich table, JSON, an output file)."""

from .files import output_format, save_result
from .jsondoc import result_document, to_json

__all__ = ["result_document", "to_json", "save_result", "output_format"]
