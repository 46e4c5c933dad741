"""REFI-QDA projects (``.qdpx``): the exchange format NVivo, ATLAS.ti, MAXQDA and others export.

A ``.qdpx`` is a zip holding ``project.qde`` (XML in the namespace ``urn:QDA-XML:project:1.0``)
and the sources' text under ``sources/``. We read, with the standard library only:

- ``CodeBook/Codes/Code`` (nested; ``guid``, ``name``): the code hierarchy, a top-level code
  being a theme;
- ``Sources/TextSource`` with ``PlainTextContent`` or ``plainTextPath="internal://…"`` and its
  ``PlainTextSelection`` (``startPosition``/``endPosition``, character offsets, end exclusive)
  each with ``Coding/CodeRef targetGUID``: the coded segments;
- ``Cases/Case`` (``name`` = participant code) with ``SourceRef`` (its interviews) and
  ``VariableValue`` (``VariableRef`` to a ``Variables/Variable``, a typed value): role, country …

:func:`write_qdpx` writes such a project (deterministic bytes): the example study's and the
tests' projects.
"""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import polars as pl

from collabscope.errors import UserInputError

NS = "urn:QDA-XML:project:1.0"
_Q = f"{{{NS}}}"
_VALUE_TAGS = (
    "TextValue",
    "BooleanValue",
    "IntegerValue",
    "FloatValue",
    "DateValue",
    "DateTimeValue",
)
SEGMENT_SCHEMA = {
    "segment_id": pl.String,
    "file": pl.String,
    "location": pl.String,
    "line": pl.Int64,
    "participant": pl.String,
    "question": pl.String,
    "code": pl.String,
    "parent": pl.String,
    "excerpt": pl.String,
}


@dataclass(frozen=True)
class QdpxProject:
    """What a project holds for us: segments (SEGMENT_SCHEMA), the code tree (code, parent)
    and the cases' variables (participant, variable, value)."""

    segments: pl.DataFrame
    codes: pl.DataFrame
    variables: pl.DataFrame


def _fail(path: Path, problem: str) -> UserInputError:
    return UserInputError(str(path), problem)


def _describe(element: ET.Element) -> str:
    tag = element.tag.removeprefix(_Q)
    name = element.get("name")
    return f"<{tag} guid={element.get('guid')!r}{f' name={name!r}' if name else ''}>"


def _load(path: Path) -> tuple[ET.Element, zipfile.ZipFile]:
    if not path.is_file():
        raise _fail(path, "no such file")
    if not zipfile.is_zipfile(path):
        raise _fail(path, "not a REFI-QDA project: a .qdpx is a zip file, this is not one")
    archive = zipfile.ZipFile(path)
    names = {n.lower(): n for n in archive.namelist()}
    if "project.qde" not in names:
        raise _fail(path, "not a REFI-QDA project: the zip holds no project.qde")
    try:
        root = ET.fromstring(archive.read(names["project.qde"]))
    except ET.ParseError as error:
        line, column = error.position
        raise UserInputError(
            f"{path} (project.qde)", f"bad XML at column {column}: {error.msg}", line=line
        ) from None
    if root.tag != f"{_Q}Project":
        raise _fail(
            path,
            f"project.qde: root element is {root.tag!r}, not a Project in namespace {NS}",
        )
    return root, archive


def _codes(root: ET.Element, path: Path) -> tuple[dict[str, str], list[tuple[str, str | None]]]:
    """guid -> name, and (name, parent name) in document order."""
    names: dict[str, str] = {}
    seen: dict[str, ET.Element] = {}
    tree: list[tuple[str, str | None]] = []

    def walk(element: ET.Element, parent: str | None) -> None:
        for code in element.findall(f"{_Q}Code"):
            guid, name = code.get("guid"), (code.get("name") or "").strip()
            if not guid or not name:
                raise _fail(path, f"project.qde: {_describe(code)} has no guid or no name")
            if guid in names:
                raise _fail(
                    path, f"project.qde: duplicate code guid {guid} ({names[guid]!r}, {name!r})"
                )
            if name in seen:
                raise _fail(
                    path,
                    f"project.qde: duplicate code {name!r}: {_describe(seen[name])} and "
                    f"{_describe(code)} (code names must be unique; rename one)",
                )
            names[guid], seen[name] = name, code
            tree.append((name, parent))
            walk(code, name)

    codes = root.find(f"{_Q}CodeBook/{_Q}Codes")
    if codes is not None:
        walk(codes, None)
    return names, tree


def _target(element: ET.Element, tag: str) -> str:
    """The targetGUID of the element's child ``tag`` (``CodeRef``, ``VariableRef``), or ''."""
    ref = element.find(f"{_Q}{tag}")
    return ref.get("targetGUID", "") if ref is not None else ""


