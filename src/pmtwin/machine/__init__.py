"""pmtwin.machine"""
