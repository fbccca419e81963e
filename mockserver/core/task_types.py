"""The platform's inference task types (videoInference, imageInference, ...) as the mock
reads them: the generated ``runware_contract.platform.TASK_TYPES``, from spec/platform.yaml.

How a task is answered (its results once done, or an acknowledgement and then
getResponse), which field names each result's media, seed, safety flag and cost, and which
field carries the media for each outputType are the spec's; nothing here restates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runware_contract.platform import TASK_TYPES

URL_OUTPUT = "URL"  # the outputType served by a link; every other one carries the file inline
DATA_URI_OUTPUT = "dataURI"  # the inline outputType written as a data URI (others: base64)


@dataclass(frozen=True)
class Lifecycle:
    """One inference task type's lifecycle (a ``TASK_TYPES`` entry)."""

    name: str
    media: str  # video | image: which files its results are (media.containers)
    deliveries: dict[str, str]  # deliveryMethod value -> "results" | "acknowledgement"
    default_delivery: str
    acknowledgement: tuple[str, ...]  # the task's fields an acknowledgement echoes
    uuid_field: str
    seed_field: str
    nsfw_field: str
    cost_field: str
    output_types: dict[str, str]  # outputType value -> the field carrying the media

    @classmethod
    def of(cls, name: str, data: dict[str, Any]) -> Lifecycle:
        return cls(
            name,
            data["media"],
            dict(data["deliveryMethods"]),
            data["defaultDeliveryMethod"],
            tuple(data["acknowledgement"]),
            data["uuidField"],
            data["seedField"],
            data["nsfwField"],
            data["costField"],
            dict(data["outputTypes"]),
        )

    def answers_with_results(self, task: dict[str, Any]) -> bool:
        """Whether the request is answered with the task's results once it is done (sync),
        rather than with an acknowledgement."""
        method = task.get("deliveryMethod", self.default_delivery)
        return self.deliveries.get(method) == "results"


LIFECYCLES = {name: Lifecycle.of(name, data) for name, data in TASK_TYPES.items()}


# The task types that may be answered with their results (the answer waits for the job), and
# the outputTypes that carry the file inline (the answer waits for a render).
_RESULTS = frozenset(n for n, t in LIFECYCLES.items() if "results" in t.deliveries.values())
_INLINE = frozenset(o for t in LIFECYCLES.values() for o in t.output_types if o != URL_OUTPUT)


def may_wait(tasks: list[Any]) -> bool:
    """Whether answering ``tasks`` may wait (for a job, or for a render): such a request is
    answered the ASGI way, never by the HTTP protocol itself (direct.py)."""
    for task in tasks:
        if isinstance(task, dict):
            kind, output = task.get("taskType"), task.get("outputType")
            if (isinstance(kind, str) and kind in _RESULTS) or (
                isinstance(output, str) and output in _INLINE
            ):
                return True
    return False
