"""Assemble the saved workbook: openpyxl's package for what changed, the input's parts for the rest.

openpyxl writes the workbook with every unparsed worksheet (stub) as an empty sheet; that package has
the right ``workbook.xml`` (sheet order, names, print titles, active tab), styles, content types and
the new/changed sheets. :func:`splice` then puts each stub's original worksheet part in place of its
empty stand-in, copying the compressed bytes from the input zip as they are (no inflate, no
re-deflate), together with its relationships and what they point to (drawings, charts, pictures,
comments, printer settings: copied under a free name when openpyxl used the original one) and the
input's shared-string table, which openpyxl does not write (it writes inline strings).
"""
from __future__ import annotations

import io
import posixpath
import re
import struct
import xml.etree.ElementTree as ET
import zipfile

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_TAB_SELECTED = re.compile(rb'(<sheetView\b[^>]*?)\s+tabSelected=["\'](?:1|true)["\']')


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(owner: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(owner), target))


def _free_name(part: str, taken: set) -> str:
    if part not in taken:
        return part
    stem, ext = posixpath.splitext(part)
    k = 1
    while f"{stem}_{k}{ext}" in taken:
        k += 1
    return f"{stem}_{k}{ext}"


class _ContentTypes:
    def __init__(self, xml: bytes):
        ET.register_namespace("", CT_NS)
        self.root = ET.fromstring(xml)
        self.defaults = {e.get("Extension").lower(): e.get("ContentType")
                         for e in self.root if e.tag == f"{{{CT_NS}}}Default"}
        self.overrides = {e.get("PartName"): e.get("ContentType")
                          for e in self.root if e.tag == f"{{{CT_NS}}}Override"}

    def of(self, part: str) -> str | None:
        ct = self.overrides.get("/" + part)
        if ct is None:
            ct = self.defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())
        return ct

    def add(self, part: str, ct: str) -> None:
        if self.of(part) == ct:
            return
        ET.SubElement(self.root, f"{{{CT_NS}}}Override", PartName="/" + part, ContentType=ct)
        self.overrides["/" + part] = ct

    def to_bytes(self) -> bytes:
        return ET.tostring(self.root, xml_declaration=True, encoding="UTF-8")


def _rels_tree(xml: bytes):
    ET.register_namespace("", REL_NS)
    return ET.fromstring(xml)


def copy_raw(zin: zipfile.ZipFile, info: zipfile.ZipInfo, zout: zipfile.ZipFile, name: str) -> None:
    """Copy one member's compressed bytes into ``zout`` under ``name`` (no inflate/deflate)."""
    fp = zin.fp
    fp.seek(info.header_offset)
    header = fp.read(30)
    if header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    n, m = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + n + m)
    data = fp.read(info.compress_size)
    zi = zipfile.ZipInfo(name, date_time=info.date_time)
    zi.compress_type = info.compress_type
    zi.CRC, zi.compress_size, zi.file_size = info.CRC, info.compress_size, info.file_size
    zi.external_attr = info.external_attr
    zi.flag_bits = info.flag_bits & ~0x08 & ~0x800  # sizes are in the header; FileHeader sets utf-8
    zi.header_offset = zout.fp.tell()
    zout.fp.write(zi.FileHeader())
    zout.fp.write(data)
    zout.filelist.append(zi)
    zout.NameToInfo[name] = zi
    zout.start_dir = zout.fp.tell()
    zout._didModify = True


