"""The client's public surface (httpx's habit): what `__all__` names exists, nothing public is
left out of it, and its exceptions mirror every error code the server sends."""

from __future__ import annotations

import inspect
import types

import mlledger
import mlledger.client
from mlledger.client import errors


def test_every_exported_name_exists_and_mlledger_reexports_the_client() -> None:
    for name in mlledger.client.__all__:
        assert getattr(mlledger.client, name) is getattr(mlledger, name), name
    assert set(mlledger.__all__) == {*mlledger.client.__all__, "__version__"}
    assert len(set(mlledger.client.__all__)) == len(mlledger.client.__all__)


def test_nothing_public_is_left_out() -> None:
    for name in mlledger.client.__all__:  # load everything the package would
        getattr(mlledger.client, name)
    public = {
        name
        for name, value in vars(mlledger.client).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "import_module", "TYPE_CHECKING", "Any"}
    }
    assert public <= set(mlledger.client.__all__), public - set(mlledger.client.__all__)
    raised = {
        name
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, errors.MlledgerError)
    }
    assert raised <= set(mlledger.client.__all__), raised - set(mlledger.client.__all__)


def test_every_server_error_code_has_its_exception() -> None:
    """The server's table (service/errors.py): each code and status it answers with raises a
    class of its own here, so callers catch `mlledger.GateBlocked`, not a string."""
    from mlledger.service import errors as server
    from mlledger.store import errors as domain

    codes = {cls.code: status for cls, status in server.STATUS.items()}
    codes |= {code: status for status, code in server._HTTP_CODES.items() if status < 500}
    for code, status in codes.items():
        if status >= 500:
            continue  # retried, then Unavailable / ServerError
        raised = errors.api_error(status, code, "m")
        assert type(raised) is not errors.ApiError, code
        assert raised.status == status and raised.code == code
    assert isinstance(errors.api_error(409, "gate_blocked", "m"), errors.FailedPrecondition)
    assert isinstance(errors.api_error(418, "teapot", "m"), errors.ApiError)  # unknown: base
    assert issubclass(errors.GateBlocked, errors.ApiError)  # `except ApiError` still catches
    assert domain.GateBlocked.code == "gate_blocked"


def test_params_tags_evaluation_and_refusals_through_the_client(  # type: ignore[no-untyped-def]
    server, project: str, tmp_path
) -> None:
    """`Run.log_param`, `Run.set_tag`, `Client.evaluate_model`, and the typed refusals."""
    api = mlledger.Client(server.url, project=project, spool_dir=tmp_path / "spool")
    (tmp_path / "m.bin").write_bytes(b"m")
    with api.start_run("gated-exp", capture_environment=False) as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", 0.1)  # the same value again: a no-op
        run.set_tag("team", "risk")
        run.set_tag("team", "fraud")  # tags may change
        try:
            run.log_param("lr", 0.2)
        except mlledger.FailedPrecondition as exc:  # params are set once
            assert exc.status == 409
        else:
            raise AssertionError("a param changed")
        model = run.log_model("gated", path=tmp_path / "m.bin")
    shown = api.get_run(run.uuid)
    assert shown.params == {"lr": "0.1"} and shown.tags["team"] == "fraud"

    api.set_model_gate(
        "gated", {"thresholds": [{"metric": "auc", "value_threshold": {"lower_bound": 0.5}}]}
    )
    blessing = api.evaluate_model("gated", model.version, {"auc": 0.7})
    assert blessing.blessed is True
    assert [c.passed for c in blessing.checks] == [True]
    try:
        api.set_alias("gated", "production", model.version)
    except mlledger.GateBlocked as exc:  # production of a gated model moves only by push
        assert exc.status == 409 and exc.details["model"] == "gated"
    else:
        raise AssertionError("a gated model's production moved by hand")
    try:
        api.get_model("no-such-model")
    except mlledger.NotFound as exc:
        assert exc.code == "not_found"
    else:
        raise AssertionError("an unknown model was found")
    api.close()
