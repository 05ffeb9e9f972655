"""Renderers: each turns one ``Result`` into one format.

``table`` (rich tables), ``jsondoc`` (the JSON document), ``files`` (an output file). Each is
imported where it is used, so that one format does not pay for another's imports.
"""
