"""covtool's version, read from the installed package's metadata."""

from importlib import metadata

try:
    __version__ = metadata.version("covtool")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
