"""The ribbon add-in build (customUI, VBA project), install/uninstall, dispatcher and Lite generator.

Independent references: oletools (olevba, MS-OVBA decompression) and olefile (compound files)
parse what xlmrio writes; the xlwings template is the baseline for "changed as little as possible".
"""
from __future__ import annotations

import importlib.util
import os
import random
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from xlmrio.errors import OptionError, XlmrioError
from xlmrio.excel import addin, dispatch, lite, registry
from xlmrio.excel.registry import GROUPS, Command

olefile = pytest.importorskip("olefile", reason="oletools (test extra) provides olefile")
olevba = pytest.importorskip("oletools.olevba", reason="oletools is a test extra")

NS = {"c": addin.CUSTOMUI_NS}
ROOT = Path(__file__).resolve().parents[1]


def _noop(book, **options):
    return None


FAKE = [
    Command("validate", "Validate", "Table", 'Check balances & "labels"', "AcceptInvitation", _noop),
    Command("leontief", "Leontief", "Table", "A, L and multipliers", "TableInsert", _noop),
    Command("accounts", "Accounts", "Accounts", "PBA and CBA", "ChartInsert", _noop),
    Command("update-ras", "RAS", "Update", "Balance by RAS", "TableSharePointListsRefreshList", _noop),
    Command("transfer", "Transfer", "Transfer", "Industrial transfer", "ChartArrowRight", _noop),
    Command("help", "Help", "Settings/Help", "Open the help sheet", "Help", _noop),
]


@pytest.fixture(scope="module")
def template_bin() -> bytes:
    with zipfile.ZipFile(addin.template_path()) as z:
        return z.read("xl/vbaProject.bin")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return addin.build_addin(tmp_path_factory.mktemp("addin") / "xlmrio.xlam", FAKE)


def _ole_streams(data: bytes) -> dict[str, bytes]:
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True, storages=False)}


def _macros(vba_bin: bytes) -> dict[str, str]:
    parser = olevba.VBA_Parser("vbaProject.bin", data=vba_bin)
    return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_all_macros()}


def _strip_attributes(code: str) -> str:
    return "\n".join(l for l in code.replace("\r\n", "\n").split("\n") if not l.startswith("Attribute VB_"))


# ------------------------------------------------------------------ MS-OVBA compression
@pytest.mark.parametrize("kind", ["empty", "text", "repetitive", "random", "long"])
def test_ovba_compression_round_trip_with_oletools(kind):
    rng = random.Random(7)
    data = {
        "empty": b"",
        "text": b"Sub Foo()\r\n    MsgBox \"hello\"\r\nEnd Sub\r\n" * 3,
        "repetitive": b"a" * 5000 + b"abcabcabd" * 700,
        "random": bytes(rng.getrandbits(8) for _ in range(8192)),  # incompressible: raw chunks
        "long": ("\r\n".join(f"    x{i} = y{i % 17} + {i}" for i in range(3000))).encode(),
    }[kind]
    packed = addin.ovba_compress(data)
    assert bytes(olevba.decompress_stream(bytearray(packed))) == data
    assert addin.ovba_decompress(packed) == data
    if kind in ("repetitive", "long"):
        assert len(packed) < len(data) / 2


def test_ovba_decompress_matches_oletools_on_template(template_bin):
    streams = _ole_streams(template_bin)
    ref = bytes(olevba.decompress_stream(bytearray(streams["VBA/dir"])))
    assert addin.ovba_decompress(streams["VBA/dir"]) == ref
    recs = addin.parse_dir(ref)
    assert addin.build_dir(recs) == ref  # the record parser is loss-free


def test_compound_file_rewrite_keeps_every_stream(template_bin):
    cf = addin.CompoundFile(template_bin)
    original = _ole_streams(template_bin)
    rewritten = _ole_streams(cf.tobytes())
    assert rewritten == original


# ------------------------------------------------------------------ the built add-in
def test_zip_package_is_valid_and_complete(built):
    with zipfile.ZipFile(built) as z, zipfile.ZipFile(addin.template_path()) as t:
        assert z.testzip() is None
        assert sorted(z.namelist()) == sorted(t.namelist())
        for name in t.namelist():
            if name not in ("xl/vbaProject.bin", "customUI/customUI.xml", "xl/workbook.xml"):
                assert z.read(name) == t.read(name), name
        assert b'name="_xlmrio.conf"' in z.read("xl/workbook.xml")
        assert b"_myaddin" not in z.read("xl/workbook.xml")


