"""pmtwin.results"""
