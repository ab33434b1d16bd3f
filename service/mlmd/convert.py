"""MLMD's protobuf messages <-> the store's MLMD records.

proto2 presence matters to MLMD's clients (a type read back must equal the one put, field for
field), so only what was set is carried across, and only what is stored is set on the way back.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from mlledger.store.errors import InvalidArgument
from mlledger.store.mlmd.links import MlmdEvent
from mlledger.store.mlmd.listing import ListOptions
from mlledger.store.mlmd.nodes import Node
from mlledger.store.mlmd.types import MlmdType, TypeKind

from .proto import metadata_store_pb2 as pb

TYPE_MESSAGES: dict[TypeKind, type[Message]] = {
    "artifact": pb.ArtifactType,
    "execution": pb.ExecutionType,
    "context": pb.ContextType,
}
NODE_MESSAGES: dict[TypeKind, type[Message]] = {
    "artifact": pb.Artifact,
    "execution": pb.Execution,
    "context": pb.Context,
}
STATE_FIELD = {"artifact": "state", "execution": "last_known_state"}


def _has(message: Any, name: str) -> bool:
    return bool(message.HasField(name))


def value_in(value: Any, where: str) -> dict[str, Any]:
    which = value.WhichOneof("value")
    if which is None:
        return {}
    if which == "double_value":
        d = value.double_value
        return {"double_value": d if math.isfinite(d) else repr(d)}
    if which == "struct_value":
        return {"struct_value": json_format.MessageToDict(value.struct_value)}
    if which == "proto_value":
        any_value = value.proto_value
        return {
            "proto_value": {
                "type_url": any_value.type_url,
                "value": base64.b64encode(any_value.value).decode(),
            }
        }
    return {which: getattr(value, which)}


def value_out(stored: dict[str, Any], target: Any) -> None:
    if not stored:
        return
    ((which, held),) = stored.items()
    if which == "double_value":
        target.double_value = float(held)
    elif which == "struct_value":
        json_format.ParseDict(held, target.struct_value)
    elif which == "proto_value":
        target.proto_value.type_url = held["type_url"]
        target.proto_value.value = base64.b64decode(held["value"])
    else:
        setattr(target, which, held)


def _values_in(values: Any, where: str) -> dict[str, dict[str, Any]]:
    return {key: value_in(value, f"{where}.{key}") for key, value in values.items()}


def type_in(kind: TypeKind, message: Any) -> MlmdType:
    extra: dict[str, Any] = {}
    for name in ("input_type", "output_type"):
        if kind == "execution" and _has(message, name):
            extra[name] = base64.b64encode(getattr(message, name).SerializeToString()).decode()
    return MlmdType(
        kind=kind,
        id=message.id if _has(message, "id") else None,
        name=message.name,
        version=message.version if _has(message, "version") and message.version else None,
        description=message.description if _has(message, "description") else None,
        external_id=message.external_id if _has(message, "external_id") else None,
        base_type=message.base_type if _has(message, "base_type") else None,
        properties=dict(message.properties),
        extra=extra,
    )


def type_out(t: MlmdType) -> Any:
    message = TYPE_MESSAGES[t.kind]()
    message.id = t.id  # type: ignore[attr-defined]
    message.name = t.name  # type: ignore[attr-defined]
    if t.version:
        message.version = t.version  # type: ignore[attr-defined]
    if t.description is not None:
        message.description = t.description  # type: ignore[attr-defined]
    if t.external_id is not None:
        message.external_id = t.external_id  # type: ignore[attr-defined]
    if t.base_type is not None:
        message.base_type = t.base_type  # type: ignore[attr-defined]
    for name, value_type in t.properties.items():
        message.properties[name] = value_type  # type: ignore[attr-defined]
    for name, blob in t.extra.items():
        getattr(message, name).ParseFromString(base64.b64decode(blob))
    return message


def node_in(kind: TypeKind, message: Any) -> Node:
    state_field = STATE_FIELD.get(kind)
    return Node(
        kind=kind,
        id=message.id if _has(message, "id") else None,
        type_id=message.type_id if _has(message, "type_id") else None,
        name=message.name if _has(message, "name") else None,
        uri=message.uri if kind == "artifact" and _has(message, "uri") else None,
        external_id=message.external_id if _has(message, "external_id") else None,
        state=getattr(message, state_field) if state_field and _has(message, state_field) else None,
        properties=_values_in(message.properties, "properties"),
        custom_properties=_values_in(message.custom_properties, "custom_properties"),
    )


def node_out(node: Node) -> Any:
    message: Any = NODE_MESSAGES[node.kind]()
    message.id = node.id
    if node.type_id is not None:
        message.type_id = node.type_id
    if node.type is not None:
        message.type = node.type
    if node.name is not None:
        message.name = node.name
    if node.kind == "artifact" and node.uri is not None:
        message.uri = node.uri
    if node.external_id is not None:
        message.external_id = node.external_id
    state_field = STATE_FIELD.get(node.kind)
    if state_field and node.state is not None:
        setattr(message, state_field, node.state)
    for key, stored in node.properties.items():
        value_out(stored, message.properties[key])
    for key, stored in node.custom_properties.items():
        value_out(stored, message.custom_properties[key])
    if node.created_ms is not None:
        message.create_time_since_epoch = node.created_ms
    if node.updated_ms is not None:
        message.last_update_time_since_epoch = node.updated_ms
    return message


def event_in(message: Any) -> MlmdEvent:
    path: list[dict[str, Any]] = []
    for step in message.path.steps:
        which = step.WhichOneof("value")
        if which == "index":
            path.append({"index": step.index})
        elif which == "key":
            path.append({"key": step.key})
        else:
            raise InvalidArgument("an event path step needs an index or a key")
    return MlmdEvent(
        artifact_id=message.artifact_id if _has(message, "artifact_id") else None,
        execution_id=message.execution_id if _has(message, "execution_id") else None,
        type=message.type if _has(message, "type") else 0,
        path=path,
        ms=message.milliseconds_since_epoch if _has(message, "milliseconds_since_epoch") else None,
    )


def event_out(event: MlmdEvent) -> Any:
    message = pb.Event(
        artifact_id=event.artifact_id,
        execution_id=event.execution_id,
        type=event.type,  # type: ignore[arg-type]
    )
    for step in event.path:
        added = message.path.steps.add()
        if "index" in step:
            added.index = step["index"]
        else:
            added.key = step["key"]
    if event.ms is not None:
        message.milliseconds_since_epoch = event.ms
    return message


def list_options_in(message: Any, present: bool) -> ListOptions:
    if not present:
        return ListOptions(unpaged=True)
    order = message.order_by_field
    return ListOptions(
        max_result_size=message.max_result_size,
        order_field=order.field if _has(message, "order_by_field") else 3,
        is_asc=order.is_asc if _has(message, "order_by_field") else True,
        page_token=message.next_page_token or None,
        filter_query=message.filter_query or None,
    )


def parse(message_type: type[Message], blob: bytes) -> Any:
    message = message_type()
    try:
        message.ParseFromString(blob)
    except DecodeError as exc:
        raise InvalidArgument(f"not a {message_type.__name__}: {exc}") from exc
    return message
