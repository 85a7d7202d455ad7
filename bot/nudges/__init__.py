"""The weekly DM: who is due and what it says (``planning``, ``weekly_person``), its Block Kit
(``message``), what members change (``settings``), sending it exactly once (``delivery``), the
in-process ``scheduler`` and ``ally-bot nudges`` (``cli``)."""
