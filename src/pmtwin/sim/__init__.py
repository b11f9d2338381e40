"""The event engine and the cluster state."""
