"""Physics: power, energy and facility models, as pure functions of the machine and the jobs."""
