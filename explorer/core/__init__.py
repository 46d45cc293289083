"""The engine of Latent Explorer: everything that is not a widget.

Never imports Qt, so it runs headless (CLI, notebooks, GPU boxes) and is tested with
plain pytest. Objects that cross threads (configs, progress records, weight
snapshots) are plain data.
"""

from explorer.core.errors import CheckpointError, ConfigError, DataError, ExplorerError

__all__ = ["CheckpointError", "ConfigError", "DataError", "ExplorerError"]
