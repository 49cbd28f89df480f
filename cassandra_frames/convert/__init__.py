"""Value conversion in both directions, one module per direction. No I/O and no driver import.

- :mod:`~cassandra_frames.convert.to_arrow`: the values the driver returns for a page → Arrow arrays
  (the read side).
- :mod:`~cassandra_frames.convert.from_arrow`: Arrow arrays → the values bound into a statement, with the
  rows that cannot be written (the write side); its per-type converters are in ``from_arrow_numbers`` and
  ``from_arrow_scalars``, their shared helpers in ``from_arrow_base``, and the value types it builds in
  :mod:`~cassandra_frames.convert.values`.
"""