def test_customui_tags_match_registry(built):
    with zipfile.ZipFile(built) as z:
        root = ET.fromstring(z.read("customUI/customUI.xml"))
    tabs = root.findall(".//c:tab", NS)
    assert [t.get("label") for t in tabs] == ["MRIO"]
    groups = root.findall(".//c:group", NS)
    used = [g for g in GROUPS if any(c.group == g for c in FAKE)]
    assert [g.get("label") for g in groups] == used
    buttons = root.findall(".//c:button", NS)
    by_tag = {b.get("tag"): b for b in buttons}
    assert sorted(by_tag) == sorted(c.name for c in FAKE) and len(buttons) == len(FAKE)
    for c in FAKE:
        b = by_tag[c.name]
        assert b.get("label") == c.label and b.get("screentip") == c.label
        assert b.get("supertip") == c.help and b.get("imageMso") == c.image
        assert b.get("onAction") == "xlmrio_Ribbon.OnMrioButton"
    for g in groups:  # each button sits in its command's group
        for b in g.findall("c:button", NS):
            assert next(c for c in FAKE if c.name == b.get("tag")).group == g.get("label")
    assert root.get("onLoad") == "xlmrio_Ribbon.OnMrioRibbonLoad"
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_vba_source_reads_back_with_olevba(built, template_bin):
    with zipfile.ZipFile(built) as z:
        vba = z.read("xl/vbaProject.bin")
    got = _macros(vba)
    ref = _macros(template_bin)
    assert set(got) == set(ref) - {"RibbonMyAddin"} | {"xlmrio_Ribbon"}
    assert _strip_attributes(got["xlmrio_Ribbon"]).strip() == \
        _strip_attributes(addin.ribbon_module_source()).strip()
    src = got["xlmrio_Ribbon"]
    assert "RunPython \"import xlmrio.excel.dispatch as d; d.run('\" & control.Tag & \"')\"" in src
    for name in ("MRIO_A", "MRIO_LEONTIEF", "MRIO_FOOTPRINT", "MRIO_FLOWS", "MRIO_RAS", "MRIO_GRAS"):
        assert f"Function {name}(" in src and f"'!{name}\"" in src
    for mod in ("Dictionary", "ThisWorkbook", "Sheet2"):
        assert got[mod] == ref[mod]
    diff = [(a, b) for a, b in zip(ref["xlwings"].splitlines(), got["xlwings"].splitlines()) if a != b]
    assert diff == [('Public Const PROJECT_NAME As String = "myaddin"',
                     'Public Const PROJECT_NAME As String = "xlmrio"')]


def test_binary_changes_are_minimal(built, template_bin):
    with zipfile.ZipFile(built) as z:
        vba = z.read("xl/vbaProject.bin")
    new, old = _ole_streams(vba), _ole_streams(template_bin)
    changed = {k for k in old if new.get(k) != old[k]}
    assert changed == {"VBA/RibbonMyAddin", "VBA/dir", "VBA/xlwings", "PROJECT", "PROJECTwm"}
    assert set(new) - set(old) == {"VBA/xlmrio_Ribbon"}
    assert new["VBA/_VBA_PROJECT"][2:4] == b"\xff\xff"  # version 0xFFFF: Office compiles from source
    # dir: only the project name and the ribbon module's names and offset differ
    rd = addin.parse_dir(bytes(olevba.decompress_stream(bytearray(old["VBA/dir"]))))
    nd = addin.parse_dir(bytes(olevba.decompress_stream(bytearray(new["VBA/dir"]))))
    assert len(rd) == len(nd)
    diffs = [(a[0], a[1], b[1]) for a, b in zip(rd, nd) if a != b]
    assert [d[0] for d in diffs] == [0x0004, 0x0019, 0x0047, 0x001A, 0x0032, 0x0031]
    assert diffs[-1][2] == b"\x00\x00\x00\x00"  # MODULEOFFSET 0: source-only module
    assert [m["name"] for m in addin.dir_modules(nd)] == \
        ["ThisWorkbook", "Dictionary", "xlmrio_Ribbon", "Sheet2", "xlwings"]
    assert b'Name="xlmrio"' in new["PROJECT"] and b"Module=xlmrio_Ribbon\r\n" in new["PROJECT"]
    assert new["PROJECT"].replace(b"xlmrio_Ribbon", b"RibbonMyAddin").replace(b'"xlmrio"', b'"MyAddin"') \
        == old["PROJECT"]
    # the new module stream is the compressed source alone (offset 0)
    src = bytes(olevba.decompress_stream(bytearray(new["VBA/xlmrio_Ribbon"]))).decode("cp1252")
    assert src == addin.ribbon_module_source()


