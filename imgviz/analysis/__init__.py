"""Analyses: pure functions, frames in, new frames out; each docstring states the rule it computes.

==============  ===========================================================================
``sizes``       per image, per repository and whole-snapshot sizes; `docker system df`; what-if
``sharing``     the layer tree, shared layers and what sharing saves, the pairwise matrix
``env``         ENV defaults, labels and the `-e` overrides containers run with
``listing``     the rows of `docker image ls` and `docker image history` (also without pandas)
``pull``        what `docker pull` would download; compressed vs uncompressed sizes
``secrets``     the one masking rule for secret-looking values
``cascade``     which build steps a change rebuilds
==============  ===========================================================================

Nothing here reads an engine, prints, or shows a bar. Which images a user means (names, patterns,
references, the top N and the rest) is :mod:`imgviz.selection`'s to decide; byte formats are
:mod:`imgviz.units`'. Importing this package imports none of its modules.
"""