def _variables(root: ET.Element) -> dict[str, str]:
    return {
        v.get("guid", ""): (v.get("name") or "").strip()
        for v in root.iterfind(f"{_Q}Variables/{_Q}Variable")
    }


def _text(source: ET.Element, archive: zipfile.ZipFile, path: Path) -> str:
    content = source.find(f"{_Q}PlainTextContent")
    if content is not None:
        return content.text or ""
    ref = source.get("plainTextPath")
    if not ref:
        raise _fail(
            path, f"project.qde: {_describe(source)} has neither PlainTextContent nor plainTextPath"
        )
    if not ref.startswith("internal://"):
        raise _fail(
            path,
            f"project.qde: {_describe(source)} plainTextPath {ref!r} is outside the project; "
            "export the project with its sources embedded",
        )
    member = "sources/" + ref.removeprefix("internal://")
    try:
        raw = archive.read(member)
    except KeyError:
        raise _fail(
            path, f"project.qde: {_describe(source)} refers to {member}, not in the zip"
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(path, f"{member}: not UTF-8 text") from None


def read_qdpx(path: str | Path) -> QdpxProject:
    """Read a ``.qdpx``: every coding of a text selection as one segment."""
    path = Path(path)
    root, archive = _load(path)
    with archive:
        code_names, tree = _codes(root, path)
        parents = dict(tree)
        variable_names = _variables(root)
        source_case: dict[str, str] = {}
        variables: list[tuple[str, str, str]] = []
        for case in root.iterfind(f"{_Q}Cases/{_Q}Case"):
            name = (case.get("name") or "").strip()
            if not name:
                raise _fail(
                    path, f"project.qde: {_describe(case)} has no name (the participant code)"
                )
            for ref in case.iterfind(f"{_Q}SourceRef"):
                target = ref.get("targetGUID", "")
                if source_case.get(target, name) != name:
                    raise _fail(
                        path,
                        f"project.qde: source {target} belongs to two cases, "
                        f"{source_case[target]!r} and {name!r}",
                    )
                source_case[target] = name
            for value in case.iterfind(f"{_Q}VariableValue"):
                target = _target(value, "VariableRef")
                if target not in variable_names:
                    raise _fail(
                        path,
                        f"project.qde: {_describe(case)} has a VariableValue with unknown "
                        f"VariableRef {target!r}",
                    )
                found = [value.find(f"{_Q}{tag}") for tag in _VALUE_TAGS]
                text = next((v.text for v in found if v is not None and v.text), None)
                if text is not None:
                    variables.append((name, variable_names[target], text.strip()))
        rows: list[dict[str, object]] = []
        for source in root.iterfind(f"{_Q}Sources/{_Q}TextSource"):
            text = _text(source, archive, path)
            participant = source_case.get(
                source.get("guid", ""), (source.get("name") or "").strip()
            )
            for selection in source.iterfind(f"{_Q}PlainTextSelection"):
                try:
                    start = int(selection.get("startPosition", ""))
                    end = int(selection.get("endPosition", ""))
                except ValueError:
                    raise _fail(
                        path,
                        f"project.qde: {_describe(selection)} has no integer "
                        "startPosition/endPosition",
                    ) from None
                if not 0 <= start < end <= len(text):
                    raise _fail(
                        path,
                        f"project.qde: {_describe(selection)} in {_describe(source)} selects "
                        f"characters {start}-{end}, outside the text ({len(text)} characters)",
                    )
                for coding in selection.iterfind(f"{_Q}Coding"):
                    target = _target(coding, "CodeRef")
                    if target not in code_names:
                        raise _fail(
                            path,
                            f"project.qde: {_describe(selection)} in {_describe(source)} is "
                            f"coded with CodeRef {target!r}, which is no Code of the CodeBook",
                        )
                    code = code_names[target]
                    rows.append(
                        {
                            "segment_id": f"{selection.get('guid')}/{target}",
                            "file": str(path),
                            "location": (
                                f"TextSource {source.get('name')!r} characters {start}-{end}"
                            ),
                            "line": None,
                            "participant": participant,
                            "question": None,
                            "code": code,
                            "parent": parents[code],
                            "excerpt": " ".join(text[start:end].split()),
                        }
                    )
    return QdpxProject(
        segments=pl.DataFrame(rows, schema=SEGMENT_SCHEMA, orient="row"),
        codes=pl.DataFrame(tree, schema={"code": pl.String, "parent": pl.String}, orient="row"),
        variables=pl.DataFrame(
            variables,
            schema={"participant": pl.String, "variable": pl.String, "value": pl.String},
            orient="row",
        ),
    )


# --- writing ------------------------------------------------------------------------------------
@dataclass
class Code:
    name: str
    children: list[Code] = field(default_factory=list)


@dataclass
class Source:
    """An interview transcript of one participant, its selections as (start, end, code name)."""

    name: str
    participant: str
    text: str
    selections: list[tuple[int, int, str]] = field(default_factory=list)


def guid(*parts: str) -> str:
    """A stable GUID (uuid5) for a project element."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "collabscope:" + "/".join(parts)))


def project_xml(
    name: str,
    codes: list[Code],
    sources: list[Source],
    variables: dict[str, dict[str, str]],
    embed: bool = False,
) -> bytes:
    """project.qde for ``codes``, ``sources`` and the cases' ``variables`` (participant ->
    {variable: value}); sources as PlainTextContent when ``embed``, else as internal files."""
    ET.register_namespace("", NS)
    project = ET.Element(f"{_Q}Project", {"name": name, "origin": "collabscope"})
    user = guid(name, "user")
    ET.SubElement(
        ET.SubElement(project, f"{_Q}Users"), f"{_Q}User", {"guid": user, "name": "coder"}
    )
    by_name: dict[str, str] = {}

    def add(parent: ET.Element, code: Code, path: str) -> None:
        by_name[code.name] = guid(name, "code", path, code.name)
        element = ET.SubElement(
            parent,
            f"{_Q}Code",
            {"guid": by_name[code.name], "name": code.name, "isCodable": "true"},
        )
        for child in code.children:
            add(element, child, f"{path}/{code.name}")

    codes_element = ET.SubElement(ET.SubElement(project, f"{_Q}CodeBook"), f"{_Q}Codes")
    for code in codes:
        add(codes_element, code, "")
    variable_names = sorted({v for values in variables.values() for v in values})
    if variable_names:
        holder = ET.SubElement(project, f"{_Q}Variables")
        for variable in variable_names:
            ET.SubElement(
                holder,
                f"{_Q}Variable",
                {
                    "guid": guid(name, "variable", variable),
                    "name": variable,
                    "typeOfVariable": "Text",
                },
            )
    cases = ET.SubElement(project, f"{_Q}Cases")
    participants = sorted({s.participant for s in sources} | set(variables))
    for participant in participants:
        case = ET.SubElement(
            cases, f"{_Q}Case", {"guid": guid(name, "case", participant), "name": participant}
        )
        for variable, value in sorted(variables.get(participant, {}).items()):
            holder = ET.SubElement(case, f"{_Q}VariableValue")
            ET.SubElement(
                holder, f"{_Q}VariableRef", {"targetGUID": guid(name, "variable", variable)}
            )
            ET.SubElement(holder, f"{_Q}TextValue").text = value
        for source in sources:
            if source.participant == participant:
                ET.SubElement(
                    case, f"{_Q}SourceRef", {"targetGUID": guid(name, "source", source.name)}
                )
    holder = ET.SubElement(project, f"{_Q}Sources")
    for source in sources:
        source_guid = guid(name, "source", source.name)
        attributes = {"guid": source_guid, "name": source.name}
        if not embed:
            attributes["plainTextPath"] = f"internal://{source_guid}.txt"
        element = ET.SubElement(holder, f"{_Q}TextSource", attributes)
        if embed:
            ET.SubElement(element, f"{_Q}PlainTextContent").text = source.text
        for i, (start, end, code) in enumerate(source.selections):
            selection = ET.SubElement(
                element,
                f"{_Q}PlainTextSelection",
                {
                    "guid": guid(name, "selection", source.name, str(i)),
                    "startPosition": str(start),
                    "endPosition": str(end),
                    "creatingUser": user,
                },
            )
            coding = ET.SubElement(
                selection,
                f"{_Q}Coding",
                {"guid": guid(name, "coding", source.name, str(i)), "creatingUser": user},
            )
            ET.SubElement(coding, f"{_Q}CodeRef", {"targetGUID": by_name.get(code, code)})
    ET.indent(project)
    return ET.tostring(project, encoding="utf-8", xml_declaration=True)


def write_qdpx(
    path: str | Path,
    name: str,
    codes: list[Code],
    sources: list[Source],
    variables: dict[str, dict[str, str]] | None = None,
    embed: bool = False,
    qde: bytes | None = None,
) -> Path:
    """A ``.qdpx`` (zip, fixed timestamps: the same project gives the same bytes); ``qde``
    replaces the generated project.qde (tests write malformed ones)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    xml = qde if qde is not None else project_xml(name, codes, sources, variables or {}, embed)
    members = [("project.qde", xml)]
    if not embed:
        members += [
            (f"sources/{guid(name, 'source', s.name)}.txt", s.text.encode("utf-8")) for s in sources
        ]
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members:
            info = zipfile.ZipInfo(member, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return path
