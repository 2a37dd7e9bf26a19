"""`python -m console`: serve the staff console (port 5006 unless CONSOLE_PORT says otherwise)."""

from console.app import create_app
from console.settings import Settings


def main() -> None:
    """Build the app from the environment and serve it."""
    settings = Settings.from_env()
    create_app(settings).run(host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
