"""The web app (`forge serve`): a learner's tutor, a teacher's workbench and a researcher's trace explorer.

    app.py        the FastAPI app: one WebContext per process, error pages, security headers, routers
    security.py   who is asking: the login cookie, roles, CSRF, ownership checks (FastAPI dependencies)
    accounts.py   users, logins, throttling, ownership and the admin's switches, in the session database
    queue.py      the fair queue every model job goes through (the embedded model serves one call at a time)
    api.py        the JSON API (the same JSON the CLI's --json prints), OpenAPI at /docs
    learner.py, teacher.py, research.py, admin.py    the pages of each role (templates/, static/)
    plots.py      small SVG plots drawn on the server

Pages are rendered on the server from the templates in this package; the little JavaScript there is (streaming a
reply, a progress bar) is the package's own `static/app.js`, so the app works offline and without a CDN.
"""
