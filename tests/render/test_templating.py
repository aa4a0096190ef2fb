"""Compiled templates kept between builds: an edit is compiled afresh, environments that compile
differently never share code, and the cache is Jinja's private per-user folder, not the project."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment

from reportgen.render.pages import environment
from reportgen.render.templating import compile_identity, keep_compiled

from conftest import REPO


def test_an_edited_template_is_compiled_again_by_a_new_environment_and_by_the_same(tmp_path):
    template = tmp_path / "page.md.j2"
    template.write_text("antes {{ x }}\n", encoding="utf-8")
    first = environment(tmp_path)
    assert first.bytecode_cache is not None
    assert first.get_template("page.md.j2").render(x=1) == "antes 1\n"
    template.write_text("después, más largo {{ x }}\n", encoding="utf-8")
    os.utime(template, (template.stat().st_atime, template.stat().st_mtime + 5))
    assert environment(tmp_path).get_template("page.md.j2").render(x=2) == "después, más largo 2\n"
    assert first.get_template("page.md.j2").render(x=3) == "después, más largo 3\n"


def test_environments_that_compile_differently_get_caches_of_their_own():
    plain = compile_identity(Environment())
    assert compile_identity(Environment()) == plain
    assert compile_identity(Environment(trim_blocks=True)) != plain
    assert compile_identity(Environment(autoescape=True)) != plain
    assert compile_identity(SandboxedEnvironment()) != plain
    assert compile_identity(Environment(extensions=["jinja2.ext.do"])) != plain


def test_the_identity_is_the_same_in_every_process(tmp_path):
    script = ("from reportgen.render.pages import environment; from reportgen.render.templating import "
              f"compile_identity; print(compile_identity(environment({str(tmp_path)!r})))")
    run = lambda: subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                 cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    assert run() == run() == compile_identity(environment(tmp_path)) + "\n"


def test_the_cache_is_a_private_folder_outside_the_project(tmp_path):
    env = keep_compiled(Environment())
    env.from_string("x")  # nothing to cache for a string; the folder is made when the cache is made
    folder = env.bytecode_cache.directory
    assert not str(folder).startswith(str(REPO)) and not str(folder).startswith(str(tmp_path))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and os.stat(folder).st_uid == os.getuid()