def test_bad_command_names_are_refused():
    bad = [Command("bad'name", "Bad", "Table", "x", "Help", _noop)]
    with pytest.raises(XlmrioError, match="ribbon tag"):
        addin.customui_xml(bad)
    with pytest.raises(XlmrioError, match="no commands"):
        addin.customui_xml([])


def test_verify_detects_tag_mismatch(built):
    with pytest.raises(XlmrioError, match="do not match"):
        addin.verify_addin(built, FAKE[:-1])


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed; CI installs it for this check")
def test_libreoffice_imports_the_vba_project(built, tmp_path):
    """LibreOffice opens the add-in (its type detection refuses the add-in content type, so the
    VBA-enabled OOXML filter is named) and imports the VBA project: converting to .ods keeps the
    modules as Basic libraries, so their text shows what LibreOffice parsed from vbaProject.bin."""
    import html

    profile = (tmp_path / "lo-profile").as_uri()
    proc = subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--norestore",
                           "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "ods", "--outdir",
                           str(tmp_path / "out"), str(built)], timeout=300, capture_output=True, text=True)
    out = tmp_path / "out" / "xlmrio.ods"
    assert out.exists(), proc.stdout + proc.stderr
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        ribbon = html.unescape(z.read("Basic/xlmrio/xlmrio_Ribbon.xml").decode("utf-8"))
        xlw = html.unescape(z.read("Basic/xlmrio/xlwings.xml").decode("utf-8"))
    assert {"Basic/xlmrio/Dictionary.xml", "Basic/xlmrio/ThisWorkbook.xml", "Basic/xlmrio/Sheet2.xml"} <= set(names)
    assert "RunPython \"import xlmrio.excel.dispatch as d; d.run('\" & control.Tag & \"')\"" in ribbon
    assert ribbon.count("Function MRIO_") == len(addin.udf_specs())
    assert 'PROJECT_NAME As String = "xlmrio"' in xlw


def _real_registry_available() -> bool:
    return importlib.util.find_spec("xlmrio.excel.commands") is not None


@pytest.mark.skipif(not _real_registry_available(), reason="xlmrio.excel.commands does not exist yet")
def test_build_with_real_registry(tmp_path):
    path = addin.build_addin(tmp_path / "xlmrio.xlam")
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("customUI/customUI.xml"))
    tags = sorted(b.get("tag") for b in root.findall(".//c:button", NS))
    assert tags == sorted(c.name for c in registry.commands())
    checked_in = ROOT / "workbook_templates" / "ribbon" / "customUI.xml"
    assert checked_in.read_text(encoding="utf-8") == addin.customui_xml(), \
        "regenerate with: python -m xlmrio.excel.addin customui workbook_templates/ribbon/customUI.xml"


# ------------------------------------------------------------------ install / uninstall
def test_install_and_uninstall_windows(built, tmp_path):
    env = {"APPDATA": str(tmp_path / "Roaming"), "USERPROFILE": str(tmp_path / "user")}
    target = addin.install(built, platform="win32", home=tmp_path, environ=env,
                           executable=r"C:\Py\python.exe", excel=True)
    assert target == tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "xlmrio.xlam"
    assert target.read_bytes() == built.read_bytes()
    conf = tmp_path / "user" / ".xlmrio" / "xlmrio.conf"
    assert conf.read_text() == '"INTERPRETER_WIN","C:\\Py\\python.exe"\n"USE UDF SERVER","True"\n'
    assert addin.uninstall(platform="win32", home=tmp_path, environ=env, excel=True) == target
    assert not target.exists() and not conf.exists()
    assert addin.uninstall(platform="win32", home=tmp_path, environ=env, excel=True) is None


MAC_OFFICE = "Library/Group Containers/UBF8T346G9.Office"


