#!/usr/bin/env python3
"""Checks the API reference that Doxygen extracted from zerobus.h (its XML output) against the
header itself:

    check_api_reference.py XML_DIR HEADER

- Every declaration's documentation is the comment right above it (or the /**< comment on its
  line). Doxygen attaches a /** */ comment to the next declaration however far below it is, and
  merges it with that declaration's own comment: a section's introduction written as a plain
  /** */ block becomes the brief of whatever follows it. So the brief Doxygen gives each
  declaration must be the first sentence of its own comment.
- Every declaration belongs to a section (a Doxygen group), and every section has an
  introduction.
- Every ZB_API function of the header is in the reference, so that the checks above cannot pass
  on a reference that lost declarations.

Prints each problem with the header's file and line, and exits with 1 if there is any."""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Preprocessor lines that may stand between a comment and the macro it documents: ZB_API is
# defined once per branch of an #if, and Doxygen reads the branch it takes.
CONDITIONAL = re.compile(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b")


def text_of(element):
    return "".join(element.itertext()).strip() if element is not None else ""


def letters(text):
    """Only the letters and digits, lower-cased: Doxygen drops Markdown and reflows the text."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def comment_above(lines, line, name):
    """The text of the /** */ comment that ends right above 1-based `line`, where `name` is
    declared, or of the /**< comment on that line; None when there is none."""
    other_branch = re.compile(r"\s*#\s*define\s+%s\b" % re.escape(name))
    here = lines[line - 1]
    if "/**<" in here:
        return here.split("/**<", 1)[1].split("*/", 1)[0]
    end = line - 2
    while end >= 0 and (CONDITIONAL.match(lines[end]) or other_branch.match(lines[end])):
        end -= 1
    if end < 0 or not lines[end].rstrip().endswith("*/"):
        return None
    start = end
    while start >= 0 and "/**" not in lines[start]:
        start -= 1
    if start < 0:
        return None
    block = "\n".join(lines[start:end + 1])
    block = block.split("/**", 1)[1].rsplit("*/", 1)[0]
    # The brief is taken from the text before the first command (@param, @return, ...).
    return re.split(r"[@\\][a-z]+\b", block, maxsplit=1)[0]


def main(xml_dir, header):
    xml_dir = Path(xml_dir)
    lines = Path(header).read_text().splitlines()
    name = Path(header).name
    problems = []

    def problem(line, message):
        problems.append("%s:%s: %s" % (header, line, message))

    compounds = {}
    for path in xml_dir.glob("*.xml"):
        if path.name in ("index.xml", "Doxyfile.xml"):
            continue
        for compound in ET.parse(path).getroot().iter("compounddef"):
            compounds[compound.get("id")] = compound
    files = [c for c in compounds.values() if c.get("kind") == "file" and c.findtext("compoundname") == name]
    if len(files) != 1:
        sys.exit("%s: Doxygen's XML has no file %s" % (xml_dir, name))
    the_file = files[0]
    structs = [compounds[ref.get("refid")] for ref in the_file.iter("innerclass")]
    groups = [c for c in compounds.values() if c.get("kind") == "group"]

    # A typedef of a struct is located at its closing brace; its comment is above the struct.
    struct_start = {}
    for struct in structs:
        location = struct.find("location")
        struct_start[int(location.get("bodyend"))] = int(location.get("bodystart"))

    # Each declaration: (what, refid, 1-based line, Doxygen's brief).
    declarations = []
    for member in the_file.iter("memberdef"):
        line = int(member.find("location").get("line"))
        line = struct_start.get(line, line)
        declarations.append((member.findtext("name"), member.get("id"), line,
                             text_of(member.find("briefdescription"))))
    for struct in structs:
        declarations.append((struct.findtext("compoundname"), struct.get("id"),
                             int(struct.find("location").get("line")),
                             text_of(struct.find("briefdescription"))))
        for field in struct.iter("memberdef"):
            declarations.append((struct.findtext("compoundname") + "." + field.findtext("name"),
                                 None, int(field.find("location").get("line")),
                                 text_of(field.find("briefdescription"))))

    declarations.sort(key=lambda declaration: declaration[2])
    for what, _, line, brief in declarations:
        comment = comment_above(lines, line, what.split(".")[-1])
        if comment is None:
            problem(line, "%s has no comment right above it%s" % (
                what, ", yet Doxygen documents it with \"%s\"" % brief if brief else ""))
        elif not letters(brief) or not letters(comment).startswith(letters(brief)):
            problem(line, "%s is documented by Doxygen as \"%s\", not by the comment right "
                    "above it: a comment further up (a section's introduction?) landed on it; "
                    "put a section's text in its @defgroup" % (what, brief))

    in_a_group = set()
    for group in groups:
        if not text_of(group.find("briefdescription")):
            problem("?", "the section \"%s\" has no introduction" % group.findtext("title"))
        in_a_group.update(member.get("id") for member in group.iter("memberdef"))
        in_a_group.update(ref.get("refid") for ref in group.iter("innerclass"))
    for what, refid, line, _ in declarations:
        if refid is not None and refid not in in_a_group:
            problem(line, "%s is in no section: declare it between a @defgroup's @{ and @}" % what)

    functions = {member.findtext("name") for member in the_file.iter("memberdef")
                 if member.get("kind") == "function"}
    for number, text in enumerate(lines, 1):
        declared = re.match(r"ZB_API .*?\b(zb_[a-z0-9_]+)\(", text)
        if declared and declared.group(1) not in functions:
            problem(number, "%s is missing from Doxygen's reference" % declared.group(1))

    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("%d problems in the API reference of %s" % (len(problems), name), file=sys.stderr)
        return 1
    print("%s: %d declarations in %d sections, each documented by its own comment" %
          (name, len(declarations), len(groups)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_api_reference.py XML_DIR HEADER")
    sys.exit(main(sys.argv[1], sys.argv[2]))
