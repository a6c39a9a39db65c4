"""Base of every parsed fact: frozen, strict about its own fields, explicit about surprises."""

from pydantic import BaseModel, ConfigDict


class Fact(BaseModel):
    """A value parsed from a tool's output. Immutable; collections are tuples."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Unrecognised(Fact):
    """A state value the parser did not know, kept so that it is shown instead of dropped.

    The field that held it is set to its enum's `UNRECOGNISED` member, which the planner treats
    as "not the state we want": an unknown state never leads to a promotion or a start.
    """

    line: int
    field: str
    value: str