def test_install_macos_paths(built, tmp_path):
    """No startup folder yet and Excel not asked: Office's documented User Content/Startup/Excel."""
    target = addin.install(built, platform="darwin", home=tmp_path, environ={},
                           executable="/opt/py/bin/python", excel=True)
    assert target == tmp_path / MAC_OFFICE / "User Content/Startup/Excel" / "xlmrio.xlam"
    conf = tmp_path / "Library/Containers/com.microsoft.Excel/Data/xlmrio.conf"
    assert conf.read_text() == '"INTERPRETER_MAC","/opt/py/bin/python"\n'
    assert list((tmp_path / "Library/Application Scripts/com.microsoft.Excel").glob("xlwings-*.applescript"))


@pytest.mark.parametrize("existing, expected", [
    ("User Content.localized/Startup.localized/Excel", "User Content.localized/Startup.localized/Excel"),
    ("User Content.localized", "User Content.localized/Startup.localized/Excel"),   # Excel makes Startup later
    ("User Content/Startup/Excel", "User Content/Startup/Excel"),
])
def test_macos_startup_folder_variants(built, tmp_path, existing, expected):
    """Many Macs use the .localized names: the add-in goes where Excel looks (fake home)."""
    (tmp_path / MAC_OFFICE / existing).mkdir(parents=True)
    (tmp_path / MAC_OFFICE / "User Content/Startup").mkdir(parents=True, exist_ok=True) \
        if existing.endswith(".localized/Excel") else None   # a stale plain folder must not win
    assert addin.startup_dir("darwin", tmp_path, {}, ask_excel=False) == tmp_path / MAC_OFFICE / expected
    target = addin.install(built, platform="darwin", home=tmp_path, environ={}, executable="/py", excel=True)
    assert target == tmp_path / MAC_OFFICE / expected / "xlmrio.xlam" and target.exists()


def test_macos_asks_excel_when_no_folder_exists(tmp_path, monkeypatch):
    monkeypatch.setattr(addin, "_mac_startup_from_excel", lambda: tmp_path / "from-excel")
    assert addin.startup_dir("darwin", tmp_path, {}, ask_excel=True) == tmp_path / "from-excel"


def test_windows_config_in_the_ansi_code_page(built, tmp_path):
    """The VBA reads xlmrio.conf in the ANSI code page: C:\\Users\\José must arrive as José, not JosÃ©."""
    env = {"APPDATA": str(tmp_path / "Roaming"), "USERPROFILE": str(tmp_path / "José")}
    exe = r"C:\Users\José\xlmrio-env\Scripts\python.exe"
    addin.install(built, platform="win32", home=tmp_path, environ=env, executable=exe, excel=True,
                  prefix=tmp_path / "venv")
    raw = (tmp_path / "José" / ".xlmrio" / "xlmrio.conf").read_bytes()
    assert raw == b'"INTERPRETER_WIN","C:\\Users\\Jos\xe9\\xlmrio-env\\Scripts\\python.exe"\n' \
        b'"USE UDF SERVER","True"\n'
    assert raw.decode("cp1252").splitlines()[0] == f'"INTERPRETER_WIN","{exe}"'
    assert "Ã" not in raw.decode("cp1252")
    # macOS keeps UTF-8 (as xlwings writes it there)
    assert addin.encode_config(['"INTERPRETER_MAC","/Users/José/py"\n'], "darwin") == \
        '"INTERPRETER_MAC","/Users/José/py"\n'.encode("utf-8")


def test_windows_config_path_outside_the_code_page_is_a_clear_error():
    with pytest.raises(XlmrioError, match="code page"):
        addin.encode_config(['"INTERPRETER_WIN","C:\\Users\\张伟\\env\\python.exe"\n'], "win32")


def _conda_env(tmp_path, name="mrio"):
    prefix = tmp_path / "miniconda3" / "envs" / name
    (prefix / "conda-meta").mkdir(parents=True)
    return prefix, {"CONDA_DEFAULT_ENV": name, "CONDA_EXE": r"C:\miniconda3\Scripts\conda.exe",
                    "CONDA_PREFIX": str(prefix)}


def test_conda_settings_only_for_condas_own_python(tmp_path):
    prefix, env = _conda_env(tmp_path)
    lines, warnings = addin.interpreter_config("win32", str(prefix / "python.exe"), env, prefix)
    assert lines == ['"CONDA PATH","C:\\miniconda3"\n', '"CONDA ENV","mrio"\n'] and warnings == []


