"""xinrt's built-in backends; each registers through the `xinrt.backends` entry-point group."""
