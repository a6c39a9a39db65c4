"""What every manifest model shares: strictness, camelCase keys, immutability."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

from reconciler.manifest.names import Name

API_VERSION = "reconciler/v1"


class Model(BaseModel):
    """Base of every manifest section.

    Keys are camelCase in YAML (Kubernetes style) and only the camelCase spelling is accepted, so an
    error message, a suggestion and the JSON Schema all speak the one spelling the operator writes.
    Unknown keys are errors. Scalars are strict where a silent coercion would change meaning
    (`"yes"` is not a boolean, `"7789"` is not a port).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_enum_values=False,
    )


Bool = StrictBool
Int = StrictInt
Text = Annotated[StrictStr, Field(min_length=1)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]


class Metadata(Model):
    name: Name = Field(description="The document's name: the cluster's, or the application's (unique).")
    labels: dict[Name, StrictStr] = Field(default_factory=dict, description="Free key/value labels.")
    description: StrictStr | None = Field(default=None, description="Free text, shown by `describe`.")
