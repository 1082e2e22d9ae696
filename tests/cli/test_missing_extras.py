"""Each optional package missing in turn: one line naming the extra, exit 2, no work done.

A meta-path finder that refuses a package stands in for an environment without it. Click
itself is refused in a fresh interpreter (the console script's import path), the others
in-process through click's test runner.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest
from click.testing import CliRunner

import chainrule as cr
from chainrule.cli import COMMANDS, SUMMARY, main
from chainrule.cli import app as application
from chainrule.errors import MissingExtraError
from chainrule.explainer import steps
from chainrule.extras import EXTRA_OF

BLOCKER = """
import importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    '''Pretends the packages named here are not installed.'''

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None
"""
namespace: dict = {}
exec(BLOCKER, namespace)
Missing = namespace["Missing"]


@pytest.fixture
def without(monkeypatch):
    """``without("rich", ...)``: those packages cannot be imported until the test ends."""

    def block(*names: str) -> None:
        for module in list(sys.modules):
            if module.partition(".")[0] in names:
                monkeypatch.delitem(sys.modules, module)
        monkeypatch.setattr(sys, "meta_path", [Missing(names), *sys.meta_path])

    return block


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_one_line(result, package: str, extra: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert package in lines[0] and f"pip install 'chainrule[{extra}]'" in lines[0]


def run_without(packages: tuple[str, ...], *args: str) -> subprocess.CompletedProcess:
    """``chainrule ARGS`` in a fresh interpreter where ``packages`` cannot be imported."""
    script = BLOCKER + textwrap.dedent(
        f"""
        sys.meta_path.insert(0, Missing({packages!r}))
        sys.argv[1:] = {list(args)!r}
        from chainrule.cli import main
        main()
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )


ALL_EXTRAS = tuple(EXTRA_OF)


@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_without_any_extra_help_lists_the_commands_and_the_install_line(args):
    result = run_without(ALL_EXTRAS, *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for name in COMMANDS:
        assert f"  {name}  " in result.stdout
    assert "pip install 'chainrule[cli]'" in result.stdout


def test_without_click_a_command_is_one_line_and_exit_2():
    result = run_without(("click",), "grad", "x^2", "--at", "x=3")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: the chainrule command needs click, which is not installed: "
        "pip install 'chainrule[cli]'"
    ]


def test_the_command_list_shown_without_click_is_the_real_one():
    assert application.main.help == SUMMARY
    commands = application.main.commands
    assert set(COMMANDS) == set(commands)
    for name, summary in COMMANDS.items():
        assert commands[name].help.splitlines()[0] == summary


def test_with_only_click_the_math_commands_work_in_a_pipe(without):
    without("rich", "matplotlib", "sklearn", "sympy")
    result = run("grad", "x^2", "--at", "x=3")
    assert result.exit_code == 0 and "d/dx = 6.0" in result.output
    result = run("explain", "x*sin(x)", "--at", "x=1")
    assert result.exit_code == 0 and "Cross-check" in result.output


def test_explain_in_a_terminal_without_rich_says_so_first(without, monkeypatch):
    without("rich")
    terminal = types.SimpleNamespace(stdout=types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr("chainrule.cli.explain.sys", terminal)
    result = run("explain", "x*x", "--at", "x=1")
    assert_one_line(result, "rich", "cli")
    assert "explain in a terminal" in result.output


def test_digits_in_python_without_scikit_learn_names_the_extra(without):
    without("sklearn")
    with pytest.raises(MissingExtraError, match=r"pip install 'chainrule\[datasets\]'"):
        cr.data.load_dataset("digits")


def test_steps_plot_without_matplotlib_refuses_before_any_work(without, tmp_path):
    without("matplotlib")
    plot = tmp_path / "steps.png"
    result = run("steps", "exp(x)", "--at", "x=1", "--plot", str(plot))
    assert_one_line(result, "matplotlib", "cli")
    assert "steps --plot" in result.output and not plot.exists()


def test_steps_plot_in_python_without_matplotlib_names_the_extra(without, tmp_path):
    sweep = steps.sweep(lambda x: cr.exp(x), {"x": 1.0})
    without("matplotlib")
    with pytest.raises(MissingExtraError, match=r"pip install 'chainrule\[cli\]'"):
        steps.plot(sweep, tmp_path / "steps.png")
    assert not (tmp_path / "steps.png").exists()


def test_train_without_matplotlib_refuses_before_training_and_writes_no_folder(without, tmp_path):
    without("matplotlib")
    out = tmp_path / "run"
    result = run("train", "--epochs", "2", "--out", str(out))
    assert_one_line(result, "matplotlib", "cli")
    assert "training" not in result.output and not out.exists()


def test_train_without_matplotlib_still_trains_when_nothing_is_saved(without):
    without("matplotlib")
    result = run("train", "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert "the 4 XOR points" in result.output


@pytest.mark.parametrize("command", [["train", "--epochs", "2"], ["evaluate", "model.npz"]])
def test_train_and_evaluate_without_rich_say_so_first(without, command):
    without("rich")
    result = run(*command)
    assert_one_line(result, "rich", "cli")


def test_train_json_needs_no_rich(without):
    without("rich")
    result = run("train", "--epochs", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.output.lstrip().startswith("{")


def test_digits_without_scikit_learn_names_the_datasets_extra(without, tmp_path):
    without("sklearn")
    out = tmp_path / "run"
    result = run("train", "--data", "digits", "--out", str(out))
    assert_one_line(result, "scikit-learn", "datasets")
    assert not out.exists()


def test_to_sympy_without_sympy_names_the_sympy_extra(without):
    without("sympy")
    with pytest.raises(MissingExtraError, match=r"needs sympy.*pip install 'chainrule\[sympy\]'"):
        cr.symbolic.to_sympy("x*log(x)")


def test_graph_without_the_graphviz_package_works(without, tmp_path):
    """Writing DOT text needs no Python package: the explainer writes it directly."""
    without("graphviz")
    target = tmp_path / "g.dot"
    result = run("explain", "x*x", "--at", "x=1", "--graph", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("digraph")


@pytest.mark.parametrize(
    ("command", "shown"),
    [(["explain", "x*x", "--at", "x=1"], "Evaluation trace"), (["explain-net", "--seed", "0"], "")],
)
def test_graph_in_a_picture_format_without_dot_refuses_before_any_work(
    monkeypatch, tmp_path, command, shown
):
    monkeypatch.setattr("chainrule.cli.explain.shutil.which", lambda name: None)
    target = tmp_path / "g.png"
    result = run(*command, "--graph", str(target))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith("Error: --graph")
    assert "`dot` program" in result.output and f"--graph {tmp_path / 'g.dot'}" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--workers", "2", "--epochs", "1"],
        ["train", "--cluster", "tcp://127.0.0.1:8786", "--epochs", "1"],
        ["sweep", "sweep.toml"],
    ],
)
def test_distributed_training_without_dask_names_the_distributed_extra(without, command):
    without("distributed", "dask")
    result = run(*command)
    assert_one_line(result, "distributed", "distributed")
    assert "training" not in result.output


def test_the_distributed_modules_import_without_dask():
    """Dask is imported only when a cluster is used: a fresh interpreter without it imports
    chainrule.distributed and the sweep command."""
    script = BLOCKER + textwrap.dedent(
        """
        sys.meta_path.insert(0, Missing(("distributed", "dask")))
        import chainrule.distributed, chainrule.cli.app
        print(sorted(chainrule.cli.app.main.commands))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "'sweep'" in result.stdout and "'train'" in result.stdout
