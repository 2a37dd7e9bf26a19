"""`python -m console`: serve the staff console (port 5006 unless CONSOLE_PORT says otherwise)."""

from console.app import create_app
from console.retrain.registry import BOOTSTRAP_MODEL, bootstrap
from console.settings import Settings


def main() -> None:
    """Build the app, register models/certbot.tar.gz when no model is live yet, serve."""
    settings = Settings.from_env()
    app = create_app(settings)
    with app.ctx.services.db.session() as session:
        bootstrap(session, settings, settings.project / BOOTSTRAP_MODEL)
    app.run(host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
