"""The one error a renderer raises: a valid manifest asks for something the file cannot say."""


class RenderError(ValueError):
    """The manifest passed validation, but its values cannot be written into the target file.

    Example: a resync rate that is not a whole number of KiB/s, which DRBD cannot express. Such a
    case is a gap in manifest validation; the renderer refuses rather than rounds, so that a file
    never says something other than what the manifest declares.
    """
