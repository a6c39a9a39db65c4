"""The one error a parser raises: the input is not the format it claims to be."""


class ParseError(ValueError):
    """Output that cannot be read as `kind`, quoting the offending line.

    A parser raises this for structurally broken input (wrong format, truncated, a line of the
    wrong shape). An unknown *state value* in otherwise well-formed output is not an error: it is
    kept as `UNRECOGNISED` and surfaced in the model's `unrecognised` list.
    """

    def __init__(self, kind: str, message: str, *, line: int | None = None, text: str | None = None) -> None:
        self.kind = kind
        self.message = message
        self.line = line
        self.text = text
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" line {self.line}" if self.line is not None else ""
        quoted = f": {self.text!r}" if self.text is not None else ""
        return f"{self.kind}:{where}: {self.message}{quoted}"
