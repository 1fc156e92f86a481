"""The marker for hook implementations: ``@covtool.hookimpl``."""

import pluggy

hookimpl = pluggy.HookimplMarker("covtool")
