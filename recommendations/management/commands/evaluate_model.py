"""Print the metrics of the active (or a given) model version."""
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audotics.exceptions import ApplicationError
from recommendations.models import ModelVersion
from recommendations.services import training


class Command(BaseCommand):
    help = "Evaluate the active model version on a hold-out of the current interactions."

    def add_arguments(self, parser):
        parser.add_argument("--model-version", dest="version", default=None)

    def handle(self, *args, version, **options):
        mv = ModelVersion.objects.filter(pk=version).first() if version else None
        if version and mv is None:
            raise CommandError(f"no model version {version}")
        with tqdm(total=1, desc="evaluate", file=sys.stderr) as bar:
            try:
                report = training.model_evaluate(version=mv)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            bar.update(1)
        self.stdout.write(json.dumps(report, indent=2, default=str))
