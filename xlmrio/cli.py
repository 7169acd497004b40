"""Command line: ``xlmrio demo``, ``xlmrio run WORKBOOK COMMAND``, ``xlmrio addin …``.

Bad input ends with exit code 2 and one readable line on stderr (never a traceback); the input
workbook is never modified (results go to a new file).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
import zipfile
from pathlib import Path

from .errors import XlmrioError

EXIT_BAD_INPUT = 2


def _listing() -> list[tuple[str, str]]:
    # the registry's declared metadata: listing the commands imports neither them nor pandas
    from .excel.registry import listing

    return listing()


def _option_flags(parser: argparse.ArgumentParser) -> None:
    from .excel.settings import OPTIONS

    grp = parser.add_argument_group("options (override the workbook's Settings sheet)")
    for o in OPTIONS:
        extra = f" [{'|'.join(o.choices)}]" if o.choices else ""
        grp.add_argument(f"--{o.name.replace('_', '-')}", dest=f"opt_{o.name}", metavar=o.kind.upper(),
                         help=f"{o.help}{extra}".replace("%", "%%"))  # argparse %-formats help


def build_parser() -> argparse.ArgumentParser:
    cmds = _listing()
    width = max(len(name) for name, _ in cmds) if cmds else 8
    listing = "\n".join(f"  {name:<{width}}  {help}" for name, help in cmds)
    p = argparse.ArgumentParser(
        prog="xlmrio",
        description="Environmentally-extended MRIO analysis on Excel workbooks (runs without Excel on .xlsx files).",
        epilog=f"workbook commands (xlmrio run WORKBOOK COMMAND):\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"xlmrio {__version__}")
    sub = p.add_subparsers(dest="action", metavar="{demo,run,commands,addin,lite}")
    d = sub.add_parser("demo", help="build the demo workbook from bundled real data and run every command on it")
    d.add_argument("--out", default="xlmrio-demo.xlsx", help="output workbook (default: %(default)s)")
    r = sub.add_parser("run", help="run one command on a workbook; the input file is never modified",
                       epilog=f"commands:\n{listing}", formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("workbook", help="input .xlsx workbook")
    r.add_argument("command", help="command name (see the list below)")
    r.add_argument("--out", help="output workbook (default: <input>-<command>.xlsx beside the input)")
    _option_flags(r)
    sub.add_parser("commands", help="list the workbook commands")
    a = sub.add_parser("addin", help="build, install or uninstall the Excel ribbon add-in")
    a.add_argument("what", choices=["build", "install", "uninstall"])
    a.add_argument("--out", help="where to write xlmrio.xlam (build; default: ./xlmrio.xlam)")
    li = sub.add_parser("lite", help="write main.py and requirements.txt for xlwings Lite")
    li.add_argument("--out", default="xlwings-lite", help="output folder (default: %(default)s)")
    li.add_argument("--wheel-url", help="address from which xlwings Lite downloads the xlmrio wheel "
                    "(default: a placeholder line to replace)")
    return p


def _print_progress(msg: str) -> None:
    print(f"  {msg}", flush=True)


def _import_xlwings():
    """``import xlwings``, without the optional matplotlib support it loads at import when installed.

    xlwings imports matplotlib (about 1 s) only to accept figures in ``pictures.add``, which no command
    uses; matplotlib is not an xlmrio dependency (pymrio brings it). It is hidden only while xlwings
    loads, and only when nothing has imported it yet; ``import matplotlib`` works as usual afterwards.
    """
    if "xlwings" in sys.modules or "matplotlib" in sys.modules:
        import xlwings
        return xlwings
    sys.modules["matplotlib"] = None  # makes ``import matplotlib`` raise ImportError, which xlwings expects
    try:
        import xlwings
    finally:
        if "matplotlib" in sys.modules and sys.modules["matplotlib"] is None:
            del sys.modules["matplotlib"]
    return xlwings


def _run(args) -> int:
    xw = _import_xlwings()

    from .excel import engine
    from .excel.registry import get

    src = Path(args.workbook)
    if not src.exists():
        raise XlmrioError(f"workbook {str(src)!r} does not exist")
    if src.suffix.lower() not in (".xlsx", ".xlsm"):
        raise XlmrioError(f"workbook {src.name!r}: xlmrio reads .xlsx/.xlsm files")
    cmd = get(args.command)
    out = Path(args.out) if args.out else src.with_name(f"{src.stem}-{cmd.name}.xlsx")
    if out.resolve() == src.resolve():
        raise XlmrioError("--out is the input workbook; xlmrio never modifies its input: choose another file")
    if not out.resolve().parent.is_dir():
        raise XlmrioError(f"--out {str(out)!r}: the folder {str(out.resolve().parent)!r} does not exist")
    if out.suffix.lower() not in (".xlsx", ".xlsm"):
        raise XlmrioError(f"--out {out.name!r}: write an .xlsx (or .xlsm) file")
    from .excel.settings import OPTIONS

    options = {o.name: getattr(args, f"opt_{o.name}") for o in OPTIONS if getattr(args, f"opt_{o.name}") is not None}
    engine.use()
    t0 = time.perf_counter()
    print(f"xlmrio: {cmd.name} on {src}", flush=True)
    book = xw.Book(str(src))
    try:
        names = cmd.func(book, **options)
        book.save(str(out))
    finally:
        book.close()
    print(f"xlmrio: wrote {', '.join(names or [])} to {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


def _demo(args) -> int:
    _import_xlwings()
    from .excel.demo import build_demo

    t0 = time.perf_counter()
    print("xlmrio demo: building the demo workbook (WIOD 2002/2007, 8 regions x 17 sectors, JRC CO2)", flush=True)
    out = build_demo(args.out)
    print(f"xlmrio demo: done in {time.perf_counter() - t0:.1f} s; open {out}")
    return 0


def _addin(args) -> int:
    from .excel import addin

    if args.what == "build":
        path = addin.addin_build(args.out or "xlmrio.xlam")
        print(f"xlmrio: built the add-in {path}")
    elif args.what == "install":
        addin.addin_install()
    else:
        removed = addin.addin_uninstall()
        print(f"xlmrio: removed {removed}" if removed else "xlmrio: the add-in was not installed")
    return 0


def _lite(args) -> int:
    from .excel import lite

    paths = lite.write_lite(args.out, wheel_url=args.wheel_url)
    print("xlmrio: wrote " + ", ".join(str(p) for p in paths))
    if not args.wheel_url:
        print(f"xlmrio: put {lite.wheel_name()} where Excel can download it and replace the placeholder "
              f"line in {paths[1]} with its address (or rerun with --wheel-url URL)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xlmrio`` command."""
    from .excel.progress import add_listener

    parser = build_parser()
    args = parser.parse_args(argv)
    add_listener(_print_progress)
    # numpy's floating-point warnings (e.g. "overflow encountered in reduce" for a cell of 1e308) would
    # print before the one-line error that already names the cell; stderr carries that line only.
    warnings.filterwarnings("ignore", message="(overflow|invalid value|divide by zero) encountered",
                            category=RuntimeWarning)
    try:
        if args.action == "demo":
            return _demo(args)
        if args.action == "run":
            return _run(args)
        if args.action == "commands":
            from .excel.registry import CATALOGUE

            for name, (_module, label, _group, _image, help) in CATALOGUE.items():
                print(f"{name:<14} {label:<20} {help}")
            return 0
        if args.action == "addin":
            return _addin(args)
        if args.action == "lite":
            return _lite(args)
        parser.print_help()
        return 0
    except XlmrioError as exc:
        print(f"xlmrio: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (zipfile.BadZipFile, OSError) as exc:
        print(f"xlmrio: error: cannot read or write the workbook: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("xlmrio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
