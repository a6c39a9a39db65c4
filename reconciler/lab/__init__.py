"""The lab: a faithful stand-in for the hosts a developer's machine and CI do not have."""
