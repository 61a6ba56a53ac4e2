"""Solver adapters: one module per solver family, each a thin call with the suite's conventions
(inputs as the workload prepared them, outputs as (coef, intercept) or predictions, warnings silenced
because every result is checked against a gap computed in numpy). Optional peers raise
``PeerMissing`` when their package is not installed, so a workload can report and go on."""
