"""Development-time scripts that turn third-party resources into the plain files vendored in knowledge/data/.

Nothing here runs in the product: these scripts are run by a developer, once, and their output is committed.
"""
