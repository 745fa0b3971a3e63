"""imgviz: see what Docker images are made of."""

__version__ = "0.1.0"
__all__ = ["__version__"]
