"""The use cases the API, the pages and the CLI all call: one function per thing a user does.

Each takes the process's ``Centre`` and the acting ``Viewer``, checks the
permission and releasability, does the work through the store, audits it,
and raises an ``ActionError`` (``errors``) that every front end maps the same way.
"""
