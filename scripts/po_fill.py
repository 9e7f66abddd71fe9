"""Fill empty msgstr entries of a .po file from a JSON dictionary {msgid: msgstr}.

Usage: python scripts/po_fill.py locale/vi/LC_MESSAGES/django.po translations.json
Prints the msgids still untranslated. Keeps existing translations; plural forms get the same text.
"""

import json
import re
import sys
from pathlib import Path


def unquote(lines):
    return "".join(json.loads(line[line.index('"') :]) for line in lines if line.strip())


def quote(text):
    return json.dumps(text, ensure_ascii=False)


def main(po_path, json_path):
    table = json.loads(Path(json_path).read_text(encoding="utf-8"))
    blocks = Path(po_path).read_text(encoding="utf-8").split("\n\n")
    plurals = re.search(r"nplurals=(\d+)", blocks[0])
    nplurals = int(plurals.group(1)) if plurals else 2
    missing = []
    out = []
    for block in blocks:
        lines = block.split("\n")
        keys = [
            i
            for i, line in enumerate(lines)
            if re.match(r"^(msgid|msgid_plural|msgstr(\[\d\])?) ", line)
        ]
        if not keys:
            out.append(block)
            continue
        parts = {}
        for n, start in enumerate(keys):
            end = keys[n + 1] if n + 1 < len(keys) else len(lines)
            name = lines[start].split(" ", 1)[0]
            parts[name] = (
                start,
                end,
                unquote([lines[start].split(" ", 1)[1], *lines[start + 1 : end]]),
            )
        msgid = parts["msgid"][2]
        if not msgid:
            out.append(block)
            continue
        targets = [k for k in parts if k.startswith("msgstr")]
        targets = [k for k in targets if not k.startswith("msgstr[") or int(k[7:-1]) < nplurals]
        if all(parts[k][2] for k in targets):
            out.append(block)
            continue
        text = table.get(msgid)
        if text is None:
            missing.append(msgid)
            out.append(block)
            continue
        head = lines[: parts[targets[0]][0]]
        head = [line for line in head if line != "#, fuzzy"]
        out.append("\n".join(head + [f"{k} {quote(text)}" for k in targets]))
    Path(po_path).write_text("\n\n".join(out), encoding="utf-8")
    for msgid in missing:
        print("untranslated:", msgid)


if __name__ == "__main__":
    main(*sys.argv[1:])
