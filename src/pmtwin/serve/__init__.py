"""The live web dashboard (``pmtwin serve``): a FastAPI server that runs simulations in worker processes,
streams their progress and serves their reports. See ``app.create_app``; nothing heavy is imported here.
"""
