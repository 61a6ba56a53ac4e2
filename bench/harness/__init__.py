"""What every workload shares: timing, thread limits, machine information, result files."""