def splice(written: bytes, src: bytes, stubs: list[tuple[str, str, bool]], keep_styles: bool) -> bytes:
    """The final package from openpyxl's output ``written`` and the input workbook ``src``.

    Parameters
    ----------
    written : bytes
        The workbook as openpyxl wrote it (stubs as empty sheets).
    src : bytes
        The input workbook.
    stubs : list of (part in ``written``, part in ``src``, unselect)
        Worksheets to take from the input; ``unselect`` drops ``tabSelected`` from their sheet view
        (another sheet is active now).
    keep_styles : bool
        Copy the input's ``styles.xml`` (no style was added in the session, so cell style indices
        are the same in both).
    """
    zw = zipfile.ZipFile(io.BytesIO(written))
    zs = zipfile.ZipFile(io.BytesIO(src))
    ct_src = _ContentTypes(zs.read("[Content_Types].xml"))
    ct_out = _ContentTypes(zw.read("[Content_Types].xml"))
    written_names = set(zw.namelist())
    src_names = set(zs.namelist())
    taken = set(written_names)
    replaced = {new for new, _, _ in stubs}
    replaced |= {rels_path(new) for new in replaced}
    deps: dict[str, str] = {}          # input part -> output part of copied dependencies
    rel_files: dict[str, bytes] = {}   # output rels part -> bytes

    def rewrite_rels(owner_src: str, owner_out: str) -> None:
        rp = rels_path(owner_src)
        if rp not in src_names:
            return
        root = _rels_tree(zs.read(rp))
        for rel in root:
            if rel.get("TargetMode") == "External":
                continue
            target = _resolve(owner_src, rel.get("Target", ""))
            if target not in src_names:
                continue
            rel.set("Target", posixpath.relpath(copy_dep(target), posixpath.dirname(owner_out)))
        rel_files[rels_path(owner_out)] = ET.tostring(root, xml_declaration=True, encoding="UTF-8")

    def copy_dep(part: str) -> str:
        out = deps.get(part)
        if out is None:
            out = deps[part] = _free_name(part, taken)
            taken.add(out)
            ct = ct_src.of(part)
            if ct is not None:
                ct_out.add(out, ct)
            rewrite_rels(part, out)
        return out

    for new, orig, _ in stubs:
        rewrite_rels(orig, new)

    # the shared-string table the copied sheets index into
    wb_rels_name = "xl/_rels/workbook.xml.rels"
    wb_rels = None
    sst_src = None
    if stubs:
        src_wb = _src_workbook_part(zs)
        src_rels = rels_path(src_wb)
        if src_rels in src_names:
            for rel in _rels_tree(zs.read(src_rels)):
                if rel.get("Type") == SST_TYPE:
                    sst_src = _resolve(src_wb, rel.get("Target", ""))
        if sst_src in src_names:
            root = _rels_tree(zw.read(wb_rels_name))
            if not any(rel.get("Type") == SST_TYPE for rel in root):
                sst_out = _free_name("xl/sharedStrings.xml", taken)
                taken.add(sst_out)
                deps[sst_src] = sst_out
                ids = {rel.get("Id") for rel in root}
                k = 1
                while f"rIdSst{k}" in ids:
                    k += 1
                ET.SubElement(root, f"{{{REL_NS}}}Relationship", Id=f"rIdSst{k}", Type=SST_TYPE,
                              Target=posixpath.relpath(sst_out, "xl"))
                wb_rels = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
                ct_out.add(sst_out, SST_CT)

    styles_src = None
    if keep_styles:
        styles_src = _src_styles_part(zs)

    out = io.BytesIO()
    stub_src = {new: (orig, unselect) for new, orig, unselect in stubs}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zo:
        for info in zw.infolist():
            name = info.filename
            if name in stub_src:
                orig, unselect = stub_src[name]
                if unselect and _has_tab_selected(zs, orig):
                    _copy_unselected(zs, orig, zo, name)
                else:
                    copy_raw(zs, zs.getinfo(orig), zo, name)
            elif name in replaced:
                continue
            elif name == "[Content_Types].xml":
                continue  # written last, after every addition
            elif name == wb_rels_name and wb_rels is not None:
                zo.writestr(_info(name, info), wb_rels)
            elif name == "xl/styles.xml" and styles_src in src_names:
                copy_raw(zs, zs.getinfo(styles_src), zo, name)
            else:
                copy_raw(zw, info, zo, name)
        for orig, new in deps.items():
            copy_raw(zs, zs.getinfo(orig), zo, new)
        for name, data in rel_files.items():
            zo.writestr(_info(name), data)
        zo.writestr(_info("[Content_Types].xml"), ct_out.to_bytes())
    return out.getvalue()


def _info(name: str, like: zipfile.ZipInfo | None = None) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=like.date_time if like is not None else (1980, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def _copy_unselected(zs: zipfile.ZipFile, part: str, zo: zipfile.ZipFile, name: str) -> None:
    """Copy a worksheet part without ``tabSelected`` in its sheet view (another tab is active now, and two
    selected tabs would open as a sheet group). Streams the part; only this member is compressed again,
    with a fast level."""
    zi = _info(name, zs.getinfo(part))
    zi._compresslevel = 1
    with zs.open(part) as src, zo.open(zi, "w", force_zip64=zs.getinfo(part).file_size > (1 << 31)) as dst:
        head = src.read(1 << 16)
        dst.write(_TAB_SELECTED.sub(rb"\1", head, count=1))
        while True:
            chunk = src.read(1 << 22)
            if not chunk:
                break
            dst.write(chunk)


def _has_tab_selected(zs: zipfile.ZipFile, part: str) -> bool:
    with zs.open(part) as fh:
        head = fh.read(8192)
    return _TAB_SELECTED.search(head) is not None


def _src_workbook_part(zs: zipfile.ZipFile) -> str:
    root = _rels_tree(zs.read("_rels/.rels"))
    for rel in root:
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    return "xl/workbook.xml"


def _src_styles_part(zs: zipfile.ZipFile) -> str | None:
    wb = _src_workbook_part(zs)
    rp = rels_path(wb)
    if rp not in zs.namelist():
        return None
    for rel in _rels_tree(zs.read(rp)):
        if rel.get("Type", "").endswith("/styles"):
            return _resolve(wb, rel.get("Target", ""))
    return None