def test_venv_inside_active_conda_uses_the_venv_and_warns(tmp_path):
    """The issue's case: conda's base active, xlmrio installed into an activated venv."""
    _, env = _conda_env(tmp_path, "base")
    venv = tmp_path / "xlmrio-env"
    venv.mkdir()
    exe = str(venv / "Scripts" / "python.exe")
    lines, warnings = addin.interpreter_config("win32", exe, env, venv)
    assert lines == [f'"INTERPRETER_WIN","{exe}"\n']
    assert len(warnings) == 1 and "'base'" in warnings[0] and exe in warnings[0]


def test_other_conda_env_than_the_active_one_uses_the_running_python(tmp_path):
    prefix, env = _conda_env(tmp_path, "mrio")
    other, _ = _conda_env(tmp_path, "other")
    exe = str(other / "python.exe")
    lines, warnings = addin.interpreter_config("win32", exe, env, other)
    assert lines == [f'"INTERPRETER_WIN","{exe}"\n'] and "different conda environment" in warnings[0]


def test_plain_python_without_conda_no_warning(tmp_path):
    lines, warnings = addin.interpreter_config("win32", r"C:\Py\python.exe", {}, tmp_path)
    assert lines == ['"INTERPRETER_WIN","C:\\Py\\python.exe"\n'] and warnings == []
    lines, warnings = addin.interpreter_config("darwin", "/opt/py/bin/python", {}, tmp_path)
    assert lines == ['"INTERPRETER_MAC","/opt/py/bin/python"\n'] and warnings == []


def test_ribbon_click_without_workbook_or_python_never_ends_in_a_vba_error(built):
    """Runtime error 91 (no workbook) and RunPython errors become message boxes: the button callback
    checks ActiveWorkbook first and traps every other error (read back with olevba)."""
    src = addin.ribbon_module_source()
    body = src[src.index("Sub OnMrioButton"):src.index("End Sub", src.index("Sub OnMrioButton"))]
    guard, trap, run = (body.index("If ActiveWorkbook Is Nothing Then"), body.index("On Error GoTo failed"),
                        body.index("RunPython"))
    assert guard < trap < run
    assert "Exit Sub" in body[guard:trap] and "MsgBox" in body[guard:trap]
    assert "failed:" in body[run:] and "Err.Description" in body[run:] and "MsgBox" in body[run:]
    parser = olevba.VBA_Parser(str(built))
    codes = {name: code for _, _, name, code in parser.extract_macros()}
    parser.close()
    module = next(c for n, c in codes.items() if "xlmrio_Ribbon" in n)
    assert "If ActiveWorkbook Is Nothing Then" in module and "On Error GoTo failed" in module


def test_install_without_excel_says_so(built):
    with pytest.raises(XlmrioError, match="no Excel installation was found") as err:
        addin.install(built, platform="linux", excel=False)
    assert str(built.resolve()) in str(err.value)
    with pytest.raises(XlmrioError, match="no Excel installation"):
        addin.uninstall(platform="linux")


# ------------------------------------------------------------------ dispatcher
class _App:
    def __init__(self):
        self.alerts, self.status = [], []

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append((prompt, title, mode))

    @property
    def status_bar(self):
        return self.status[-1] if self.status else False

    @status_bar.setter
    def status_bar(self, value):
        self.status.append(value)


@pytest.fixture
def fake_registry(monkeypatch):
    calls = []

    def ok(book, **options):
        calls.append(book)

    def fails(book, **options):
        raise OptionError("unknown satellite 'SO2'; known: CO2")

    def crashes(book, **options):
        raise ZeroDivisionError("division by zero")

    reg = {c.name: c for c in [Command("ok", "Fine", "Table", "h", "Help", ok),
                               Command("fails", "Accounts", "Accounts", "h", "Help", fails),
                               Command("crashes", "Crash", "Table", "h", "Help", crashes)]}
    monkeypatch.setattr(registry, "REGISTRY", reg)
    monkeypatch.setattr(registry, "_load_commands", lambda: None)
    return calls


def test_dispatch_runs_command_and_restores_status_bar(fake_registry):
    book = types.SimpleNamespace(app=_App())
    assert dispatch.run("ok", book=book) is True
    assert fake_registry == [book]
    assert book.app.status == ["xlmrio: Fine…", False] and book.app.alerts == []


