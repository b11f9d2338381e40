"""pmtwin.sched"""
