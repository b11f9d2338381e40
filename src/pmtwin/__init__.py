"""pmtwin: a digital twin of NERSC's Perlmutter supercomputer."""

__version__ = "0.1.0"
