"""``python -m bench``: the app measured against its floor (issue 9).

Every timing is taken side by side with a baseline on the same machine at the same
moment, and reported as a ratio of medians (and p95), because absolute numbers on a
shared 2-core machine drift with whatever else runs. Kept free of imports: child
processes import ``bench.<probe>`` and their start-up time is part of what they measure.
"""
