"""The subcommands of `reconciler`, grouped by what they work on."""
