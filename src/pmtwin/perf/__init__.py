"""pmtwin.perf: application performance models (docs/performance.md): the node roofline, collectives,
HPL, deep-learning training, the DESI pipeline, and jobs whose run time comes from them."""
