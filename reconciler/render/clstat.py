"""A cluster's status in linuxha.net's clstat layout: a title, a table of nodes, a table of applications.

`clstat` (the seed's layout, column for column), `reconciler status` and `lab simulate` show these
same three parts, each with its own columns: each fills a `ClstatTable` and `render_clstat_table`
lays it out. Headings are literal (clstat's do not sit over their columns), and every cell carries
its own width, because clstat's rows do not share theirs (a DOWN row's N/A columns are narrower
than a started row's values).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ClstatCell:
    text: str
    width: int = 0  # padded on the right to this many characters; 0 for the last column


@dataclass(frozen=True)
class ClstatRow:
    cells: tuple[ClstatCell, ...]
    notes: tuple[str, ...] = ()  # whole lines printed under the row


@dataclass(frozen=True)
class ClstatSection:
    heading: str
    rows: tuple[ClstatRow, ...]
    indent: str = ""  # before every row
    separator: str = ""  # between cells

    def lines(self) -> list[str]:
        out = [self.heading]
        for row in self.rows:
            out.append(
                self.indent
                + self.separator.join(f"{c.text:<{c.width}}" if c.width else c.text for c in row.cells)
            )
            out += row.notes
        return out


@dataclass(frozen=True)
class ClstatTable:
    title: str
    nodes: ClstatSection
    applications: ClstatSection


def clstat_row(*cells: tuple[object, int], notes: tuple[str, ...] = ()) -> ClstatRow:
    """A row from (value, width) pairs; a width of 0 leaves the value as it is."""
    return ClstatRow(tuple(ClstatCell(str(text), width) for text, width in cells), notes)


def render_clstat_table(table: ClstatTable) -> str:
    return "\n".join([table.title, "", *table.nodes.lines(), "", *table.applications.lines()])
