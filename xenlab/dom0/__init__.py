"""What dom0 runs: back-end drivers, the bridge, xenstored, the console daemon."""
