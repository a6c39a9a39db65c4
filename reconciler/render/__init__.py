"""Configuration files generated from the manifests: DRBD resources and Xen domain configs.

`drbd` and `xen` are pure functions from manifest documents to file text; only `files` touches
the disk, and it writes atomically so that a crash never leaves a half-written config behind.
"""
