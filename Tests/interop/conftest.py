"""pytest fixtures: a phigate server per test module, stopped at the module's end.

See phigate_process.py for how a server is started and what a Server offers.
"""

from __future__ import annotations

import pytest

from phigate_process import ServerFactory, Server


@pytest.fixture(scope="module")
def server_factory():
    """A factory `server_factory(env=None, args=None) -> Server` scoped to the module."""
    factory = ServerFactory()
    yield factory
    factory.close()


@pytest.fixture(scope="module")
def server(request, server_factory) -> Server:
    """One server shared by the tests of a module.

    A module sets SERVER_ENV (a dict of PHIGATE_* variables) at module level to configure
    it; without that the server runs with its defaults.
    """
    return server_factory(getattr(request.module, "SERVER_ENV", None))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attaches the last log lines of every server the test used."""
    report = yield
    if report.failed:
        servers = [v for v in item.funcargs.values() if isinstance(v, Server)]
        factory = item.funcargs.get("server_factory")
        if factory is not None:
            servers += [s for s in factory.servers if s not in servers]
        for server in servers:
            state = "running" if server.alive() else f"exited {server.proc.returncode}"
            tail = "\n".join(server.log_lines[-30:])
            report.sections.append((f"phigate {server.port} ({state}) stderr", tail))
    return report
