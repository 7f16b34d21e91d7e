"""gunicorn's settings for Kassa: ``gunicorn -c gunicorn.conf.py`` in the Procfile, ``flask up`` and the benchmarks.

No banner (issue 11): gunicorn writes its own name (older releases also their version) in a
``Server`` header on every response, telling a scanner which software to probe. Here every
response says only ``Server: Kassa``. gunicorn builds that header from ``gunicorn.http.wsgi.SERVER``
for HTTP/1 and HTTP/2 alike; the master reads this file before it forks its workers, so they
all inherit the value. tests/test_hardening.py serves the Procfile's command and checks it.
"""
from gunicorn.http import wsgi

SERVER_HEADER = "Kassa"
wsgi.SERVER = SERVER_HEADER
