"""Built-in arbitration: authenticated heartbeats between the two agents, leases and takeover."""
