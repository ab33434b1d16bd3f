"""Who may reach the MLMD listener, and what it shows them: a listener is bound to one project
and sees nothing of another's; off loopback it insists on mutual TLS, and a client without a
certificate its CA signed gets nothing — through MLMD's real client, on both databases."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlledger.store.database import Database
from tests._support.certs import Authority
from tests._support.mlmd_client import run_mlmd
from tests._support.servers import Server, clean_env, free_port

WRITE_ONE = """
t = store.put_artifact_type(pb.ArtifactType(name="AccessProbe", properties={"n": pb.INT}))
[a] = store.put_artifacts([pb.Artifact(type_id=t, uri="s3://b/probe", name="probe-1")])
out({"type": t, "artifact": a})
"""


@pytest.fixture(scope="module")
def other_project(
    mlmd_server: Server, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A second listener on the same database, bound to another project."""
    s = Server(
        database_url,
        tmp_path_factory.mktemp("mlmd-other"),
        {"MLLEDGER_MLMD__PROJECT": "mlmd-other"},
        grpc=True,
    )
    s.start()
    yield s
    s.stop()


def test_another_projects_ids_are_unknown(mlmd_server: Server, other_project: Server) -> None:
    mine = run_mlmd(WRITE_ONE, mlmd_server.grpc_port)  # type: ignore[arg-type]
    seen = run_mlmd(
        f"""
        answers = {{}}
        answers["by_id"] = len(store.get_artifacts_by_id([{mine["artifact"]}]))
        answers["type_by_id"] = len(store.get_artifact_types_by_id([{mine["type"]}]))
        answers["type_names"] = [t.name for t in store.get_artifact_types()]
        answers["by_uri"] = len(store.get_artifacts_by_uri("s3://b/probe"))
        sub = store.get_lineage_subgraph(pb.LineageSubgraphQueryOptions(
            starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(
                filter_query="id = {mine["artifact"]}"),
            max_num_hops=2))
        answers["subgraph"] = len(sub.artifacts)
        et = store.put_execution_type(pb.ExecutionType(name="Trainer"))
        [e] = store.put_executions([pb.Execution(type_id=et)])
        for name, call in [
            ("event", lambda: store.put_events([pb.Event(
                artifact_id={mine["artifact"]}, execution_id=e, type=pb.Event.INPUT)])),
            ("update", lambda: store.put_artifacts([pb.Artifact(
                id={mine["artifact"]}, type_id={mine["type"]}, uri="s3://b/stolen")])),
            ("as_input", lambda: store.put_execution(
                pb.Execution(type_id=et),
                [(pb.Artifact(id={mine["artifact"]}), pb.Event(type=pb.Event.INPUT))], [])),
            ("typed", lambda: store.put_artifacts([pb.Artifact(type_id={mine["type"]})])),
        ]:
            try:
                call()
                answers[name] = "accepted"
            except errors.StatusError as exc:
                answers[name] = type(exc).__name__
        out(answers)
        """,
        other_project.grpc_port,  # type: ignore[arg-type]
    )
    assert seen["by_id"] == 0 and seen["type_by_id"] == 0 and seen["by_uri"] == 0
    assert "AccessProbe" not in seen["type_names"]
    assert seen["subgraph"] == 0
    assert seen["event"] == "InvalidArgumentError"
    assert seen["update"] == "InvalidArgumentError"
    assert seen["as_input"] == "InvalidArgumentError"
    assert seen["typed"] == "NotFoundError"
    # ...and the owner's artifact is as it was.
    still = run_mlmd(
        f"out([a.uri for a in store.get_artifacts_by_id([{mine['artifact']}])])",
        mlmd_server.grpc_port,  # type: ignore[arg-type]
    )
    assert still == ["s3://b/probe"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca = Authority(folder, "mlledger-ca")
    server = ca.issue("server", server=True)
    client = ca.issue("client", server=False)
    rogue = Authority(folder, "rogue-ca").issue("rogue", server=False)
    return {
        "ca": ca.pair.cert,
        "server_key": server.key,
        "server_cert": server.cert,
        "client_key": client.key,
        "client_cert": client.cert,
        "rogue_key": rogue.key,
        "rogue_cert": rogue.cert,
    }


@pytest.fixture(scope="module")
def tls_server(
    db: Database, tls: dict[str, Path], database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A listener that takes only clients with a certificate the test CA signed (`db`: the
    schema is in place)."""
    s = Server(
        database_url,
        tmp_path_factory.mktemp("mlmd-tls"),
        {
            "MLLEDGER_MLMD__PROJECT": "mlmd-tls",
            "MLLEDGER_MLMD__TLS_KEY": str(tls["server_key"]),
            "MLLEDGER_MLMD__TLS_CERT": str(tls["server_cert"]),
            "MLLEDGER_MLMD__CLIENT_CA": str(tls["ca"]),
        },
        grpc=True,
    )
    s.start()
    yield s
    s.stop()


TRY_ONE = """
try:
    out(store.put_artifact_type(pb.ArtifactType(name="Tls")) > 0)
except errors.StatusError as exc:
    out(type(exc).__name__)
"""


def test_mutual_tls_lets_in_only_a_certificate_its_ca_signed(
    tls_server: Server, tls: dict[str, Path]
) -> None:
    port = tls_server.grpc_port
    assert port is not None
    signed = {"custom_ca": tls["ca"], "client_key": tls["client_key"]}
    signed["server_cert"] = tls["client_cert"]  # MLMD's field for the client's certificate
    assert run_mlmd(TRY_ONE, port, ssl=signed) is True
    rogue = {"custom_ca": tls["ca"], "client_key": tls["rogue_key"]}
    rogue["server_cert"] = tls["rogue_cert"]
    assert run_mlmd(TRY_ONE, port, ssl=rogue) == "UnavailableError"
    assert run_mlmd(TRY_ONE, port, ssl={"custom_ca": tls["ca"]}) == "UnavailableError"
    assert run_mlmd(TRY_ONE, port) == "UnavailableError"  # plaintext


def _serve_refused(env: dict[str, str], tmp_path: Path, *, migrate: bool = True) -> str:
    """Start `mlledger serve --grpc-port` with `env`; it must exit, and say why."""
    base = clean_env() | {"MLLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/m.db"}
    mll = [sys.executable, "-m", "mlledger.client"]
    if migrate:
        subprocess.run([*mll, "db", "upgrade"], cwd=tmp_path, env=base, check=True, timeout=180)
    done = subprocess.run(
        [
            *mll,
            "serve",
            *("--port", str(free_port()), "--grpc-port", str(free_port())),
        ],
        cwd=tmp_path,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode != 0
    return done.stdout + done.stderr


def test_off_loopback_the_listener_will_not_start_without_mutual_tls(
    tls: dict[str, Path], tmp_path: Path
) -> None:
    said = _serve_refused({"MLLEDGER_MLMD__HOST": "0.0.0.0"}, tmp_path)
    assert "mutual TLS" in said and "Traceback" not in said
    said = _serve_refused(
        {
            "MLLEDGER_MLMD__HOST": "0.0.0.0",
            "MLLEDGER_MLMD__TLS_KEY": str(tls["server_key"]),
            "MLLEDGER_MLMD__TLS_CERT": str(tls["server_cert"]),
        },
        tmp_path,
    )
    assert "mlmd.client_ca" in said and "Traceback" not in said
    said = _serve_refused({"MLLEDGER_MLMD__TLS_KEY": str(tls["server_key"])}, tmp_path)
    assert "go together" in said
    # Named before anything of the database: here one that was never migrated.
    said = _serve_refused(
        {"MLLEDGER_MLMD__HOST": "0.0.0.0", "MLLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/n.db"},
        tmp_path,
        migrate=False,
    )
    assert "mutual TLS" in said and "db upgrade" not in said
    said = _serve_refused(
        {
            "MLLEDGER_MLMD__TLS_KEY": str(tmp_path / "absent.key"),
            "MLLEDGER_MLMD__TLS_CERT": str(tls["server_cert"]),
        },
        tmp_path,
    )
    assert "cannot read" in said and "Traceback" not in said
