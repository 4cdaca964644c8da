"""Replay of recorded Batch AI live sessions against the gateway (data: recordings/, see SOURCE.md)."""
