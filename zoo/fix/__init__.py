"""From finding to fixing: the corrected card values for the claims a run found drifted.

:mod:`zoo.fix.source` gets judged runs (the runs given, or one made now), :mod:`zoo.fix.plan`
decides which drifted claims get a value and which are left alone and why, :mod:`zoo.fix.values`
writes a value the way the card wrote the old one, :mod:`zoo.fix.edit` edits the card files
(only each value, every other byte kept, only safe files), and :mod:`zoo.fix.diff` shows the edits
as a unified diff. ``zoo fix`` (:mod:`zoo.cli.fix_cmd`) puts them together;
:mod:`zoo.views.fix_text` writes the summary and the pull-request description.
"""
