"""Informational-interview questions: the bank from the seeds (``bank``), choosing three for a
person and the member's focus of inquiry (``service``)."""
