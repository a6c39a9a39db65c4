"""The reconcile pass, once: desired state, diff, plan, and the pass that runs them.

Everything that converges a node (`apply`, `plan`, `drift`, the agent, the lab's simulator) calls
`reconcile`; nothing else observes, diffs and plans.
"""
