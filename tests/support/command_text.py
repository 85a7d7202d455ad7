"""Text for ``/ally`` commands: what members could type, weighted towards the words the ledger
parser reads, for property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from handlers.ledger import commands as lc

# Words that mean something to the parser, so random commands often get deep into it.
TOKENS = [
    "<@U2>",
    "<@U3|bob>",
    "<@U4|Kathy Ito>",
    "<@U1>",
    "<@UBOTX>",
    "<@UGONE|gone>",
    "<@UNOPE>",
    "<@W9ABC|x>",
    '"Dana Lee (Acme)"',
    "“Ola Nordmann”",
    '"Dana Lee"',
    '""',
    '"',
    "“",
    "<@",
    "<#C1|general>",
    "for",
    "to",
    "and",
    "every",
    "3",
    "0",
    "99999",
    "١٢",
    "weeks",
    "week",
    "days",
    "banana",
    "above",
    "below",
    "peer",
    "strategic",
    "operational",
    "developmental",
    "alliance",
    "connection",
    ",",
    "\x00",
    "\n",
    "ß" * 150,
]


token_text = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)), max_size=12).map(
    " ".join
)


any_text = st.one_of(st.text(max_size=300), token_text, st.text(min_size=990, max_size=1100))


SUBCOMMAND_NAMES = list(lc.SUBCOMMANDS)
