"""Where the workbench listens and what it reads, from the command line and the environment.

WORKBENCH_HOST   127.0.0.1 (default): staff pages show patients' messages; another
                 address exposes them to the network (put TLS and a firewall in front)
WORKBENCH_PORT   5007
WORKBENCH_TLS_CERT, WORKBENCH_TLS_KEY   serve HTTPS itself (cookies then Secure)
WORKBENCH_BEHIND_TLS_PROXY=1            a TLS proxy in front sets X-Forwarded-Proto
DB               the tracker store: a SQLite file (default var/tracker.db) or a database
                 URL (postgresql://user:password@host:5432/rasa)
WORKBENCH_ENDPOINTS   read the tracker store of an endpoints file instead
                 (endpoints.production.yml, with DB_HOST, DB_PORT... in the environment)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Mapping, Optional

from bot import PROJECT_ROOT
from bot.core.settings import env_flag
from bot.tools.content.paths import ContentPaths
from bot.workbench.store import StoreSettings, from_endpoints

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5007
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass
class Settings:
    content: ContentPaths = field(default_factory=ContentPaths.project)
    store: StoreSettings = field(
        default_factory=lambda: StoreSettings(sqlite=PROJECT_ROOT / "var" / "tracker.db")
    )
    var_dir: Path = PROJECT_ROOT / "var"  # the workbench's database; the running bot's rasa-api.json
    models_dir: Path = PROJECT_ROOT / "models"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    tls_cert: Optional[Path] = None
    tls_key: Optional[Path] = None
    behind_tls_proxy: bool = False
    refresh_seconds: float = 2.0  # how often new conversations are read from the store
    chart_max_age: float = 30.0  # charts are redrawn at most this often while data keeps coming
    # What "Retrain" runs: make retrain's command, in the project folder.
    retrain_command: List[str] = field(default_factory=lambda: [sys.executable, "-m", "bot", "retrain"])
    validate_with_rasa: bool = True  # Rasa's own check for training-data changes (as make validate)

    @property
    def accounts_db(self) -> Path:
        return self.var_dir / "workbench.db"

    @property
    def jobs_dir(self) -> Path:
        return self.var_dir / "workbench-jobs"

    @property
    def url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def exposed(self) -> bool:
        return self.host not in LOOPBACK


def store_from(
    db: Optional[str],
    endpoints: Optional[str],
    root: Path = PROJECT_ROOT,
    environ: Mapping[str, str] = os.environ,
) -> StoreSettings:
    if endpoints:
        settings = from_endpoints(Path(endpoints), dict(environ))
        if settings.sqlite is not None and not settings.sqlite.is_absolute():
            settings = StoreSettings(sqlite=root / settings.sqlite)
        return settings
    if db and "://" in db:
        return StoreSettings(url=db)
    path = Path(db) if db else root / "var" / "tracker.db"
    return StoreSettings(sqlite=path if path.is_absolute() else Path.cwd() / path)


def from_environment(
    host: Optional[str] = None,
    port: Optional[int] = None,
    db: Optional[str] = None,
    endpoints: Optional[str] = None,
    root: Optional[Path] = None,
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    root = Path(root or environ.get("WORKBENCH_ROOT") or PROJECT_ROOT).resolve()
    cert, key = environ.get("WORKBENCH_TLS_CERT"), environ.get("WORKBENCH_TLS_KEY")
    if bool(cert) != bool(key):
        raise ValueError("set both WORKBENCH_TLS_CERT and WORKBENCH_TLS_KEY, or neither")
    return Settings(
        content=ContentPaths(root),
        store=store_from(
            db or environ.get("DB") or None,
            endpoints or environ.get("WORKBENCH_ENDPOINTS") or None,
            root,
            environ,
        ),
        var_dir=Path(environ.get("WORKBENCH_VAR") or root / "var"),
        models_dir=root / "models",
        host=host or environ.get("WORKBENCH_HOST") or DEFAULT_HOST,
        port=int(port or environ.get("WORKBENCH_PORT") or DEFAULT_PORT),
        tls_cert=Path(cert) if cert else None,
        tls_key=Path(key) if key else None,
        behind_tls_proxy=env_flag("WORKBENCH_BEHIND_TLS_PROXY", environ),
    )
