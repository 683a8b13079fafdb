"""Size limits on what alert sources may send (data minimization, and a storm cannot exhaust
memory). Exceeding the body size is a 413; too many or too long labels are a 422."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

MAX_BODY_BYTES = 512 * 1024  # per request, as sent (Content-Length or the streamed body)
MAX_ALERTS_PER_REQUEST = 1000
MAX_LABELS = 64  # labels (or annotations) per alert
MAX_LABEL_NAME = 128
MAX_LABEL_VALUE = 1024
MAX_ANNOTATION_VALUE = 8192
MAX_DETAILS_JSON = 8192  # the source's extra details kept on the incident, serialized

# No NUL: PostgreSQL's jsonb cannot hold one, and a label set is stored only after the answer
# (docs/adr/0013-durable-fast-ingest.md), where it could no longer be refused.
NO_NUL = r"^[^\x00]*$"
LabelName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LABEL_NAME, pattern=NO_NUL)]
LabelValue = Annotated[str, StringConstraints(max_length=MAX_LABEL_VALUE, pattern=NO_NUL)]
AnnotationValue = Annotated[str, StringConstraints(max_length=MAX_ANNOTATION_VALUE, pattern=NO_NUL)]
Labels = Annotated[dict[LabelName, LabelValue], Field(max_length=MAX_LABELS)]
Annotations = Annotated[dict[LabelName, AnnotationValue], Field(max_length=MAX_LABELS)]
