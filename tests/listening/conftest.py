"""A small catalog the fixture histories match against, and a helper to run an import."""
from pathlib import Path

import pytest

from listening import services
from tests.factories import TrackFactory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def catalog(db) -> dict:
    """Catalog tracks spelled as a catalog spells them (no accents, no version remarks)."""
    return {
        "halo": TrackFactory(external_id="4JehYebiI9JE8sR8MGiUAo", artist="Beyonce",
                             title="Halo", duration_ms=261_000),
        "let_it_be": TrackFactory(external_id="cat-let-it-be", artist="The Beatles",
                                  title="Let It Be", duration_ms=243_000),
        "hoppipolla": TrackFactory(external_id="cat-hoppipolla", artist="Sigur Ros",
                                   title="Hoppípolla", duration_ms=268_000),
        "take_care": TrackFactory(external_id="cat-take-care", artist="Drake",
                                  title="Take Care", duration_ms=277_000),
    }


def run_import(user, fmt: str, name: str):
    job = services.listen_import_from_path(user=user, fmt=fmt, path=FIXTURES / name)
    return services.listen_import_run(import_id=str(job.pk))
