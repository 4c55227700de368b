"""Run records: the on-disk store (``store``), merging shards (``merge``), the environment
fingerprint (``environment``), per-image predictions (``predictions``) and their diff (``diff``)."""
