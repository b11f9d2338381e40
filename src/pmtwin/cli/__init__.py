"""pmtwin.cli"""
