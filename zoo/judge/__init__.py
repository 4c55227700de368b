"""Judging: claim vs measurement -> verdict (``compare``), tolerances and waivers
(``policy``), re-judging stored runs (``gate``), exit codes (``exit_codes``) and
run-to-run comparison (``history``)."""
