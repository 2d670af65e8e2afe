"""xinrt's version, in a module of its own so that any module may read it without importing the
package's `__init__` (which imports the session, and so would close an import loop)."""

from __future__ import annotations

__version__ = "0.1.0"
