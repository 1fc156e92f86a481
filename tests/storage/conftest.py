"""Storage fixtures: the GCS emulator and the stores of ``gcs_fixtures``."""

from gcs_fixtures import (
    _loopback_without_proxies,
    gcs_emulator,
    gcs_emulators,
    gcs_env,
    gcs_front,
    open_store,
    relays,
    store_url,
)

__all__ = [
    "_loopback_without_proxies",
    "gcs_emulator",
    "gcs_emulators",
    "gcs_env",
    "gcs_front",
    "open_store",
    "relays",
    "store_url",
]
