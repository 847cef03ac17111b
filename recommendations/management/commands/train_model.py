"""Train a recommender version in the foreground (the nightly Celery job's twin)."""
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from audotics.exceptions import ApplicationError
from recommendations.models import ModelVersion
from recommendations.services import training

from ._progress import TqdmProgress


class Command(BaseCommand):
    help = "Fit the hybrid recommender, evaluate it, store the artifact and activate if not worse."

    def add_arguments(self, parser):
        parser.add_argument("--epochs", type=int, default=None)
        parser.add_argument("--refit", action="store_true", default=None,
                            help="fit again on all data after evaluating (default: fold the "
                                 "hold-out into the evaluated model; RECO_TRAIN_REFIT)")
        parser.add_argument("--no-activate", action="store_true")
        parser.add_argument("--if-none", action="store_true",
                            help="train only when no version this release can serve is active "
                                 "(make run: the first run trains, later runs reuse that model "
                                 "until an upgrade changes the artifact format)")

    def handle(self, *args, epochs, refit, no_activate, if_none, **options):
        if if_none:
            active = training.active_version_servable()
            if active is not None:
                self.stdout.write(f"model version {active} is active; not training again")
                return
            if ModelVersion.objects.filter(is_active=True).exists():
                self.stdout.write("the active model version was saved by an older release; "
                                  "training one this release can serve")
        progress = TqdmProgress(sys.stderr)
        try:
            version = training.model_train(epochs=epochs, refit=refit,
                                           activate=not no_activate, on_progress=progress)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        finally:
            progress.close()
        self.stdout.write(json.dumps({"version": str(version.pk), "status": version.status,
                                      "metrics": version.metrics}, indent=2))
