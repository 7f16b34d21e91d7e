"""The console's home page: a placeholder (the dashboard branch replaces this module and its template)."""
from __future__ import annotations

from flask import render_template

from console import bp
from console.auth import staff_required


@bp.get("/")
@staff_required
def dashboard():
    return render_template("console/dashboard.html")
