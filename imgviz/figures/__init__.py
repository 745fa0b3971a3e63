"""plotly figures, one function per analysis noun: frames first, keyword-only options, a go.Figure back.

plotly itself is imported when a figure is drawn, not when this package is imported.

================================  ===========================================================
``layer_tree(frames)``            icicle/sunburst of distinct layers (chain IDs), sized by bytes
``sharing_matrix(frames)``        heatmap of bytes shared by each pair of images
``image_sizes(frames)``           per image, stacked shared vs unique bytes
``reported_vs_physical(frames)``  `docker image ls` sum against bytes on disk
``what_if(frames, remove)``       what removing images frees, and what stays and why
``image_layers(frames, image)``   one image's layers: its base's and its own, each on its axis
``build_cache(frames)``           BuildKit's cache records and the volumes, as `docker system df`
================================  ===========================================================
"""

from .sharing import layer_tree, sharing_matrix
from .disk import build_cache
from .layers import image_layers
from .sizes import image_sizes, reported_vs_physical, what_if

__all__ = ["build_cache", "image_layers", "image_sizes", "layer_tree", "reported_vs_physical", "sharing_matrix",
           "what_if"]