def test_dispatch_alerts_readable_message(fake_registry):
    book = types.SimpleNamespace(app=_App())
    assert dispatch.run("fails", book=book) is False
    (msg, title, mode), = book.app.alerts
    assert msg == "Accounts: unknown satellite 'SO2'; known: CO2" and title == "xlmrio" and mode == "critical"
    assert book.app.status[-1] is False


def test_dispatch_unexpected_error_has_no_traceback(fake_registry):
    book = types.SimpleNamespace(app=_App())
    assert dispatch.run("crashes", book=book) is False
    msg = book.app.alerts[0][0]
    assert "ZeroDivisionError: division by zero" in msg and "Traceback" not in msg
    assert "Traceback" in dispatch.LAST_ERROR_FILE.read_text()


def test_dispatch_unknown_tag(fake_registry):
    book = types.SimpleNamespace(app=_App())
    assert dispatch.run("nope", book=book) is False
    assert "unknown command 'nope'" in book.app.alerts[0][0] and "ok" in book.app.alerts[0][0]


def test_progress_without_excel_is_silent():
    dispatch.progress(object(), "working")  # no .app: nothing happens, nothing raised


# ------------------------------------------------------------------ xlwings Lite
def test_lite_main_exposes_commands_and_udfs(tmp_path, fake_registry):
    paths = lite.write_lite(tmp_path, FAKE)
    main = (tmp_path / "main.py").read_text()
    compile(main, "main.py", "exec")
    req = [ln for ln in (tmp_path / "requirements.txt").read_text().splitlines() if not ln.startswith("#")]
    assert req[0].endswith(lite.wheel_name()) and {"numpy", "scipy", "pandas", "openpyxl"} <= set(req)
    assert "highspy" not in req and "xlwings" not in req and "xlmrio" not in req   # Lite cannot / need not
    lite.write_lite(tmp_path, FAKE, wheel_url="https://example.org/w/" + lite.wheel_name())
    assert "https://example.org/w/" + lite.wheel_name() in (tmp_path / "requirements.txt").read_text()
    assert paths == [tmp_path / "main.py", tmp_path / "requirements.txt"]

    # run main.py against a recording stand-in for xlwings Lite's decorators
    scripts, funcs = {}, {}
    fake_xw = types.ModuleType("xlwings")
    fake_xw.Book = object
    fake_xw.script = lambda f: scripts.setdefault(f.__name__, f)
    fake_xw.func = lambda f: funcs.setdefault(f.__name__, f)
    fake_xw.arg = lambda name, *a, **k: (lambda f: f)
    ns: dict = {}
    saved = sys.modules["xlwings"]
    sys.modules["xlwings"] = fake_xw
    try:
        exec(compile(main, "main.py", "exec"), ns)
    finally:
        sys.modules["xlwings"] = saved
    assert sorted(scripts) == sorted(lite._py_name(c.name) for c in FAKE)
    from xlmrio.excel import udfs

    assert sorted(funcs) == sorted(f.__name__ for f in udfs.UDFS)
    Z = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([[10.0, 10.0]])
    np.testing.assert_allclose(funcs["MRIO_LEONTIEF"](Z, x), np.linalg.inv(np.eye(2) - Z / 10.0))
    # a script routes through the dispatcher; a failing command raises one readable sentence
    monkey_cmd = {"help": Command("help", "Help", "Settings/Help", "h", "Help",
                                  lambda b: (_ for _ in ()).throw(OptionError("no Settings sheet")))}
    registry.REGISTRY.update(monkey_cmd)
    with pytest.raises(RuntimeError, match="Help: no Settings sheet"):
        scripts["mrio_help"](types.SimpleNamespace())


def test_addin_install_says_where_everything_went_and_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(addin, "default_build_path", lambda: tmp_path / "build" / "xlmrio.xlam")
    monkeypatch.setattr(addin, "build_addin", lambda p: p)
    monkeypatch.setattr(addin, "install", lambda built: tmp_path / "XLSTART" / "xlmrio.xlam")
    monkeypatch.setattr(addin, "interpreter_config",
                        lambda: (['"INTERPRETER_WIN","C:\\\\env\\\\python.exe"\n'], ["conda environment 'base' ..."]))
    said = []
    assert addin.addin_install(said.append) == tmp_path / "XLSTART" / "xlmrio.xlam"
    text = "\n".join(said)
    assert str(tmp_path / "XLSTART" / "xlmrio.xlam") in text and "INTERPRETER_WIN" in text
    assert "warning: conda environment 'base'" in text and "again" in said[-1]
