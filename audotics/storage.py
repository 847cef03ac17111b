"""Static files storage: whitenoise's compressed, hashed files, with the imports between ES
modules rewritten to the hashed names too (Django leaves `import ... from "./api.js"` alone by
default, so a browser could mix a new page script with an old cached module after a deploy)."""
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
