"""plotly figures, one function per analysis noun: frames first, keyword-only options, a go.Figure back.

plotly itself is imported when a figure is drawn, not when this package is imported.

================================  ===========================================================
``image_history(frames, image)`` one image's history entries and layer bytes, log or linear
``layer_tree(frames)``            icicle/sunburst of distinct layers (chain IDs), sized by bytes
``sharing_matrix(frames)``        heatmap of bytes shared by each pair of images
``image_sizes(frames)``           per image, stacked shared vs unique bytes
``reported_vs_physical(frames)``  `docker image ls` sum against bytes on disk
``what_if(frames, remove)``       what removing images frees, and what stays and why
``image_layers(frames, image)``   one image's layers: its base's and its own, each on its axis
``build_cache(frames)``           BuildKit's cache records by type, as `docker system df` counts them
``files_tree(files)``             an image's layers -> directories -> files (bytes, count or log)
``wasted_files(files)``           files shipped in layers that the final filesystem does not show
``layer_changes(files)``          per layer: added, modified, metadata-only, removed
``duplicate_matrix(files)``       identical file contents two images carry in separate layers
================================  ===========================================================
"""

from .files import duplicate_matrix, files_tree, layer_changes, wasted_files
from .disk import build_cache
from .history import image_history
from .layers import image_layers
from .sharing import layer_tree, sharing_matrix
from .sizes import image_sizes, reported_vs_physical, what_if

__all__ = ["build_cache", "duplicate_matrix", "files_tree", "image_history", "image_layers", "image_sizes",
           "layer_changes", "layer_tree", "reported_vs_physical", "sharing_matrix", "wasted_files", "what_if"]
