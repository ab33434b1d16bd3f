"""The gRPC listener: MLMD's MetadataStoreService on the service's own database.

MLMD's client sends no credentials but a TLS client certificate, so the project is bound per
listener by configuration (`mlmd.project`), and a listener on an address other than loopback
must require client certificates (mutual TLS), as the HTTP side requires tokens there.
"""

from __future__ import annotations

import logging
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from mlledger.store.database import Database
from mlledger.store.metadata import projects
from mlledger.store.mlmd import types

from ..settings import MlmdSettings, is_loopback
from .proto import metadata_store_service_pb2_grpc as svc_grpc
from .servicer import Servicer

log = logging.getLogger(__name__)


class ConfigurationError(ValueError):
    """The listener's settings cannot be served safely."""


def _read(path: str | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"mlmd.{what}: cannot read {path}: {exc.strerror}") from exc


def credentials(settings: MlmdSettings) -> grpc.ServerCredentials | None:
    """TLS from the settings, or None for plaintext (loopback only)."""
    key, cert = _read(settings.tls_key, "tls_key"), _read(settings.tls_cert, "tls_cert")
    client_ca = _read(settings.client_ca, "client_ca")
    if (key is None) != (cert is None):
        raise ConfigurationError("mlmd.tls_key and mlmd.tls_cert go together")
    if key is None:
        if client_ca is not None:
            raise ConfigurationError("mlmd.client_ca needs mlmd.tls_key and mlmd.tls_cert")
        if not is_loopback(settings.host):
            raise ConfigurationError(
                f"the MLMD listener binds {settings.host}, not loopback: give it "
                "mlmd.tls_key, mlmd.tls_cert and mlmd.client_ca (mutual TLS), since MLMD's "
                "client carries no token"
            )
        return None
    if client_ca is None and not is_loopback(settings.host):
        raise ConfigurationError(
            f"the MLMD listener binds {settings.host}: set mlmd.client_ca so that only clients "
            "with a certificate it signed may write"
        )
    return grpc.ssl_server_credentials(
        [(key, cert)],  # type: ignore[list-item]
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


def _has_nul(message: Any, depth: int = 0) -> bool:
    """Postgres can hold no NUL in text or JSON: a string with one is refused up front, the
    same on both databases."""
    if depth > 64:
        return False
    for field, value in message.ListFields():
        repeated = not isinstance(value, str | bytes) and hasattr(value, "__len__")
        values = value if repeated and not hasattr(value, "ListFields") else [value]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            values = [] if not hasattr(value, "items") else list(value.items())
            for k, v in values:
                if isinstance(k, str) and "\x00" in k:
                    return True
                if isinstance(v, str) and "\x00" in v:
                    return True
                if hasattr(v, "ListFields") and _has_nul(v, depth + 1):
                    return True
            continue
        for v in values:
            if isinstance(v, str) and "\x00" in v:
                return True
            if hasattr(v, "ListFields") and _has_nul(v, depth + 1):
                return True
    return False


class _RefuseNul(grpc.ServerInterceptor):
    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        def checked(request: Any, context: Any) -> Any:
            if _has_nul(request):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "strings may not hold NUL (\\0)")
            return inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            checked,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def build(database: Database, settings: MlmdSettings, max_nodes: int) -> tuple[grpc.Server, int]:
    """A started server and the port it listens on (port 0 picks a free one)."""
    creds = credentials(settings)
    with database.write() as session:
        project = projects.get_or_create_project(session, settings.project)
        kind_types = types.ensure_kind_types(session, project.id)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="mlmd"),
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
        ],
        maximum_concurrent_rpcs=settings.threads * 16,
        interceptors=[_RefuseNul()],
    )
    svc_grpc.add_MetadataStoreServiceServicer_to_server(
        Servicer(database, project.id, kind_types, max_nodes), server
    )
    address = (
        f"[{settings.host}]:{settings.port}"
        if ":" in settings.host
        else f"{settings.host}:{settings.port}"
    )
    port = server.add_secure_port(address, creds) if creds else server.add_insecure_port(address)
    if port == 0:
        raise ConfigurationError(f"cannot listen on {address}")
    server.start()
    return server, port
