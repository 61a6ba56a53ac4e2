"""The python code blocks of one README section, for the tests that run the README's examples."""

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def readme_blocks(heading: str) -> list[str]:
    """The ```python blocks between ``heading`` (a full heading line, e.g. "## Cross-validation") and the next
    level-2 heading."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading + "\n"):]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)
