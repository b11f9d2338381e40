"""Command line entry point (filled in as the layers land)."""


def main() -> None:
    raise SystemExit("pmtwin: not yet wired")
