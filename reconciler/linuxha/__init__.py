"""`reconciler import linuxha`: a linuxha.net application (appconf.xml, lems.local.xml) and the
nodes' Xen domain configs, as an Application manifest with a report of everything not carried
over, guessed or defaulted."""

from reconciler.linuxha.importer import Draft, ImportOptions, import_linuxha
from reconciler.linuxha.report import Finding, Kind, LinuxhaError, Report

__all__ = ["Draft", "Finding", "ImportOptions", "Kind", "LinuxhaError", "Report", "import_linuxha"]
