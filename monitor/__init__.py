"""The monitor: pipeline cycle, scheduler and command line."""
