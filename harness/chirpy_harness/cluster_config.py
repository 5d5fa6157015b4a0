"""The configuration files of the local cluster's PgBouncer and haproxy, as text.

Pure functions of the addresses they are given, so the choices below are unit-tested and
the cluster harness only writes what these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The database the instances use, and PgBouncer's alias for the same database on the replica.
DATABASE = "chirpy"
REPLICA_ALIAS = "chirpy_replica"
# Every Chirpy response that haproxy relays names the instance that answered, so a check
# made through the front can tell the instances apart (haproxy's own errors carry none).
SERVED_BY = "X-Served-By"
# Health checks: the readiness endpoint every half second; two failures take an instance
# out, two passes put it back, so a dead one is out within about a second.
CHECK_INTER_MS = 500
CHECK_FALL = 2
CHECK_RISE = 2


@dataclass(frozen=True)
class Bouncer:
    """Where PgBouncer listens and what it pools."""

    port: int
    primary_port: int
    replica_port: int
    auth_file: Path
    # `transaction` is the deployment's; `session` only to tell a pooling bug from another.
    pool_mode: str = "transaction"
    max_client_conn: int = 200

    @property
    def pool_size(self) -> int:
        """Server connections per database alias. In transaction mode a connection is held for
        one transaction only, so fewer than the instances' pools add up to (2 x
        DB_MAX_CONNECTIONS); in session mode each client holds one for good."""
        return 10 if self.pool_mode == "transaction" else self.max_client_conn


def pgbouncer_ini(b: Bouncer) -> str:
    """pgbouncer.ini: transaction pooling on 127.0.0.1, one alias per node."""
    return f"""\
[databases]
{DATABASE} = host=127.0.0.1 port={b.primary_port} dbname={DATABASE}
{REPLICA_ALIAS} = host=127.0.0.1 port={b.replica_port} dbname={DATABASE}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {b.port}
; TCP only: the socket directory would be shared with every other PgBouncer on the machine.
unix_socket_dir =
; Loopback, as the clusters themselves (devpg): trust, but PgBouncer still wants the file.
auth_type = trust
auth_file = {b.auth_file}
admin_users = postgres
pool_mode = {b.pool_mode}
default_pool_size = {b.pool_size}
max_client_conn = {b.max_client_conn}
; Retry a node that refused a connection after 1 s, not 15: a replica that comes back is
; used again as soon as Chirpy's own check (every second) finds it healthy.
server_login_retry = 1
; Clients that set it at startup (psql, JDBC) would otherwise be refused.
ignore_startup_parameters = extra_float_digits
"""


def pgbouncer_userlist(users: list[str]) -> str:
    """auth_file: each user with an empty password (trust ignores it)."""
    return "".join(f'"{user}" ""\n' for user in users)


@dataclass(frozen=True)
class Front:
    """haproxy's listening address and the instances behind it."""

    port: int
    servers: dict[str, int]  # name -> port on 127.0.0.1
    stats_socket: Path


def haproxy_cfg(f: Front) -> str:
    """haproxy.cfg: HTTP round robin over the instances, health-checked on /api/readyz."""
    servers = "".join(f"    server {name} 127.0.0.1:{port} check\n" for name, port in f.servers.items())
    return f"""\
global
    stats socket {f.stats_socket} mode 600 level admin
    maxconn 2000

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    # Past the server's own REQUEST_TIMEOUT_SECS (30), so its 503 arrives rather than ours.
    timeout server 35s
    timeout check 1s
    # A connection an instance refuses (it is dead, not yet marked down) is tried again up to
    # three times, each time on another instance: a dead instance costs only the requests
    # that were already in flight on it.
    retries 3
    option redispatch 1

frontend chirpy
    bind 127.0.0.1:{f.port}
    # The client's address for the instances' per-address login limit (they trust this
    # proxy: TRUSTED_PROXIES), and one request id from the edge to the instance's log.
    option forwardfor
    unique-id-format %[uuid()]
    http-request set-header X-Request-Id %[unique-id] unless {{ req.hdr(x-request-id) -m found }}
    default_backend chirpy

backend chirpy
    balance roundrobin
    option httpchk GET /api/readyz
    http-check expect status 200
    # An instance that dies with a GET in flight: that GET is resent to another (safe, as GET
    # changes nothing); a POST in flight is not resent and fails.
    retry-on conn-failure empty-response response-timeout
    http-request disable-l7-retry unless METH_GET || METH_HEAD
    http-response set-header {SERVED_BY} %[srv_name]
    default-server inter {CHECK_INTER_MS}ms fall {CHECK_FALL} rise {CHECK_RISE}
{servers}"""


def parse_show_stat(csv_text: str) -> dict[tuple[str, str], dict[str, str]]:
    """haproxy's `show stat` CSV as {(proxy, server): {field: value}}."""
    lines = [line for line in csv_text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"not `show stat` output: {csv_text[:200]!r}")
    header = lines[0][2:].split(",")
    rows = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        rows[(row["pxname"], row["svname"])] = row
    return rows
