"""`python -m console`: serve the staff console (port 5006 unless CONSOLE_PORT says otherwise)."""

from certbot.patches import slow_clients
from console.app import create_app
from console.settings import Settings
from retrain.dataset import migrate_legacy
from retrain.registry import BOOTSTRAP_MODEL, bootstrap


def main() -> None:
    """Build the app, put a newly trained models/certbot.tar.gz through the gate, serve.

    Requests get the bot's deadlines for their header and body (certbot.patches.slow_clients).
    """
    settings = Settings.from_env()
    app = create_app(settings)
    app.register_listener(slow_clients.install_on_start, "before_server_start")
    if moved := migrate_legacy(settings.project):
        print(moved)
    bootstrap(app.ctx.services.db, settings, settings.project / BOOTSTRAP_MODEL)
    app.run(host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
