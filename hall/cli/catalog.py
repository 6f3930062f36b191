"""``hall catalog``: the service catalog checked and written as YAML or CSV. It needs no database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hall.kernel.errors import SettingsError


def convert_catalog(args: argparse.Namespace) -> None:
    """Import and export of the service catalog: read YAML or CSV, refuse it unless it is sound (the
    checks the server makes at start), write it in the form asked for. The server reads the YAML
    form (HALL_CATALOG); the CSV form is for editing in a spreadsheet."""

    from cases.catalog_io import CatalogFormatError, dump_csv, dump_yaml, load_csv
    from hall.runtime import load_catalog

    if args.file and Path(args.file).suffix.lower() == ".csv":
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{args.file} cannot be read: {exc}") from None
        try:
            loaded = load_csv(text)
        except CatalogFormatError as exc:
            raise SettingsError(f"{args.file} is not a catalog: {exc}") from None
        problems = loaded.validate()
        if problems:
            raise SettingsError(f"{args.file} has {len(problems)} problem(s): {problems[0]}")
        catalog = loaded
    else:
        catalog = load_catalog(Path(args.file) if args.file else None)
    written = dump_csv(catalog) if args.to == "csv" else dump_yaml(catalog)
    if args.out:
        # With a byte-order mark, a spreadsheet opens the CSV's Chinese as such.
        Path(args.out).write_text(written, encoding="utf-8-sig" if args.to == "csv" else "utf-8")
        print(f"hall: {len(catalog)} service items written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(written)
