"""Developer sessions: ``nox -s tests lint typecheck docs bench verify tests_gpu``.

``tests`` runs exactly what CI runs; ``bench`` and ``verify`` are long runs that CI never starts; ``tests_gpu`` runs
the neural tests on a CUDA machine.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"
PACKAGES = ["rltheory", "mdps", "verification"]
TORCH_CPU = "torch==2.13.0"  # the CPU build; any other torch request pulls multi-GB CUDA wheels


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (hypothesis profile from RLTHEORY_HYPOTHESIS_PROFILE, default ``ci``)."""
    session.install(TORCH_CPU)
    session.install("-e", ".[test,neural,dask]")
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session(venv_backend="none")
def tests_gpu(session: nox.Session) -> None:
    """The neural tests on CUDA (``RLTHEORY_TEST_DEVICE=cuda``), the checkpoint-resume tests included (in process
    and after SIGKILL). Runs in the current environment, which needs the package (``pip install -e '.[test,neural]'``)
    and a CUDA build of torch matching the machine's driver (``TORCH_CPU`` above is the CPU build, so this session
    installs nothing); it fails, rather than skips, where CUDA is not available. CI never starts it."""
    session.run(
        "python", "-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'tests_gpu needs CUDA')"
    )
    env = {"RLTHEORY_TEST_DEVICE": "cuda", "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}  # deterministic cuBLAS
    session.run("python", "-m", "pytest", "-q", "tests/neural", *session.posargs, env=env)
    # the resume tests once more, verbosely, so the log shows that they ran on the GPU
    session.run("python", "-m", "pytest", "-v", "tests/neural/test_neural_training.py", "-k", "resume", env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", *PACKAGES, "tests", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on the three packages."""
    session.install("-e", ".", "mypy>=1.10")
    session.run("mypy", *PACKAGES)


@nox.session
def docs(session: nox.Session) -> None:
    """Sphinx + MyST site; warnings are errors."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session
def bench(session: nox.Session) -> None:
    """Speed against pymdptoolbox, rlberry and the memory-bandwidth limit (minutes; never in CI)."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/bench_tabular.py", *session.posargs)
    session.run("python", "benchmarks/bench_robust.py")
    session.run("python", "benchmarks/bench_r2pvi.py")


@nox.session
def verify(session: nox.Session) -> None:
    """The main job: every claim at its quick preset, with its report (minutes on 2 cores)."""
    session.install("-e", ".[dask]")
    preset = session.posargs[0] if session.posargs else "--quick"
    session.run("rltheory", "verify", "all", preset, "--report", "rltheory-report")
    session.run("rltheory", "solve", "riverswim", "--horizon=20")
