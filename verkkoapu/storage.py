"""The static files storage of a production install (collectstatic, served by WhiteNoise).

WhiteNoise's compressed manifest storage, with the rewriting of JavaScript module imports on:
the console, its moderation panel and the group page are ES modules that import
`./common.js`, and a hashed `console.<hash>.js` must import the hashed `common.<hash>.js`
(an unhashed name would be served from a stale cache after an upgrade, or not at all).
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
